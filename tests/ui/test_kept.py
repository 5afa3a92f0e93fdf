"""ui.kept: what a rerun of the chat page's conversation fragment does not send again, and where it
must still send. Real ForwardMsg protos go through a real :class:`ui.kept.Kept`; the run's queue
is a list (what Streamlit would send to the browser, in order)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

from ui.kept import Kept, _Shown

ROOT = (0, 5)  # the fragment's container
FRAGMENT = "conversation"


@dataclass
class Run:
    """One script run's queue: what reaches the browser."""

    sent: list[ForwardMsg] = field(default_factory=list)
    script_requests: ScriptRequests = field(default_factory=ScriptRequests)  # the clicks waiting for the run

    def enqueue(self, msg: ForwardMsg) -> None:
        self.sent.append(msg)


def _delta(path: tuple[int, ...]) -> ForwardMsg:
    msg = ForwardMsg()
    msg.metadata.delta_path[:] = list(path)
    msg.delta.fragment_id = FRAGMENT  # Streamlit stamps every delta drawn inside the fragment
    return msg


def text(path: tuple[int, ...], body: str) -> ForwardMsg:
    msg = _delta(path)
    msg.delta.new_element.markdown.body = body
    return msg


def thumbs(path: tuple[int, ...]) -> ForwardMsg:
    msg = _delta(path)
    msg.delta.new_element.feedback.id = f"thumbs-{path}"
    return msg


def message_block(path: tuple[int, ...]) -> ForwardMsg:
    msg = _delta(path)
    msg.delta.add_block.chat_message.name = "assistant"
    return msg


def row_block(path: tuple[int, ...]) -> ForwardMsg:
    msg = _delta(path)
    msg.delta.add_block.flex_container.direction = 1
    return msg


# the fragment's container as the full run sent it (ui.kept.watch records it)
FRAME = (ROOT, message_block(ROOT).delta.add_block.SerializeToString())


def run(
    shown: _Shown,
    msgs: list[ForwardMsg],
    *,
    fragment_run: bool = True,
    ended: bool = True,
    frame: bool = False,
    clicked: bool = False,
    plain: bool = True,
) -> list[ForwardMsg]:
    """Send ``msgs`` drawn inside ``Kept.plain`` (``plain=False``: outside it, as the welcome is) in
    one run; what went to the browser. ``clicked``: a click inside the fragment came while the run
    went on (its rerun waits for the run's end)."""
    queue = Run()
    kept = Kept(queue, shown, fragment_run, ROOT, FRAGMENT, FRAME if frame else None)
    with kept.plain() if plain else contextlib.nullcontext():
        for msg in msgs:
            kept(msg)
            if clicked:
                queue.script_requests.request_rerun(RerunData(fragment_id=FRAGMENT))
    kept.close(ended)
    return queue.sent


def answer() -> list[ForwardMsg]:
    """A stored answer: its chat message, its text, a footer row with thumbs and figures."""
    return [
        message_block((0, 5, 0)),
        text((0, 5, 0, 0), "Five meetings this week."),
        row_block((0, 5, 0, 1)),
        thumbs((0, 5, 0, 1, 0)),
        text((0, 5, 0, 1, 1), "3.5k in · 170 out tokens"),
    ]


def paths(sent: list[ForwardMsg]) -> list[tuple[int, ...]]:
    return [tuple(m.metadata.delta_path) for m in sent]


def test_a_rerun_sends_only_the_blocks_and_widgets_of_an_answer_the_page_shows() -> None:
    shown = _Shown()
    first = run(shown, answer(), fragment_run=False)
    assert len(first) == 5
    assert [m.delta.fragment_id for m in first] == ["", "", "", FRAGMENT, FRAGMENT]  # thumbs keep the id
    again = run(shown, answer())
    # the footer's figures went with the id (after thumbs drawn at a new place): sent once more
    assert paths(again) == [(0, 5, 0), (0, 5, 0, 1), (0, 5, 0, 1, 0), (0, 5, 0, 1, 1)]
    third = run(shown, answer())
    assert paths(third) == [(0, 5, 0), (0, 5, 0, 1), (0, 5, 0, 1, 0)]


def test_a_changed_text_is_sent_again() -> None:
    shown = _Shown()
    run(shown, answer(), fragment_run=False)
    run(shown, answer())
    changed = answer()
    changed[1] = text((0, 5, 0, 0), "Six meetings this week.")
    sent = run(shown, changed)
    assert (0, 5, 0, 0) in paths(sent)


def test_a_kept_text_no_longer_drawn_is_emptied_where_its_block_stays() -> None:
    shown = _Shown()
    run(shown, answer(), fragment_run=False)
    run(shown, answer())
    without_text = [m for m in answer() if tuple(m.metadata.delta_path) != (0, 5, 0, 1, 1)]
    sent = run(shown, without_text)
    emptied = [m for m in sent if m.delta.new_element.WhichOneof("type") == "empty"]
    assert paths(emptied) == [(0, 5, 0, 1, 1)]
    assert emptied[0].delta.fragment_id == FRAGMENT  # the page drops it at the next rerun


