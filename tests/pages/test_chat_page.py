"""AppTest tests of the chat page: the whole app script, a real store and the offline model."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import assistant.config
from assistant.chat import ChatService
from assistant.config import get_settings
from assistant.factory import get_chat_service
from assistant.models.offline import OfflineModel
from assistant.starters import GENERIC_PROMPTS

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
USER = "test-user-123"


@pytest.fixture
def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    """Build an AppTest of the app with ENV=local, a temp SQLite file and env overrides."""

    def build(timezone: str | None = None, **env: str) -> AppTest:
        monkeypatch.setenv("ENV", "local")
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'chat.db'}")
        monkeypatch.setenv("ASSISTANT_SECRETS_FILE", os.devnull)
        monkeypatch.setenv("MODEL_PROVIDER", "offline")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assistant.config.get_settings.cache_clear()
        at = AppTest.from_file(APP, default_timeout=60)
        if timezone is not None:
            at.context = {"timezone": timezone}  # what the browser reports as st.context.timezone
        at.run()
        assert not at.exception, at.exception
        return at

    yield build
    assistant.config.get_settings.cache_clear()


def _texts(at: AppTest) -> str:
    parts: list[str] = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def _send(at: AppTest, text: str) -> AppTest:
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, key: str) -> Any:
    return at.button(key=key)


def _service() -> Any:
    return get_chat_service(get_settings())


def test_empty_state_welcomes_and_offers_meeting_starters(make_app: Callable[..., AppTest]) -> None:
    at = make_app()
    text = _texts(at)
    assert "Hello, Demo" in text
    assert "offline demo model" in text
    starters = [b.label for b in at.button if b.key and b.key.startswith("starter-")]
    assert 3 <= len(starters) <= 4
    # the meetings the Prep queue does not already show, soonest first, then general questions
    # (how many meetings are left for starters depends on the day: the queue counts working time)
    meeting_starters = [label for label in starters if label.startswith("Prepare me for ")]
    assert starters[: len(meeting_starters)] == meeting_starters, starters
    assert set(starters[len(meeting_starters) :]) <= {prompt for prompt, _icon in GENERIC_PROMPTS}, starters
    assert meeting_starters or any(b.key and b.key.startswith("prep-") for b in at.button), "nothing to prepare"
    assert "session" not in at.query_params


def test_starter_click_sends_it_and_opens_the_session(make_app: Callable[..., AppTest]) -> None:
    at = make_app()
    starter = _button(at, "starter-0")
    label = starter.label
    starter.click().run()
    assert not at.exception
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert at.chat_message[0].markdown[0].value == label
    sid = _sid(at)
    meta = _service().get_session(sid, USER)
    assert meta.turn_count == 1
    assert "Hello, Demo" not in _texts(at)


def test_answer_shows_tool_step_and_cost_footer(make_app: Callable[..., AppTest]) -> None:
    at = _send(make_app(), "Prepare me for the Acme QBR")
    assistant_msg = at.chat_message[1]
    assert any("get_upcoming_meetings" in e.label for e in at.expander)
    footer = " ".join(c.value for c in assistant_msg.caption)
    assert "tokens" in footer and "$0.00 (offline demo model)" in footer and "first token" in footer
    assert any("of $5.00 today" in str(p.proto.text) for p in at.get("progress"))


def test_todays_spend_says_when_the_budget_resets_where_its_day_is_not_the_readers(
    make_app: Callable[..., AppTest],
) -> None:
    """The daily budget's day is a UTC day: in Auckland the sidebar's "$0.00 of $5.00 today" held
    yesterday afternoon's spend and freed up at 13:00 without a word; in London (on UTC) it says nothing more."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    resets = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC).astimezone(ZoneInfo("Pacific/Auckland"))
    at = make_app(timezone="Pacific/Auckland")
    assert f"$0.00 of $5.00 today · resets at {resets:%H:%M}" in next(str(p.proto.text) for p in at.get("progress"))
    at = make_app(timezone="UTC")
    assert next(str(p.proto.text) for p in at.get("progress")).endswith("$0.00 of $5.00 today")


def test_html_in_a_code_sample_reads_as_typed(make_app: Callable[..., AppTest]) -> None:
    """A question holding an HTML sample showed '&lt;div&gt;' in its code block: the escaping meant
    for prose reached the code, where Markdown shows entities as they are. Prose stays escaped."""
    at = _send(make_app(), 'Why does this fail?\n```html\n<div class="x">a</div>\n```\nSee `<br>` and <b>this</b>')
    question = at.chat_message[0].markdown[0].value
    assert '```html\n<div class="x">a</div>\n```' in question
    assert "`<br>`" in question and "&lt;b&gt;this&lt;/b&gt;" in question


