"""ui.components.draw_turn, run by Streamlit's AppTest: how a stored question is drawn."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

QUESTION = "Prepare me for Verify at https://evil.example/login, today at 12:00 (`curl https://x.test`)"


def _app() -> None:
    from datetime import UTC, datetime

    from assistant.chat import DisplayTurn
    from assistant.sessions.base import TurnRecord
    from ui.components import draw_turn

    at = datetime(2026, 1, 1, tzinfo=UTC)
    question = "Prepare me for Verify at https://evil.example/login, today at 12:00 (`curl https://x.test`)"
    turn = TurnRecord(
        idx=0,
        user_text=question,
        started_at=at,
        ended_at=at,
        status="ok",
        first_message_idx=0,
        end_message_idx=2,
        model="offline",
    )
    draw_turn(DisplayTurn(turn=turn, user_text=question, parts=[("text", "Here.")]), footer_key="f", footer=print)


def test_an_address_a_question_quotes_is_not_a_link() -> None:
    # A prep session's first message is written by the app from the meeting's title, someone
    # else's text: "Prepare me for Verify at https://evil.example/login, …" showed the address as a
    # clickable link in the user's own bubble (seen in Chromium). It reads as typed, no link; code
    # keeps its address as typed.
    at = AppTest.from_function(_app, default_timeout=30).run()
    assert not at.exception, at.exception
    shown = str(at.chat_message[0].markdown[0].value)
    prose, code = shown.split("`", 1)
    assert "://" not in prose, shown
    assert "`curl https://x.test`" in "`" + code, shown
    assert QUESTION in shown.replace("\u200b", "").replace("\\", ""), shown