def test_a_block_drawn_with_another_type_takes_its_children_with_it() -> None:
    shown = _Shown()
    run(shown, answer(), fragment_run=False)
    run(shown, answer())
    replaced = answer()
    replaced[0] = row_block((0, 5, 0))  # another block type in the answer's place: the page empties it
    sent = run(shown, replaced)
    assert (0, 5, 0, 0) in paths(sent)


def test_after_a_run_cut_short_nothing_is_left_unsent() -> None:
    shown = _Shown()
    run(shown, answer(), fragment_run=False)
    run(shown, answer(), ended=False)  # a click interrupted it: what reached the page is unknown
    sent = run(shown, answer())
    assert (0, 5, 0, 0) in paths(sent)


def test_nothing_goes_without_the_id_after_a_widget_at_a_new_place() -> None:
    """A run cut short by a click loses its queued messages that carry the fragment's id and keeps
    the others: text after a new widget, sent without the id, could land where the page has no
    element before it (the page then stops drawing)."""
    shown = _Shown()
    sent = run(shown, [row_block((0, 5, 0)), thumbs((0, 5, 0, 0)), text((0, 5, 0, 1), "figures")])
    assert [m.delta.fragment_id for m in sent] == ["", FRAGMENT, FRAGMENT]


def test_with_the_frame_a_rerun_sends_nothing_the_page_shows() -> None:
    """The frame: the fragment's container goes again without the id, so the page keeps what the
    run does not send, and an answer drawn the same in the same place is not sent at all (a send in
    a long session sent every earlier answer's blocks and thumbs again)."""
    shown = _Shown()
    run(shown, answer(), fragment_run=False)
    run(shown, answer(), frame=True)  # the footer's figures go once more without the id
    sent = run(shown, answer(), frame=True)
    assert paths(sent) == [ROOT]
    assert sent[0].delta.WhichOneof("type") == "add_block" and not sent[0].delta.fragment_id


def test_with_the_frame_what_is_no_longer_drawn_is_emptied_by_the_run() -> None:
    shown = _Shown()
    run(shown, answer(), fragment_run=False)
    run(shown, answer(), frame=True)
    without_footer = [m for m in answer() if tuple(m.metadata.delta_path)[:4] != (0, 5, 0, 1)]
    sent = run(shown, without_footer, frame=True)
    emptied = [m for m in sent if m.delta.new_element.WhichOneof("type") == "empty"]
    assert paths(emptied) == [(0, 5, 0, 1)]  # the row, which takes its thumbs and figures with it
    assert paths(run(shown, without_footer, frame=True)) == [ROOT]  # emptied once


def test_with_the_frame_below_a_block_sent_with_the_id_everything_is_sent() -> None:
    """The page drops what a block sent with the id holds and was not sent again."""
    shown = _Shown()
    run(shown, [row_block((0, 5, 1)), text((0, 5, 1, 0), "figures")], fragment_run=False)
    run(shown, [row_block((0, 5, 1)), text((0, 5, 1, 0), "figures")], frame=True)
    # a widget at a new place before the row: the row goes with the id, and so must its text
    sent = run(shown, [thumbs((0, 5, 0)), row_block((0, 5, 1)), text((0, 5, 1, 0), "figures")], frame=True)
    assert paths(sent) == [ROOT, (0, 5, 0), (0, 5, 1), (0, 5, 1, 0)]
    assert sent[2].delta.fragment_id == FRAGMENT


def test_no_frame_after_a_run_cut_short() -> None:
    shown = _Shown()
    run(shown, answer(), fragment_run=False)
    run(shown, answer(), frame=True, ended=False)  # what reached the page is unknown
    sent = run(shown, answer(), frame=True)
    assert ROOT not in paths(sent) and (0, 5, 0) in paths(sent)  # Streamlit's own container clears


def test_a_run_a_click_waited_for_is_not_trusted() -> None:
    """A click inside the fragment while it runs waits for the run's end, and the rerun it starts
    at once drops what the run still had queued with the id: the thumbs and figures of the answer
    it drew last (after a thumbs click, "Show 1 earlier" clicked at once left the latest answer
    without its footer for good). The run that follows sends them again."""
    shown = _Shown()
    run(shown, answer(), fragment_run=False)
    run(shown, answer(), frame=True)
    run(shown, answer(), frame=True, clicked=True)  # its thumbs may never reach the page
    sent = run(shown, answer(), frame=True)
    assert (0, 5, 0, 1, 0) in paths(sent) and (0, 5, 0, 1, 1) in paths(sent)
    assert paths(run(shown, answer(), frame=True)) == [ROOT]  # then nothing again, as before


