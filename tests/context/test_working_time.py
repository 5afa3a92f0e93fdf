from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.context.working_time import add_working_days, shift_working_time, working_day

MONDAY_9 = datetime(2025, 3, 17, 9, 0, tzinfo=UTC)


def test_a_lead_time_before_monday_is_counted_on_the_working_days_before() -> None:
    assert shift_working_time(MONDAY_9, -timedelta(hours=48)) == datetime(2025, 3, 13, 9, 0, tzinfo=UTC)
    assert shift_working_time(MONDAY_9, -timedelta(hours=24)) == datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
    assert shift_working_time(MONDAY_9, -timedelta(hours=10)) == datetime(2025, 3, 14, 23, 0, tzinfo=UTC)
    # inside the week nothing changes
    wednesday = datetime(2025, 3, 19, 15, 0, tzinfo=UTC)
    assert shift_working_time(wednesday, -timedelta(hours=4)) == wednesday - timedelta(hours=4)


def test_from_a_weekend_the_clock_starts_at_the_weekend_edge() -> None:
    saturday = datetime(2025, 3, 15, 11, 0, tzinfo=UTC)
    assert shift_working_time(saturday, -timedelta(hours=1)) == datetime(2025, 3, 14, 23, 0, tzinfo=UTC)
    assert shift_working_time(saturday, timedelta(hours=1)) == datetime(2025, 3, 17, 1, 0, tzinfo=UTC)
    friday_evening = datetime(2025, 3, 14, 20, 0, tzinfo=UTC)
    assert shift_working_time(friday_evening, timedelta(hours=24)) == datetime(2025, 3, 17, 20, 0, tzinfo=UTC)


def test_weekends_are_read_in_the_moments_own_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    monday_tokyo = datetime(2025, 3, 17, 9, 0, tzinfo=tokyo)  # Monday in Tokyo, Monday 00:00 UTC
    assert shift_working_time(monday_tokyo, -timedelta(hours=10)) == datetime(2025, 3, 14, 23, 0, tzinfo=tokyo)


def test_working_days_skip_the_weekend_both_ways() -> None:
    friday, saturday = date(2025, 3, 14), date(2025, 3, 15)
    assert add_working_days(friday, 1) == date(2025, 3, 17)
    assert add_working_days(saturday, 0) == date(2025, 3, 17)
    assert add_working_days(date(2025, 3, 17), -1) == friday
    assert working_day(friday) == friday


def _working_minutes(start: datetime, end: datetime) -> int:
    """Brute force: the minutes in [start, end) that fall on Monday-Friday."""
    minutes, t = 0, start
    while t < end:
        minutes += t.weekday() < 5
        t += timedelta(minutes=1)
    return minutes


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2025, 12, 1)).map(
        lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
    ),
    minutes=st.integers(min_value=1, max_value=3 * 24 * 60),
    back=st.booleans(),
)
def test_the_span_moved_is_exactly_that_much_working_time(start: datetime, minutes: int, back: bool) -> None:
    span = timedelta(minutes=minutes)
    moved = shift_working_time(start, -span if back else span)
    earlier, later = (moved, start) if back else (start, moved)
    assert earlier <= later
    assert _working_minutes(earlier, later) == minutes
