"""People-friendly formatters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant.usage.format import fmt_ago, fmt_cost, fmt_ms, fmt_tokens


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0123, "$0.0123"), (None, "unknown"), (0, "$0.00"), (0.0, "$0.00"), (0.5, "$0.50"), (1234.567, "$1,234.57"),
     (0.000035, "$0.000035"), (0.01, "$0.01"), (-0.02, "-$0.02"), (3.0, "$3.00"), (1e-12, "<$0.00000001")],
)  # fmt: skip
def test_fmt_cost(value: float | None, text: str) -> None:
    assert fmt_cost(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(12345, "12.3k"), (0, "0"), (999, "999"), (1000, "1k"), (1500, "1.5k"), (123_456, "123k"), (999_950, "1M"),
     (4_600_000, "4.6M"), (None, "–")],
)  # fmt: skip
def test_fmt_tokens(value: int | None, text: str) -> None:
    assert fmt_tokens(value) == text


def test_fmt_ago() -> None:
    now = datetime(2026, 11, 10, 12, tzinfo=UTC)
    assert fmt_ago(now - timedelta(hours=3, minutes=20), now) == "3 h ago"
    assert fmt_ago(now - timedelta(seconds=20), now) == "just now"
    assert fmt_ago(now - timedelta(minutes=5), now) == "5 min ago"
    assert fmt_ago(now - timedelta(days=2, hours=1), now) == "2 d ago"
    assert fmt_ago(now - timedelta(days=45), now) == "2026-09-26"
    assert fmt_ago(datetime(2026, 11, 10, 11), now) == "1 h ago"  # naive = UTC
    assert fmt_ago(None, now) == "–"


@pytest.mark.parametrize(
    ("value", "text"), [(850, "850 ms"), (1234, "1.2 s"), (125_000, "2 min 5 s"), (120_000, "2 min"), (None, "–")]
)
def test_fmt_ms(value: float | None, text: str) -> None:
    assert fmt_ms(value) == text