def test_without_a_daily_budget_the_spend_is_a_line_not_an_empty_bar(make_app: Callable[..., AppTest]) -> None:
    at = _send(make_app(DAILY_BUDGET_USD="0"), "Prepare me for the Acme QBR")
    assert not at.get("progress")
    assert any("$0.00 today (no daily budget)" in c.value for c in at.sidebar.caption), _texts(at)


def test_session_reopens_from_url_with_steps_and_feedback(make_app: Callable[..., AppTest]) -> None:
    at = _send(make_app(), "Prepare me for the Acme QBR")
    sid = _sid(at)
    _service().set_feedback(sid, USER, 0, 1)
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["session"] = sid
    again.run()
    assert not again.exception
    assert [m.name for m in again.chat_message] == ["user", "assistant"]
    assert any("get_upcoming_meetings" in e.label for e in again.expander)
    feedback = again.get("feedback")
    assert feedback and feedback[0].value == 1
    feedback[0].set_value(0).run()
    assert _service().open_session(sid, USER).turns[0].feedback == -1


def _service_on_the_pages_store(chunk_delay_s: float) -> ChatService:
    """A service writing to the page's store, its offline model streaming a chunk every ``chunk_delay_s``."""
    page_service = _service()
    return ChatService(
        get_settings(),
        page_service.store,
        prices=page_service.prices,
        model_factory=lambda _name: OfflineModel(chunk_delay_s=chunk_delay_s, first_token_delay_s=0),
    )


def _long_session(turns: int) -> str:
    """A session of ``turns`` answers to "How is the budget tracking? (i)", written with no model pacing."""
    fast = _service_on_the_pages_store(0)
    meta = fast.create_session(USER)
    for i in range(turns):
        fast.run_turn(meta.id, USER, f"How is the budget tracking? ({i})")
    return meta.id


def test_long_session_draws_latest_answers_and_loads_earlier_on_request(make_app: Callable[..., AppTest]) -> None:
    at = make_app(MESSAGES_PER_MINUTE="1000")
    at.query_params["session"] = _long_session(27)
    at.run()
    users = [m for m in at.chat_message if m.name == "user"]
    assert len(users) == 10
    assert "(26)" in users[-1].markdown[0].value and "(17)" in users[0].markdown[0].value
    assert "17 earlier answers not shown" in _texts(at)

    at.button(key="show-earlier").click().run()
    assert len([m for m in at.chat_message if m.name == "user"]) == 20
    at.button(key="show-earlier").click().run()  # "Show 7 earlier": the rest
    assert len([m for m in at.chat_message if m.name == "user"]) == 27
    assert not at.get("button") or all(b.key != "show-earlier" for b in at.button)

    # A new answer keeps the whole transcript on screen once it was asked for.
    _send(at, "What is the status of our big rocks?")
    assert len([m for m in at.chat_message if m.name == "user"]) == 28


def test_a_send_after_show_all_on_a_very_long_session_goes_back_to_the_latest_answers(
    make_app: Callable[..., AppTest],
) -> None:
    """Each send redrew every shown answer before its own first word: after "Show all" on a
    155-answer session a send waited 3-4 s in Chromium. Past 30 shown, a send draws the latest 10."""
    at = make_app(MESSAGES_PER_MINUTE="1000")
    at.query_params["session"] = _long_session(35)
    at.run()
    at.button(key="show-all-turns").click().run()
    assert len([m for m in at.chat_message if m.name == "user"]) == 35

    _send(at, "What is the status of our big rocks?")
    users = [m.markdown[0].value for m in at.chat_message if m.name == "user"]
    assert len(users) == 11 and "(25)" in users[0] and "big rocks" in users[-1]
    assert "25 earlier answers not shown" in _texts(at)


def test_thumbs_after_a_send_in_a_long_session_leave_every_shown_answer_in_place(
    make_app: Callable[..., AppTest],
) -> None:
    """A send in a long session shows the latest 10 answers and the new one: the next click on
    that page (thumbs on an answer being read) dropped the top answer, and everything under the
    reader's eyes moved up by one answer (they saw the next answer where they had clicked)."""
    at = make_app(MESSAGES_PER_MINUTE="1000")
    at.query_params["session"] = _long_session(15)
    at.run()
    _send(at, "What is the status of our big rocks?")
    before = [m.markdown[0].value for m in at.chat_message if m.name == "user"]
    assert len(before) == 11 and "(5)" in before[0]

    at.get("feedback")[5].set_value(1).run()
    assert not at.exception
    after = [m.markdown[0].value for m in at.chat_message if m.name == "user"]
    assert after == before
    assert "5 earlier answers not shown" in _texts(at)

    # The next send moves the window on: the latest 10 answers and the new one, as before.
    _send(at, "How much do my meetings cost this week?")
    users = [m.markdown[0].value for m in at.chat_message if m.name == "user"]
    assert len(users) == 11 and "(6)" in users[0] and "meetings cost" in users[-1]


