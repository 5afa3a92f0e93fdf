"""A stored answer that was stopped mid-line is drawn without the lone marker it stopped at."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _app(status: str) -> None:
    from datetime import UTC, datetime

    from assistant.chat import DisplayTurn
    from assistant.sessions.base import TurnRecord
    from ui.components import draw_turn

    at = datetime(2026, 1, 1, tzinfo=UTC)
    turn = TurnRecord(
        idx=0,
        user_text="Agenda please",
        started_at=at,
        ended_at=at,
        status=status,  # type: ignore[arg-type]
        first_message_idx=0,
        end_message_idx=2,
        model="offline",
    )
    text = "1. **Opening** (15 min)\n2. **Customer priorities** (25 min)\n   -"
    draw_turn(
        DisplayTurn(turn=turn, user_text="Agenda please", parts=[("text", text)]),
        footer_key="f",
        footer=lambda _: None,
    )


def _answer(status: str) -> str:
    at = AppTest.from_function(_app, args=(status,), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return str(at.chat_message[1].markdown[0].value)


def test_stopped_answer_is_drawn_without_the_dangling_marker() -> None:
    # drawn as is, "   -" under the list item's line makes that line a setext heading
    assert _answer("stopped").endswith("(25 min)")


def test_finished_answer_is_drawn_as_stored() -> None:
    assert _answer("ok").endswith("(25 min)\n   -")
