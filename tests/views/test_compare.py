"""A comparison of two models' answers -> what the chat page shows of it (``views/compare.py``).

(``tests/chat/test_compare.py`` mirrors ``assistant/chat/compare.py``: asking another model.)
"""

from __future__ import annotations

from datetime import UTC, datetime

from assistant.chat.compare import Side
from assistant.sessions.base import PendingTurn, TurnRecord
from assistant.views.compare import FIGURES, figures_markdown, side_view

NOW = datetime(2026, 12, 6, tzinfo=UTC)
NOVA = "bedrock:us.amazon.nova-lite-v1:0"


def _turn(**changes: object) -> TurnRecord:
    fields: dict[str, object] = {
        "input_tokens": 1234,
        "output_tokens": 340,
        "cost_usd": 0.0031,
        "ttft_ms": 420.0,
        "latency_ms": 2300.0,
        **changes,
    }
    return TurnRecord(0, "q", NOW, NOW, first_message_idx=0, end_message_idx=2, model=NOVA, **fields)  # type: ignore[arg-type]


def test_a_branch_answer_lost_to_a_restart_says_not_answered_once() -> None:
    """ "Ask another model" read "Not answered: Not answered: the server restarted …" for a branch
    whose answer a restart cut short."""
    from datetime import UTC, datetime

    from assistant.chat.compare import Side
    from assistant.chat.pending import INTERRUPTED_MESSAGE
    from assistant.views.compare import side_view

    now = datetime(2026, 12, 6, tzinfo=UTC)
    pending = PendingTurn("s", "u", 0, "q", "failed", "o", now, now, "interrupted", INTERRUPTED_MESSAGE)
    note = side_view(Side("s", "offline", None, pending=pending)).note
    assert note is not None and note.count("Not answered") == 1, note
    failed = PendingTurn("s", "u", 0, "q", "failed", "o", now, now, "network", "Could not reach the model.")
    assert side_view(Side("s", "offline", None, pending=failed)).note == (
        "Not answered: Could not reach the model. Open the new session to retry."
    )


def test_a_stored_answer_shows_its_figures_under_its_models_label() -> None:
    view = side_view(Side("s", NOVA, _turn(status="ok")))
    assert view.label == "Amazon Nova Lite" and not view.is_offline and view.note is None
    assert [name for name, _ in view.figures] == list(FIGURES)
    figures = dict(view.figures)
    assert figures["Tokens"] == "1.2k in · 340 out"
    assert figures["Cost"].startswith("$0.003")
    assert (figures["First token"], figures["Total time"]) == ("420 ms", "2.3 s")


def test_a_stopped_answer_says_so_and_missing_times_read_as_a_dash() -> None:
    view = side_view(Side("s", NOVA, _turn(status="stopped", ttft_ms=None, latency_ms=None)))
    assert view.note == "Stopped before the answer was finished."
    assert (dict(view.figures)["First token"], dict(view.figures)["Total time"]) == ("–", "–")


def test_an_answer_not_stored_yet_says_where_to_retry() -> None:
    view = side_view(Side("s", "offline", None))
    assert (view.figures, view.note, view.is_offline) == ([], "Not answered. Open the new session to retry.", True)


def test_the_figures_table_escapes_labels_and_marks_what_an_answer_lacks() -> None:
    left = side_view(Side("s1", NOVA, _turn(status="ok")))
    right = side_view(Side("s2", "offline", None))
    right = type(right)("Local | model", right.is_offline, right.figures, right.note)
    table = figures_markdown(left, right).splitlines()
    assert table[0] == "| Measured | Amazon Nova Lite · this session | Local \\| model · new session |"
    assert table[1] == "|---|---|---|"
    assert table[2] == "| Tokens | 1.2k in · 340 out | – |"
    assert len(table) == 2 + len(FIGURES)
