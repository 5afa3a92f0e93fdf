"""ui.streaming.draw_answer, run by Streamlit's AppTest: what a streaming answer leaves on the page."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


def _script() -> None:
    import time

    import streamlit as st

    from assistant.chat import TextDelta, ToolFinished, ToolStarted
    from ui.streaming import draw_answer

    events: list[object] = [TextDelta("Checking your calendar...")]
    for i in range(8):
        events.append(ToolStarted(f"t{i}", "get_upcoming_meetings", {"days": i}))
        status = "error" if i == 7 else "success"
        events.append(ToolFinished(f"t{i}", "get_upcoming_meetings", status, f"{i} meetings", 3.0))
    events.append(TextDelta("Here is your week."))
    started = time.perf_counter()
    outcome = draw_answer(events)  # type: ignore[arg-type]
    st.session_state["seconds"] = time.perf_counter() - started
    st.session_state["finished"] = outcome.finished is not None


def test_tool_steps_are_drawn_done_without_pausing_the_page() -> None:
    at = AppTest.from_function(_script, default_timeout=30).run()
    assert not at.exception
    steps = [*at.expander, *at.status]  # as st.expander or st.status
    assert len(steps) == 8
    assert all("get_upcoming_meetings" in step.label for step in steps)
    assert [step.icon for step in steps] == [":material/check_circle:"] * 7 + [":material/error:"]
    assert "Result" in steps[0].markdown[0].value and "0 meetings" in steps[0].markdown[0].value
    assert '"days": 0' in steps[0].markdown[0].value
    texts = [m.value for m in at.markdown]
    assert any("Here is your week." in t for t in texts)
    # st.status paused 50 ms when each box was created and 50 ms more when it was updated:
    # 8 steps took at least 0.8 s before the next words could reach the reader.
    assert at.session_state["seconds"] < 0.7, at.session_state["seconds"]  # under the 0.8 s of those pauses


HOSTILE_SUMMARY = "Agenda for Verify at https://evil.example/login (60 min, 3 items)"


def _hostile_steps_script() -> None:
    from assistant.chat import ToolFinished, ToolStarted
    from assistant.sessions.base import ToolStep
    from ui.components import draw_step
    from ui.streaming import draw_answer

    summary = "Agenda for Verify at https://evil.example/login (60 min, 3 items)"
    draw_answer([ToolStarted("t1", "generate_meeting_agenda", {}), ToolFinished("t1", "x", "success", summary, 3.0)])  # type: ignore[list-item]
    draw_step(ToolStep("t2", "generate_meeting_agenda", {}, status="success", result=summary))


def test_a_tool_result_quoting_an_address_shows_it_as_text_not_a_link() -> None:
    # A tool's result line quotes meeting titles (other people's text) and the model's query: the
    # address in "Agenda for Verify at https://evil.example/login" was a clickable link in the step
    # (seen in Chromium), while streaming and once stored. It reads as typed and links nowhere now.
    at = AppTest.from_function(_hostile_steps_script, default_timeout=30).run()
    assert not at.exception
    results = [step.markdown[0].value.split("Result", 1)[1] for step in at.expander]
    assert len(results) == 2
    for shown in results:
        assert "://" not in shown, shown
        assert HOSTILE_SUMMARY in shown.replace("\u200b", "").replace("\\", ""), shown


def _cut_script() -> None:
    import streamlit as st

    from assistant.chat import TextDelta
    from ui.streaming import draw_answer

    def events():  # type: ignore[no-untyped-def]
        yield TextDelta(st.session_state["so_far"])
        raise RuntimeError("the model is still writing")  # the page as it shows meanwhile

    draw_answer(events())


@pytest.mark.parametrize(
    ("so_far", "shown"),
    [
        # the asterisks showed as typed until the closing pair came, then the words turned bold
        ("Your week:\n\n- **Board", "Your week:\n\n- **Board** ▍"),
        ("Run `make ru", "Run `make ru` ▍"),
        ("Your week:\n\n- **", "Your week:\n ▍"),  # "- ****" drew a rule
        ("Agenda\n-", "Agenda ▍"),  # the lone "-" made "Agenda" a heading
        ("```python\nx = 1", "```python\nx = 1 ▍"),  # an open code block is code as it comes
    ],
)
def test_an_answer_is_drawn_as_it_comes_without_its_marks_showing(so_far: str, shown: str) -> None:
    at = AppTest.from_function(_cut_script, default_timeout=30)
    at.session_state["so_far"] = so_far
    at.run()
    assert at.exception  # cut where the model was
    assert [m.value for m in at.markdown] == [shown]