def test_a_continued_session_says_what_it_carries_on_and_opens_it(make_app: Callable[..., AppTest]) -> None:
    """Continue in a new session opened a page like a new session's ("0 answers", the welcome):
    nothing said that the assistant remembered the earlier conversation, nor where it was."""
    at = make_app(MESSAGES_PER_MINUTE="1000")
    earlier = _long_session(3)
    _service().rename(earlier, USER, "Acme renewal")
    _service().complete(earlier, USER)
    later = _service().continue_session(earlier, USER)
    at.query_params["session"] = later.id
    at.run()
    assert "Continues “Acme renewal” (3 answers): the assistant remembers that conversation." in _texts(at)

    _send(at, "What did we say about the budget?")
    assert "Continues “Acme renewal” (3 answers)" in _texts(at), "still said once the new session has answers"
    at.button(key="open-continued-from").click().run()
    assert _sid(at) == earlier
    assert "# Acme renewal" in _texts(at)


def test_a_session_continued_from_a_deleted_one_still_says_so(make_app: Callable[..., AppTest]) -> None:
    at = make_app()
    earlier = _long_session(1)
    _service().complete(earlier, USER)
    later = _service().continue_session(earlier, USER)
    _service().delete(earlier, USER)
    at.query_params["session"] = later.id
    at.run()
    assert not at.exception
    assert "Continues an earlier session, since deleted: the assistant remembers that conversation." in _texts(at)
    assert all(b.key != "open-continued-from" for b in at.button)


