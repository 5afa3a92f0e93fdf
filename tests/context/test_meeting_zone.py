"""Meetings told in the reader's zone: timed ones the same instant, all-day ones on their own
dates, floating ones at their clock times; zone names a reader can read; and a meeting in the
hour a clock change skips or repeats keeping its length."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from assistant.context.meeting_zone import across_clock_change, in_zone, zone_label, zone_name
from assistant.context.meetings import Meeting

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
TOKYO = ZoneInfo("Asia/Tokyo")


def stored(mid: str, start: datetime, end: datetime, **extra: object) -> Meeting:
    """A meeting as a source stores it: in UTC."""
    return Meeting(
        id=mid,
        title=mid,
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        duration_minutes=int((end - start) / timedelta(minutes=1)),
        attendees=[],
        type="other",
        location="",
        description="",
        source="ics_file",
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("zone", [LOS_ANGELES, TOKYO, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago")])
def test_an_all_day_event_stays_on_its_dates_in_every_zone(zone: ZoneInfo) -> None:
    """Stored at UTC midnight, a holiday on the 25th read as the 24th in Los Angeles (16:00)."""
    holiday = stored("holiday", datetime(2026, 12, 25, tzinfo=UTC), datetime(2026, 12, 27, tzinfo=UTC), all_day=True)
    [placed] = in_zone([holiday], zone)
    assert (placed.start, placed.end) == (datetime(2026, 12, 25, tzinfo=zone), datetime(2026, 12, 27, tzinfo=zone))
    assert placed.all_day and placed.start.date() == date(2026, 12, 25)


def test_a_timed_meeting_is_the_same_instant_and_a_floating_one_the_same_clock_time() -> None:
    call = stored("call", datetime(2026, 3, 3, 15, 0, tzinfo=UTC), datetime(2026, 3, 3, 16, 0, tzinfo=UTC))
    floating = stored(
        "floating", datetime(2026, 3, 3, 10, 0, tzinfo=UTC), datetime(2026, 3, 3, 11, 0, tzinfo=UTC), floating=True
    )
    by_id = {m.id: m for m in in_zone([call, floating], TOKYO)}
    assert by_id["call"].start == call.start and by_id["call"].start.tzinfo is TOKYO
    assert by_id["call"].start.hour == 0  # midnight in Tokyo: the next day
    assert (by_id["floating"].start, by_id["floating"].end) == (
        datetime(2026, 3, 3, 10, 0, tzinfo=TOKYO),
        datetime(2026, 3, 3, 11, 0, tzinfo=TOKYO),
    )


def test_the_meetings_come_back_in_the_readers_time_order_then_by_id() -> None:
    """An all-day event is at the reader's midnight: a call at 06:00 UTC is the evening before in
    Los Angeles (before the day's offsite) and the afternoon in Tokyo (after it)."""
    day = datetime(2026, 3, 3, tzinfo=UTC)
    meetings = [
        stored("b-call", day + timedelta(hours=17), day + timedelta(hours=18)),
        stored("a-call", day + timedelta(hours=17), day + timedelta(hours=18)),
        stored("offsite", day, day + timedelta(days=1), all_day=True),
        stored("early", day + timedelta(hours=6), day + timedelta(hours=7)),
    ]
    assert [m.id for m in in_zone(meetings, LOS_ANGELES)] == ["early", "offsite", "a-call", "b-call"]
    assert [m.id for m in in_zone(meetings, TOKYO)] == ["offsite", "early", "a-call", "b-call"]


@pytest.mark.parametrize(
    ("zone", "when", "name", "label"),
    [
        ("Pacific/Auckland", datetime(2026, 1, 5, 12), "NZDT", "NZDT (Pacific/Auckland)"),
        ("Pacific/Auckland", datetime(2026, 7, 5, 12), "NZST", "NZST (Pacific/Auckland)"),
        ("Asia/Kathmandu", datetime(2026, 1, 5, 12), "UTC+05:45", "UTC+05:45 (Asia/Kathmandu)"),
        ("Australia/Lord_Howe", datetime(2026, 7, 5, 12), "UTC+10:30", "UTC+10:30 (Australia/Lord_Howe)"),
        ("Asia/Singapore", datetime(2026, 1, 5, 12), "UTC+08", "UTC+08 (Asia/Singapore)"),
        ("America/Sao_Paulo", datetime(2026, 1, 5, 12), "UTC-03", "UTC-03 (America/Sao_Paulo)"),
        ("UTC", datetime(2026, 1, 5, 12), "UTC", "UTC"),
    ],
)
def test_a_zone_is_named_by_its_letters_or_its_offset_from_utc(
    zone: str, when: datetime, name: str, label: str
) -> None:
    moment = when.replace(tzinfo=ZoneInfo(zone))
    assert (zone_name(moment), zone_label(moment)) == (name, label)


def test_a_fixed_offset_without_a_zone_key_is_named_by_its_offset() -> None:
    moment = datetime(2026, 1, 5, 12, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert zone_label(moment) == zone_name(moment) == "UTC+05:30"
    assert zone_label(datetime(2026, 1, 5, tzinfo=UTC)) == "UTC"


def test_a_meeting_in_the_hour_the_spring_change_skips_keeps_its_length() -> None:
    """London's 01:30-02:30 on the spring night read 02:30-02:30 (0 min)."""
    start, end = across_clock_change(
        datetime(2026, 3, 29, 1, 30, tzinfo=LONDON), datetime(2026, 3, 29, 2, 30, tzinfo=LONDON)
    )
    assert (start, end - start) == (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), timedelta(hours=1))


def test_a_meeting_in_the_hour_the_autumn_change_repeats_is_its_first_and_keeps_its_length() -> None:
    """New York's 01:30-02:00 on the autumn night read 90 minutes."""
    start, end = across_clock_change(
        datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK), datetime(2026, 11, 1, 2, 0, tzinfo=NEW_YORK)
    )
    assert (start, end - start) == (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), timedelta(minutes=30))


def test_an_overnight_meeting_across_the_change_and_a_naive_time_are_kept() -> None:
    overnight = (datetime(2026, 3, 28, 22, 0, tzinfo=LONDON), datetime(2026, 3, 29, 6, 0, tzinfo=LONDON))
    assert across_clock_change(*overnight) == overnight
    naive = (datetime(2026, 3, 29, 1, 30), datetime(2026, 3, 29, 2, 30))
    assert across_clock_change(*naive) == naive
    two_zones = (datetime(2026, 3, 29, 1, 30, tzinfo=LONDON), datetime(2026, 3, 29, 2, 30, tzinfo=NEW_YORK))
    assert across_clock_change(*two_zones) == two_zones
