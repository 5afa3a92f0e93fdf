"""Events whose dates cannot be read are left out (or read without the damaged dates) and named.

They vanished without a word: ``recurring_ical_events`` skips a series with a damaged DTEND,
DURATION, RDATE, EXDATE or RECURRENCE-ID, and the source's notice said nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assistant.context.ics import IcsFileSource

WINDOW = (datetime(2026, 4, 6, tzinfo=UTC), datetime(2026, 4, 20, tzinfo=UTC))
KEPT = "UID:ok@x\nDTSTART:20260407T090000Z\nDTEND:20260407T093000Z\nSUMMARY:Kept"


def calendar(*blocks: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\n{b}\nEND:VEVENT\n" for b in blocks)
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\n{body}END:VCALENDAR\n".replace("\n", "\r\n").encode()


def fetched(*blocks: str) -> tuple[list[tuple[str, datetime, datetime]], str | None]:
    source = IcsFileSource(calendar(KEPT, *blocks), "work.ics")
    found = source.fetch(*WINDOW, UTC)
    return [(m.title, m.start, m.end) for m in found], source.notice


@pytest.mark.parametrize(
    "damaged",
    [
        "DTEND:garbage",
        "DTEND:20260408T110000Z\nDTEND:20260408T120000Z",  # given twice
        "DURATION:garbage",
        "DURATION:PT1H\nDURATION:PT2H",
        "RECURRENCE-ID:garbage",
        "DTSTART:garbage",
    ],
)
def test_an_event_with_an_unreadable_date_is_left_out_and_named(damaged: str) -> None:
    event = f"UID:bad@x\nSUMMARY:Board prep\nDTSTART:20260408T100000Z\n{damaged}"
    if damaged.startswith("DTSTART"):
        event = f"UID:bad@x\nSUMMARY:Board prep\n{damaged}\nDTEND:20260408T110000Z"
    found, notice = fetched(event)
    assert [title for title, _, _ in found] == ["Kept"]
    assert notice is not None
    assert "“Board prep” has a start, end, length or moved date that cannot be read, so it is left out" in notice


def test_a_series_the_expansion_skips_for_another_reason_is_named() -> None:
    found, notice = fetched("UID:bad@x\nSUMMARY:Never\nDTSTART:20260408T100000Z\nRRULE:FREQ=NEVER")
    assert [title for title, _, _ in found] == ["Kept"]
    assert notice is not None and "“Never”" in notice and "left out" in notice


def test_an_event_without_a_start_is_named() -> None:
    found, notice = fetched("UID:bad@x\nSUMMARY:No start")
    assert [title for title, _, _ in found] == ["Kept"]
    assert notice is not None and "“No start”" in notice and "left out" in notice


def test_a_damaged_moved_occurrence_leaves_out_only_itself_not_its_series() -> None:
    series = "UID:s@x\nSUMMARY:Weekly\nDTSTART:20260406T100000Z\nDTEND:20260406T110000Z\nRRULE:FREQ=WEEKLY;COUNT=2"
    moved = "UID:s@x\nSUMMARY:Weekly moved\nRECURRENCE-ID:garbage\nDTSTART:20260414T150000Z\nDTEND:20260414T160000Z"
    found, notice = fetched(series, moved)
    assert [(t, s.day) for t, s, _ in found] == [("Weekly", 6), ("Kept", 7), ("Weekly", 13)]
    assert notice is not None and "“Weekly moved”" in notice and "left out" in notice


def test_an_unreadable_exdate_keeps_the_series_and_says_to_check_it() -> None:
    series = (
        "UID:s@x\nSUMMARY:Standup\nDTSTART:20260408T080000Z\nDTEND:20260408T081500Z\nRRULE:FREQ=DAILY;COUNT=3\n"
        "EXDATE:garbage\nEXDATE:20260409T080000Z"
    )
    found, notice = fetched(series)
    # the readable EXDATE still removes the 9th; the unreadable one is dropped, not the series
    assert [(t, s.day) for t, s, _ in found] == [("Kept", 7), ("Standup", 8), ("Standup", 10)]
    assert notice is not None
    assert "“Standup” lists removed dates that cannot be read" in notice and "check it in your calendar" in notice


def test_an_unreadable_rdate_keeps_the_regular_dates_and_says_so() -> None:
    series = (
        "UID:s@x\nSUMMARY:Standup\nDTSTART:20260408T080000Z\nDTEND:20260408T081500Z\nRRULE:FREQ=DAILY;COUNT=2\n"
        "RDATE:garbage"
    )
    found, notice = fetched(series)
    assert [(t, s.day) for t, s, _ in found] == [("Kept", 7), ("Standup", 8), ("Standup", 9)]
    assert notice is not None and "“Standup” lists extra dates that cannot be read" in notice


def test_a_damaged_one_off_far_outside_the_window_is_not_named() -> None:
    found, notice = fetched("UID:old@x\nSUMMARY:Old offsite\nDTSTART:20190408T100000Z\nDTEND:garbage")
    assert [title for title, _, _ in found] == ["Kept"]
    assert notice is None


def test_a_calendar_with_readable_dates_has_no_notice() -> None:
    found, notice = fetched("UID:r@x\nSUMMARY:Review\nDTSTART:20260408T100000Z\nDURATION:PT45M")
    assert [(t, (e - s).seconds) for t, s, e in found] == [("Kept", 1800), ("Review", 2700)]
    assert notice is None


@pytest.mark.parametrize("duration", ["-PT1H", "-P1D"])
def test_a_negative_duration_is_left_out_and_named_not_moved_a_day_earlier(duration: str) -> None:
    """DURATION:-P1D on an all-day event became a 24-hour meeting the day before (the library
    swaps a start and end that run backwards)."""
    found, notice = fetched(f"UID:neg@x\nSUMMARY:Backwards\nDTSTART;VALUE=DATE:20260409\nDURATION:{duration}")
    assert [title for title, _, _ in found] == ["Kept"]
    assert notice is not None and "“Backwards”" in notice and "left out" in notice


@pytest.mark.parametrize(
    "dates",
    [
        "DTSTART:20260409T110000Z\nDTEND:20260409T100000Z",
        "DTSTART;VALUE=DATE:20260410\nDTEND;VALUE=DATE:20260409",
        # an end years before the window: the pre-parse filter took the event for one long over,
        # and it was gone without a word
        "DTSTART:20260409T110000Z\nDTEND:20000101T000000Z",
    ],
)
def test_an_end_before_its_start_is_left_out_and_named_not_swapped(dates: str) -> None:
    """A DTEND before its DTSTART was swapped by the library: a meeting an hour (a day) earlier."""
    found, notice = fetched(f"UID:back@x\nSUMMARY:Backwards\n{dates}")
    assert [title for title, _, _ in found] == ["Kept"]
    assert notice is not None and "“Backwards”" in notice and "left out" in notice