def test_a_message_refused_while_another_answer_ended_does_not_say_it_is_still_written(
    make_app: Callable[..., AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent in a second tab as the first tab's answer ended: refused, it read "still being written
    in this tab or another one. Wait for it to finish" under that answer, shown finished."""
    from assistant.chat.events import SessionBusyError

    at = _send(make_app(), "What meetings do I have this week?")
    service = _service()
    slot = service._slots.for_session(_sid(at), USER)
    slot.lock.acquire()  # another tab's answer, which ends as this tab's send is refused
    start_turn = service.start_turn

    def refused_as_the_other_ends(*args: Any, **kwargs: Any) -> Any:
        try:
            return start_turn(*args, **kwargs)
        except SessionBusyError:
            slot.lock.release()
            raise

    monkeypatch.setattr(service, "start_turn", refused_as_the_other_ends)
    _send(at, "How is the budget tracking?")
    text = _texts(at)
    assert "still being written" not in text and "Wait for it to finish" not in text, text
    assert "The other answer is above now: send yours again." in text
    assert at.chat_input[0].value == "How is the budget tracking?"
    assert len([m for m in at.chat_message if m.name == "user"]) == 1


def _stopped_session(question: str) -> str:
    """A session of one answer to "What meetings do I have this week?", then ``question`` stopped mid-answer."""
    from assistant.chat.events import TextDelta

    slow = _service_on_the_pages_store(0.05)
    meta = slow.create_session(USER)
    slow.run_turn(meta.id, USER, "What meetings do I have this week?")
    events = slow.send_sync(meta.id, USER, question)
    for event in events:
        if isinstance(event, TextDelta):
            slow.stop(meta.id)
    assert slow.wait_idle(meta.id, timeout=10)
    assert slow.open_session(meta.id, USER).turns[-1].status == "stopped"
    return meta.id


def test_a_stopped_answer_can_be_asked_again_in_one_click(make_app: Callable[..., AppTest]) -> None:
    """Stop kept what was written; to ask again the question had to be typed again (its note even
    says "Send the question again"). The latest stopped answer offers Ask again."""
    at = make_app(MESSAGES_PER_MINUTE="1000")
    sid = _stopped_session("Prepare me for the Acme QBR with the budget and the risks")
    at.query_params["session"] = sid
    at.run()
    assert "Stopped by the user." in _texts(at)
    assert [b.key for b in at.button if b.key and b.key.startswith("ask-again-")] == ["ask-again-1"]

    at.button(key="ask-again-1").click().run()
    assert not at.exception, at.exception
    turns = _service().open_session(sid, USER).turns
    assert [t.user_text for t in turns][1:] == ["Prepare me for the Acme QBR with the budget and the risks"] * 2
    assert turns[-1].status == "ok"
    assert not [b for b in at.button if b.key and b.key.startswith("ask-again-")], "only the latest stopped answer"


def test_ask_again_clicked_after_the_session_moved_on_sends_nothing(make_app: Callable[..., AppTest]) -> None:
    """Ask again in a tab left open while another tab sent a question: the stopped question is not sent again."""
    at = make_app(MESSAGES_PER_MINUTE="1000")
    sid = _stopped_session("Prepare me for the Acme QBR")
    at.query_params["session"] = sid
    at.run()
    _service().run_turn(sid, USER, "How is the budget tracking?")  # another tab
    at.button(key="ask-again-1").click().run()
    assert not at.exception, at.exception
    assert len(_service().open_session(sid, USER).turns) == 3


def test_other_users_session_is_not_found(make_app: Callable[..., AppTest]) -> None:
    at = make_app()
    other = _service().create_session("someone-else")
    at.query_params["session"] = other.id
    at.run()
    assert "not found" in " ".join(e.value for e in at.error)
    assert not at.chat_message
    assert "session" not in at.query_params


def test_an_address_naming_two_sessions_opens_neither(make_app: Callable[..., AppTest]) -> None:
    """?session=a&session=b opened b without a word: which one the link meant is unknown."""
    at = make_app()
    first, second = _service().create_session(USER), _service().create_session(USER)
    at.query_params["session"] = [first.id, second.id]
    at.run()
    assert "This address names more than one session; open one from the sidebar." in [e.value for e in at.error]
    assert not at.chat_message
    assert "session" not in at.query_params


def test_over_long_message_is_refused_with_length_and_limit(make_app: Callable[..., AppTest]) -> None:
    at = _send(make_app(MAX_MESSAGE_CHARS="100"), "x" * 150)
    error = " ".join(e.value for e in at.error)
    assert "150 characters" in error and "the limit is 100" in error
    assert not at.chat_message
    assert "session" not in at.query_params
    assert _service().list_sessions(USER)[1] == 0


def _drawn_bytes(at: AppTest) -> int:
    """How much the page sends to the browser: the size of every element of the last run."""

    def walk(node: Any) -> Iterator[Any]:
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    return sum(node.proto.ByteSize() for node in walk(at._tree) if getattr(node, "proto", None) is not None)


def test_huge_paste_is_refused_with_its_length_and_echoed_only_as_a_preview(make_app: Callable[..., AppTest]) -> None:
    at = make_app()
    baseline = _drawn_bytes(at)
    pasted = "A" * 200 + "b" * (10_000_000 - 200)
    _send(at, pasted)
    error = " ".join(e.value for e in at.error)
    assert "Message not sent" in error and "10,000,000 characters" in error and "the limit is 8,000" in error
    assert not at.chat_message
    assert _service().list_sessions(USER)[1] == 0
    shown = "\n".join([_texts(at), *(str(c.value) for c in at.code)])
    assert "A" * 200 + "…" in shown, "the start of the message is shown so the user recognises it"
    assert "b" * 10 not in shown
    assert _drawn_bytes(at) < baseline + 5_000, "the page echoes no more than a preview"
    big = [k for k, v in at.session_state.items() if len(str(v)) > 10_000]
    assert not big, f"session state keeps the paste: {big}"


def test_refused_message_within_the_limit_is_shown_in_full_to_copy(make_app: Callable[..., AppTest]) -> None:
    at = _send(make_app(MESSAGES_PER_MINUTE="1"), "What is on my calendar this week?")
    text = "Please prepare" + " the board deck and the budget review" * 20
    at = _send(at, text)
    assert "Message not sent" in " ".join(w.value for w in at.warning)
    assert text in [c.value for c in at.code]


def test_rate_limit_refusal_says_when_it_frees_up(make_app: Callable[..., AppTest]) -> None:
    at = _send(make_app(MESSAGES_PER_MINUTE="1"), "What is on my calendar this week?")
    at = _send(at, "And next week?")
    warning = " ".join(w.value for w in at.warning)
    assert "Message not sent" in warning and "You can send again at" in warning and "UTC" in warning
    assert len(at.chat_message) == 2
    # what was typed is back in the input, to send again once the limit frees up (it was lost)
    assert at.chat_input[0].proto.value == "And next week?" and at.chat_input[0].proto.set_value
    at.run()  # the next run (a click elsewhere) shows neither the refusal nor the text again
    assert "Message not sent" not in " ".join(w.value for w in at.warning)
    assert not at.chat_input[0].proto.set_value


def test_rate_limit_refusal_gives_the_time_in_the_browsers_zone(make_app: Callable[..., AppTest]) -> None:
    at = make_app(MESSAGES_PER_MINUTE="1")
    at.context = {"timezone": "Asia/Kolkata"}  # IST all year: no daylight time
    at = _send(_send(at, "What is on my calendar this week?"), "And next week?")
    warning = " ".join(w.value for w in at.warning)
    assert re.search(r"You can send again at \d\d:\d\d:\d\d IST \(in \d+ s\)\.", warning), warning
    assert "UTC" not in warning


def _sid(at: AppTest) -> str:
    value = at.query_params["session"]
    return str(value[0] if isinstance(value, list) else value)


def test_access_denied_is_explained_without_retry_or_traceback(make_app: Callable[..., AppTest]) -> None:
    at = _send(make_app(MODEL_PROVIDER="faulty:access_denied"), "Prepare me for the Acme QBR")
    error = " ".join(e.value for e in at.error)
    assert "no access to the model" in error
    assert "Traceback" not in _texts(at)
    assert at.chat_message[0].markdown[0].value == "Prepare me for the Acme QBR"
    assert not [b for b in at.button if b.key == "retry-turn"]
    assert _service().open_session(_sid(at), USER).turns == []


def test_network_error_then_retry_runs_the_turn_exactly_once(make_app: Callable[..., AppTest]) -> None:
    at = _send(make_app(MODEL_PROVIDER="faulty:network"), "Prepare me for the Acme QBR")
    assert "could not be reached" in " ".join(e.value for e in at.error)
    assert at.chat_message[0].markdown[0].value == "Prepare me for the Acme QBR"
    _button(at, "retry-turn").click().run()
    assert not at.exception
    doc = _service().open_session(_sid(at), USER)
    assert [t.user_text for t in doc.turns] == ["Prepare me for the Acme QBR"]
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert not at.error
    assert not [b for b in at.button if b.key == "retry-turn"]


def test_timeout_error_says_what_happened_once(make_app: Callable[..., AppTest]) -> None:
    """The error's bold title and its sentence used to repeat each other word for word."""
    at = _send(make_app(MODEL_PROVIDER="faulty:timeout:0.1"), "Prepare me for the Acme QBR")
    error = " ".join(e.value for e in at.error)
    assert error.count("took too long to answer") == 1, error
    assert "Press Retry" in error
    assert [b for b in at.button if b.key == "retry-turn"]


def test_complete_makes_read_only_and_continue_opens_new_session(make_app: Callable[..., AppTest]) -> None:
    at = _send(make_app(), "What meetings do I have this week?")
    first = _sid(at)
    _button(at, "complete-session").click().run()
    assert "read-only" in " ".join(i.value for i in at.info)
    assert at.chat_input[0].disabled
    _button(at, "continue-session").click().run()
    second = _sid(at)
    assert second != first
    assert _service().get_session(second, USER).continued_from == first
    assert not at.chat_input[0].disabled


def test_rename_search_and_delete_with_confirmation(make_app: Callable[..., AppTest]) -> None:
    at = _send(make_app(), "What meetings do I have this week?")
    sid = _sid(at)
    title_input = next(t for t in at.text_input if t.label == "Title")
    title_input.set_value("Board prep <b>week</b>")
    at.button(key="FormSubmitter:rename-form-Rename").click().run()
    assert _service().get_session(sid, USER).title == "Board prep <b>week</b>"
    assert not any("<b>" in m.value and "&lt;" not in m.value for m in at.markdown)

    at.text_input(key="chat_search").set_value("nothing-like-this").run()
    assert "No sessions match" in _texts(at)
    at.text_input(key="chat_search").set_value("Board").run()
    assert at.button(key=f"open-{sid}")

    _button(at, "delete-session").click().run()
    assert "removed for good" in " ".join(w.value for w in at.warning)
    assert _service().get_session(sid, USER)  # still there until confirmed
    _button(at, "confirm-delete").click().run()
    assert "Session deleted." in _texts(at)
    assert "session" not in at.query_params
    assert _service().list_sessions(USER)[1] == 0


def test_failed_question_survives_a_reload_and_can_be_dismissed(make_app: Callable[..., AppTest]) -> None:
    at = _send(make_app(MODEL_PROVIDER="faulty:network"), "Prepare me for the Acme QBR")
    session_id = _sid(at)
    # a reload is a new browser session: nothing of the failure is in session_state
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["session"] = session_id
    again.run()
    assert not again.exception
    assert "Prepare me for the Acme QBR" in _texts(again) and "Not answered" in _texts(again)
    assert _button(again, "retry-turn").label == "Retry"
    _button(again, "dismiss-turn").click().run()
    assert "Prepare me for the Acme QBR" not in _texts(again)
    assert _service().pending_turn(session_id, USER) is None


def test_question_of_a_restarted_server_is_shown_with_retry(make_app: Callable[..., AppTest]) -> None:
    from datetime import timedelta

    from assistant.sessions.base import PendingTurn, utcnow

    at = make_app()
    service = _service()
    meta = service.create_session(USER)
    old = utcnow() - timedelta(minutes=5)
    service.store.save_pending(
        PendingTurn(meta.id, USER, 0, "What is my budget?", "running", "gone-host:1:dead", old, old)
    )
    at.query_params["session"] = meta.id
    at.run()
    assert not at.exception
    text = _texts(at)
    assert "What is my budget?" in text and "server restarted" in text
    _button(at, "retry-turn").click().run()
    assert not at.exception
    assert "Not answered" not in _texts(at)
    doc = service.open_session(meta.id, USER)
    assert [t.user_text for t in doc.turns] == ["What is my budget?"], "Retry sends it exactly once"


def test_a_question_another_tab_is_answering_is_shown_as_such(make_app: Callable[..., AppTest]) -> None:
    from assistant.sessions.base import PendingTurn, utcnow

    at = make_app()
    service = _service()
    meta = service.create_session(USER)
    now = utcnow()
    service.store.save_pending(
        PendingTurn(meta.id, USER, 0, "What is my budget?", "running", "other-host:1:x", now, now)
    )
    at.query_params["session"] = meta.id
    at.run()
    assert "This question is still being answered. The answer shows here when it is done." in _texts(at)
    assert not [b for b in at.button if b.key == "retry-turn"]
    # its first question: no welcome, no starters or prep cards to send a second question with
    assert "Hello," not in _texts(at)
    assert not [b for b in at.button if b.key and (b.key.startswith("starter-") or b.key.startswith("prep-"))]


def test_meeting_titles_in_starters_are_plain_text(make_app: Callable[..., AppTest], tmp_path: Path) -> None:
    """A calendar title is other people's text: as a starter label it must not fetch an image."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(Path(APP).parent / "data", data)
    calendar = (data / "calendar.toml").read_text()
    (data / "calendar.toml").write_text(
        calendar.replace('title = "Weekly Leadership Team Sync"', 'title = "![x](http://attacker.test/leak) Sync"')
    )
    at = make_app(DATA_DIR=str(data))
    labels = [b.label for b in at.button if b.key and b.key.startswith("starter-")]
    labels += [m.value for m in at.markdown]  # the Prep queue's cards
    leak = [label for label in labels if "attacker.test" in label]
    assert leak, "that meeting is shown (as a starter or on the Prep queue)"
    assert all("![x](" not in label for label in leak), leak


def test_a_completed_session_offers_no_retry_for_its_failed_question(make_app: Callable[..., AppTest]) -> None:
    at = _send(make_app(MODEL_PROVIDER="faulty:network"), "Prepare me for the Acme QBR")
    session_id = _sid(at)
    _service().complete(session_id, USER)
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["session"] = session_id
    again.run()
    assert not again.exception
    assert not [b for b in again.button if b.key == "retry-turn"]
    assert [b for b in again.button if b.key == "continue-session"], "it offers to continue instead"


def _ics(titles: list[str]) -> bytes:
    """A calendar with one meeting an hour from two hours from now, one per title."""
    from datetime import timedelta

    from assistant.sessions.base import utcnow

    start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    for i, title in enumerate(titles):
        begin = start + timedelta(hours=i)
        lines += ["BEGIN:VEVENT", f"UID:m{i}@test", f"SUMMARY:{title}", f"DTSTART:{begin:%Y%m%dT%H%M%SZ}"]
        lines += [f"DTEND:{begin + timedelta(minutes=30):%Y%m%dT%H%M%SZ}", "END:VEVENT"]
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()


def test_prep_queue_counts_one_more_meeting_in_the_singular(make_app: Callable[..., AppTest]) -> None:
    # Seven meetings to prepare (six cards) read "1 more meetings to prepare soon".
    from assistant.factory import get_calendar_service

    at = make_app()
    titles = [f"Board meeting {i}" for i in range(7)]
    get_calendar_service(get_settings()).connect_ics_file(USER, _ics(titles), "busy.ics")
    at.run()
    assert not at.exception, at.exception
    assert "1 more meeting to prepare soon; see My context for all." in _texts(at)


def test_a_started_prep_without_notes_does_not_read_nothing_prepared(make_app: Callable[..., AppTest]) -> None:
    """After Prepare, the card offered Resume prep under "Nothing prepared yet"."""
    at = make_app()
    _button(at, "prep-start-0").click().run()
    assert not at.exception, at.exception
    _button(at, "new-session").click().run()
    assert not at.exception, at.exception
    assert _button(at, "prep-resume-0").label.startswith("Resume prep _for ")  # the title: its name only
    text = _texts(at)
    assert "Prep started, no notes saved yet" in text, text
    # Only the other cards (the ones still offering Prepare) may read "Nothing prepared yet";
    # which others the demo calendar queues depends on the day the test runs.
    unstarted = [b for b in at.button if str(b.key).startswith("prep-start-")]
    assert text.count("Nothing prepared yet") == len(unstarted), text


def test_prepare_in_a_second_tab_opens_the_prep_session_the_first_tab_started(make_app: Callable[..., AppTest]) -> None:
    """A card drawn before its meeting was prepared (another tab, or a page left open) still offered
    Prepare: a click made a second, identical prep session, and Resume prep reopened only the latest."""
    first, second = make_app(), make_app()
    _button(first, "prep-start-0").click().run()
    assert not first.exception, first.exception
    started = first.query_params["session"]
    _button(second, "prep-start-0").click().run()
    assert not second.exception, second.exception
    assert second.query_params["session"] == started
    assert [s.id for s in _service().list_sessions(USER)[0]] == [started]
    assert "here is the prep session you started earlier" in _texts(second), _texts(second)


def test_a_prepare_refused_by_the_rate_limit_still_prepares_its_meeting_when_sent_again(
    make_app: Callable[..., AppTest],
) -> None:
    """A refused Prepare put its text back in the chat box; sent from there once the limit freed
    up, it started an ordinary session: the card still read "Nothing prepared yet" and offered
    Prepare, never Resume prep."""
    from sqlalchemy import delete

    from assistant.db import send_log

    at = _send(make_app(MESSAGES_PER_MINUTE="1"), "hello")
    _button(at, "new-session").click().run()
    _button(at, "prep-start-0").click().run()
    assert not at.exception, at.exception
    assert "Message not sent." in _texts(at) and "You have sent 1 message" in _texts(at)
    text = at.chat_input[0].value
    assert text and text.startswith("Prepare me for "), text
    with _service().store.engine.begin() as conn:  # a minute later
        conn.execute(delete(send_log))
    _send(at, text)
    _button(at, "new-session").click().run()
    assert not at.exception, at.exception
    assert _button(at, "prep-resume-0").label.startswith("Resume prep _for "), _texts(at)


def test_database_that_goes_away_mid_session_is_said_in_plain_words(make_app: Callable[..., AppTest]) -> None:
    """A Postgres database dropped (here: renamed) under a running app: reopening the session
    showed Streamlit's "This app has encountered an error" instead of saying what happened."""
    from sqlalchemy import create_engine, make_url, text

    from tests.fixtures.db import require_postgres

    server = make_url(require_postgres())
    name = f"qa_gone_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        at = _send(make_app(DATABASE_URL=url), "What meetings do I have this week?")
        with admin.connect() as conn:
            conn.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            conn.execute(text(f"ALTER DATABASE {name} RENAME TO {name}_x"))
        at.run()
        assert not at.exception, at.exception
        assert "cannot reach its database" in " ".join(e.value for e in at.error)
    finally:
        with admin.connect() as conn:
            for db in (name, f"{name}_x"):
                conn.execute(text(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        admin.dispose()


def test_the_demo_calendar_links_to_where_your_own_is_connected(make_app: Callable[..., AppTest]) -> None:
    """The first page said "Demo calendar" and nothing about how to use one's own meetings."""
    from assistant.factory import get_calendar_service

    at = make_app()
    links = [link for link in at.get("page_link") if "Use your own calendar" in str(link.proto.label)]
    assert [link.proto.page for link in links] == ["context"], "one link, to My context"
    get_calendar_service(get_settings()).connect_ics_file(USER, _ics(["Board meeting"]), "work.ics")
    at.run()
    assert not at.exception, at.exception
    assert not [link for link in at.get("page_link") if "Use your own calendar" in str(link.proto.label)]


def test_a_session_whose_conversation_cannot_be_opened_offers_no_input_and_a_way_out(
    make_app: Callable[..., AppTest],
) -> None:
    """A session whose stored conversation is damaged (or that storage refused to read) showed
    its error above the welcome, the starters, the Prep queue and an input whose every send was
    then refused. It now shows the error, a disabled input saying why, and Start a new session."""
    import sqlalchemy as sa

    from assistant import db

    at = make_app()
    service = _service()
    meta = service.create_session(USER)
    service.run_turn(meta.id, USER, "What meetings do I have this week?")
    with db.write_tx(service.store.engine) as conn:
        conn.execute(sa.update(db.messages).where(db.messages.c.session_id == meta.id).values(content="{not json"))
    service._slots.evict(meta.id)
    at.query_params["session"] = meta.id
    at.run()
    assert not at.exception, at.exception
    assert any("This session cannot be shown" in str(e.value) for e in at.error), [e.value for e in at.error]
    assert "Hello," not in _texts(at)
    assert not [b for b in at.button if b.key and (b.key.startswith("starter-") or b.key.startswith("prep-"))]
    assert at.chat_input[0].disabled and at.chat_input[0].placeholder == "This session cannot be opened"
    badges = [str(m.value) for m in at.markdown if "-badge[" in str(m.value)]
    assert any("Cannot be opened" in b for b in badges) and not any("Active" in b for b in badges), badges
    _button(at, "unopenable-new-session").click().run()
    assert "session" not in at.query_params
    assert "Hello," in _texts(at) and not at.chat_input[0].disabled


def test_a_heavy_users_session_count_is_grouped_by_thousands(make_app: Callable[..., AppTest]) -> None:
    """The sidebar read "Showing the 30 most recent of 30006." (the Sessions page says 30,006)."""
    from tests.fixtures.db import insert_sessions

    make_app()
    insert_sessions(_service().store.engine, [{"id": f"s-{n:04d}", "user_id": USER} for n in range(1002)])
    at = make_app()
    shown = [str(c.value) for c in at.sidebar.caption]
    assert "Showing the 30 most recent of 1,002. Search to find older ones." in shown, shown


def test_the_sidebar_search_says_what_it_did_not_search_and_gives_no_estimate_as_a_count(
    make_app: Callable[..., AppTest],
) -> None:
    """A search of short words looks through the newest sessions only (it read all history: 5-11 s
    per page run at 1M sessions), and a common word's count is estimated: neither is shown as exact."""
    from tests.fixtures.db import insert_sessions, set_search_text

    make_app()
    engine = _service().store.engine
    insert_sessions(engine, [{"id": f"s-{n:04d}", "user_id": USER, "title": f"Weekly sync {n}"} for n in range(40)])
    for n in range(40):
        set_search_text(engine, f"s-{n:04d}", "weekly sync notes")
    at = make_app()
    at.text_input(key="chat_search").set_value("zq").run()
    shown = [str(c.value) for c in at.sidebar.caption]
    # 40 sessions: every one was searched, so no word of a limit (it said "in your 5,000 most recent only")
    assert "No sessions match your search." in shown and not any("shorter" in c for c in shown), shown
    insert_sessions(engine, [{"id": f"t-{n:04d}", "user_id": USER, "title": f"Old {n}"} for n in range(5_000)])
    at.text_input(key="chat_search").set_value("zq ").run()
    shown = [str(c.value) for c in at.sidebar.caption]
    assert "No sessions match your search. Words shorter than three letters are looked for in your 5,000 most " in (
        " ".join(shown)
    ), shown
    at.text_input(key="chat_search").set_value("sync").run()
    shown = [str(c.value) for c in at.sidebar.caption]
    assert "Showing the 30 most recent matches. Narrow the search to find the others." in shown, shown
    at.text_input(key="chat_search").set_value("zqx").run()  # a longer word: no note, every session searched
    shown = [str(c.value) for c in at.sidebar.caption]
    assert "No sessions match your search." in shown and not any("shorter" in c for c in shown), shown


def test_todays_spend_on_a_model_without_a_price_is_not_read_as_complete(make_app: Callable[..., AppTest]) -> None:
    """Calls today on a model the price table lacks (their cost unknown): the sidebar read "$0.00 of
    $5.00 today", as if they had cost nothing."""
    from assistant.sessions.base import utcnow
    from tests.fixtures.db import insert_usage

    make_app()
    service = _service()
    meta = service.create_session(USER)
    insert_usage(
        service.store.engine,
        [{"session_id": meta.id, "user_id": USER, "provider": "anthropic", "model_id": "claude-opus-4-7",
          "started_at": utcnow(), "input_tokens": 5000, "output_tokens": 800, "cost_usd": None}] * 2,
    )  # fmt: skip
    at = make_app()
    [spend] = [str(p.proto.text) for p in at.get("progress")]
    assert "≥ $0.00 of $5.00 today" in spend and "2 calls without a price" in spend, spend
