"""assistant/dates.py: one way to write a day, on every page, in exports, the CLI and demo answers."""

from __future__ import annotations

from datetime import UTC, date, datetime

from assistant.dates import short_day


def test_a_day_is_written_without_a_leading_zero_for_dates_and_datetimes() -> None:
    assert short_day(date(2026, 12, 8)) == "Tue 8 Dec"
    assert short_day(datetime(2026, 12, 18, 23, 30, tzinfo=UTC)) == "Fri 18 Dec"
