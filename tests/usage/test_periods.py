"""UTC days of a half-open period and the whole days the daily rollup can serve (assistant/usage/periods.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from assistant.usage.periods import day_str, full_days, utc_days

D1 = datetime(2026, 11, 1, tzinfo=UTC)


def test_utc_days_of_a_half_open_period() -> None:
    assert utc_days(D1, D1 + timedelta(days=3)) == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert utc_days(D1 + timedelta(hours=23), D1 + timedelta(days=1, seconds=1)) == ["2026-11-01", "2026-11-02"]
    assert utc_days(D1, D1 + timedelta(microseconds=1)) == ["2026-11-01"]
    # 01:00 in UTC+02:00 is still the previous UTC day
    assert utc_days(datetime(2026, 11, 2, 1, tzinfo=timezone(timedelta(hours=2))), D1 + timedelta(days=1)) == [
        "2026-11-01"
    ]


def test_full_days_inside_a_period() -> None:
    assert full_days(D1, D1 + timedelta(days=2)) == (D1, D1 + timedelta(days=2))
    assert full_days(D1 + timedelta(hours=6), D1 + timedelta(days=2, hours=6)) == (
        D1 + timedelta(days=1),
        D1 + timedelta(days=2),
    )
    assert full_days(D1 + timedelta(hours=6), D1 + timedelta(days=1, hours=6)) is None


def test_day_str_of_either_backend() -> None:
    assert day_str(date(2026, 11, 1)) == "2026-11-01"
    assert day_str("2026-11-01 10:00:00.000000") == "2026-11-01"