def held_run(
    shown: _Shown, drawn_from: str, *, draw_if_not_held: bool = True
) -> tuple[list[ForwardMsg], list[str] | None]:
    """A frame run that opens the answer's block and asks to hold it; draws it when refused."""
    queue = Run()
    kept = Kept(queue, shown, True, ROOT, FRAGMENT, FRAME)
    msgs = answer()
    with kept.plain():
        kept(msgs[0])
        held = kept.hold(drawn_from)
        if held is None and draw_if_not_held:
            for msg in msgs[1:]:
                kept(msg)
            kept.drawn((0, 5, 0), drawn_from)
    kept.close(True)
    return queue.sent, held


def test_an_answer_drawn_from_the_same_is_held_and_its_thumbs_stay_registered() -> None:
    """Holding an answer the browser shows as drawn from the same inputs: nothing inside it is
    drawn or sent, nothing emptied, and its thumbs' id comes back to be kept registered."""
    shown = _Shown()
    run(shown, answer(), fragment_run=False)
    held_run(shown, "turn 0, no feedback")  # drawn whole, and its inputs noted
    sent, held = held_run(shown, "turn 0, no feedback", draw_if_not_held=False)
    assert held == ["thumbs-(0, 5, 0, 1, 0)"]
    assert paths(sent) == [ROOT]  # the frame only: no empty replaced what the run did not draw
    sent, held = held_run(shown, "turn 0, no feedback", draw_if_not_held=False)
    assert held == ["thumbs-(0, 5, 0, 1, 0)"] and paths(sent) == [ROOT]  # and so on, send after send


def test_an_answer_drawn_from_something_else_is_drawn() -> None:
    shown = _Shown()
    run(shown, answer(), fragment_run=False)
    held_run(shown, "turn 0, no feedback")
    _, held = held_run(shown, "turn 0, thumbs up")  # its feedback changed: drawn again
    assert held is None
    _, held = held_run(shown, "turn 0, thumbs up", draw_if_not_held=False)
    assert held == ["thumbs-(0, 5, 0, 1, 0)"]


def test_no_answer_is_held_without_the_frame() -> None:
    shown = _Shown()
    run(shown, answer(), fragment_run=False)
    held_run(shown, "turn 0")
    run(shown, answer(), ended=False)  # cut short: what the browser holds is unknown
    _, held = held_run(shown, "turn 0", draw_if_not_held=False)
    assert held is None


def download(path: tuple[int, ...], file_id: str) -> ForwardMsg:
    """A download button whose file is made on click: Streamlit gives it a new file id every run."""
    msg = _delta(path)
    msg.delta.new_element.download_button.id = f"download-{path}"
    msg.delta.new_element.download_button.deferred_file_id = file_id
    return msg


def prep_card(file_id: str) -> list[ForwardMsg]:
    """A Prep queue card of the welcome (drawn outside ``Kept.plain``: every block goes with the id):
    its title and time, and a row with Prepare and the Materials download."""
    return [
        row_block((0, 5, 0)),
        text((0, 5, 0, 0), "**Weekly Leadership Team Sync**"),
        text((0, 5, 0, 1), "tomorrow at 08:00"),
        row_block((0, 5, 0, 2)),
        thumbs((0, 5, 0, 2, 0)),
        download((0, 5, 0, 2, 1), file_id),
    ]


def test_inside_a_block_the_page_holds_with_the_id_everything_is_sent_again() -> None:
    """Two Materials downloads from a new session's welcome emptied its Prep queue cards (title,
    time, Prepare gone, Materials alone left), and a third blanked the page ("Cannot set a node at
    a delta path"). The download, sent again with a new file id, made the page count the blocks
    above it as this run's, and it dropped every other child of theirs that the run had not sent
    again: the title and time the run had kept as shown."""
    shown = _Shown()
    run(shown, prep_card("a"), fragment_run=False, plain=False)
    run(shown, prep_card("b"), frame=True, plain=False)
    sent = run(shown, prep_card("c"), frame=True, plain=False)
    assert paths(sent) == [ROOT, *paths(prep_card("c"))]
    assert all(m.delta.fragment_id == FRAGMENT for m in sent[1:])


def test_an_answer_drawn_plain_beside_a_block_sent_with_the_id_is_still_kept() -> None:
    """What the frame saves stays saved where nothing carries the id: an earlier answer is not sent
    again beside a welcome-like block that is."""
    shown = _Shown()

    def mixed(fragment_run: bool = True) -> list[ForwardMsg]:
        queue = Run()
        kept = Kept(queue, shown, fragment_run, ROOT, FRAGMENT, FRAME if fragment_run else None)
        with kept.plain():
            for msg in answer():
                kept(msg)
        for msg in (row_block((0, 5, 1)), text((0, 5, 1, 0), "figures")):
            kept(msg)
        kept.close(True)
        return queue.sent

    mixed(fragment_run=False)
    mixed()  # the footer's figures go once more without the id
    assert paths(mixed()) == [ROOT, (0, 5, 1), (0, 5, 1, 0)]
