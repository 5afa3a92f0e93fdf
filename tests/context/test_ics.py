"""ICS calendars as a user sees them: which meetings are listed, when, and what a bad file says.

The files under tests/fixtures/ics/ are shaped after real exports (Google, Outlook/Exchange,
Apple); each test names the rule it proves.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from assistant.context.ics import (
    NO_TITLE,
    IcsFileSource,
    IcsUrlSource,
    parse_ics,
)
from assistant.context.ics_limits import MAX_OCCURRENCES
from assistant.context.ics_text import check_ics
from assistant.context.meetings import Meeting, is_meeting_id, make_meeting_id, series_id_for
from assistant.context.sources import CalendarInputError, CalendarSource, CalendarSourceError
from tests.fixtures.ics import GeneratedCalendar, one_event, read, year_calendar
from tests.fixtures.ics.server import CalendarServer, body, status

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
TOKYO = ZoneInfo("Asia/Tokyo")
CAP = 5_000_000


def meetings(name: str, start: datetime, end: datetime, tz: tzinfo = BERLIN, **kwargs: object) -> list[Meeting]:
    return parse_ics(read(name), start, end, tz, **kwargs)  # type: ignore[arg-type]


def local(m: Meeting, tz: tzinfo) -> str:
    return m.start.astimezone(tz).strftime("%a %Y-%m-%d %H:%M")


# --- recurrence with exceptions -------------------------------------------------------------


def test_weekly_series_lists_each_occurrence_with_the_moved_one_at_its_new_time() -> None:
    found = meetings(
        "weekly_moved_exdate.ics", datetime(2025, 4, 1, tzinfo=BERLIN), datetime(2025, 6, 1, tzinfo=BERLIN)
    )
    assert [(local(m, BERLIN), m.title) for m in found] == [
        ("Mon 2025-04-07 10:00", "Team sync"),
        ("Mon 2025-04-14 10:00", "Team sync"),
        # 21 April deleted with EXDATE; 28 April moved to Tuesday 14:00
        ("Tue 2025-04-29 14:00", "Team sync (moved to Tuesday)"),
        ("Mon 2025-05-05 10:00", "Team sync"),
        ("Mon 2025-05-12 10:00", "Team sync"),
    ]
    uid = "8F3A2C1E-5B7D-4E21-9A6F-2D4C8B1E7A90"
    assert {m.series_id for m in found} == {series_id_for(uid)}
    moved = found[2]
    assert moved.id == make_meeting_id(uid, datetime(2025, 4, 28, 10, 0, tzinfo=BERLIN))  # the original start
    assert len({m.id for m in found}) == 5
    assert all(is_meeting_id(m.id) for m in found)
    assert all(m.source == "ics_file" and m.type == "other" for m in found)


def test_an_occurrence_keeps_its_id_whatever_the_window() -> None:
    wide = meetings("weekly_moved_exdate.ics", datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    narrow = meetings("weekly_moved_exdate.ics", datetime(2025, 4, 29, tzinfo=UTC), datetime(2025, 4, 30, tzinfo=UTC))
    assert [m.id for m in narrow] == [m.id for m in wide if m.title.endswith("(moved to Tuesday)")]


def test_an_edit_of_this_and_future_occurrences_keeps_every_one_of_them() -> None:
    """Apple Calendar writes "change all future events" as one override with
    RECURRENCE-ID;RANGE=THISANDFUTURE: every later occurrence took the edited one's id and only
    the first was listed; Thursday's and Friday's meetings were gone without a word."""
    found = meetings(
        "apple_this_and_future.ics", datetime(2026, 12, 6, tzinfo=UTC), datetime(2026, 12, 14, tzinfo=UTC), NEW_YORK
    )
    assert [(local(m, NEW_YORK), m.title) for m in found] == [
        ("Mon 2026-12-07 16:00", "Deal desk"),
        ("Tue 2026-12-08 16:00", "Deal desk"),
        ("Wed 2026-12-09 17:00", "Deal desk (later from Wednesday)"),
        ("Thu 2026-12-10 17:00", "Deal desk (later from Wednesday)"),
        ("Fri 2026-12-11 17:00", "Deal desk (later from Wednesday)"),
    ]
    uid = "6B1F0C7E-3A2D-4C8B-9E51-0D4A7F2B8C13"  # each keeps the id of its original start
    assert found[3].id == make_meeting_id(uid, datetime(2026, 12, 10, 16, 0, tzinfo=NEW_YORK))


def test_cancelled_override_and_cancelled_series_are_left_out() -> None:
    found = meetings(
        "weekly_cancelled_override.ics", datetime(2025, 3, 25, tzinfo=UTC), datetime(2025, 5, 1, tzinfo=UTC), tz=UTC
    )
    assert [(m.title, m.start.strftime("%m-%d %H:%M")) for m in found] == [
        ("Design review", "04-03 15:00"),
        ("Design review", "04-17 15:00"),  # 10 April: an override with STATUS:CANCELLED
        ("Design review", "04-24 15:00"),
    ]


def test_cancelled_one_off_is_left_out() -> None:
    data = read("cancelled_one_off.ics")
    assert check_ics(data, CAP) == 2
    found = parse_ics(data, datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC), UTC)
    assert [m.title for m in found] == ["Hiring debrief"]
    assert found[0].series_id is None
    assert found[0].id == make_meeting_id("one-off-kept@example.com")


# --- time zones ---------------------------------------------------------------------------


def test_series_across_dst_stays_at_nine_local() -> None:
    found = meetings("dst_new_york.ics", datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC), NEW_YORK)
    assert [local(m, NEW_YORK) for m in found] == [
        "Fri 2025-02-28 09:00",
        "Fri 2025-03-07 09:00",
        "Fri 2025-03-14 09:00",  # after 9 March (EDT)
        "Fri 2025-03-21 09:00",
    ]
    assert [m.start.astimezone(UTC).hour for m in found] == [14, 14, 13, 13]
    assert [m.start.utcoffset() for m in found] == [timedelta(hours=-5)] * 2 + [timedelta(hours=-4)] * 2
    assert {m.duration_minutes for m in found} == {45}


def test_a_meeting_in_the_hour_a_clock_change_skips_or_repeats_keeps_its_length() -> None:
    """On the spring night a daily 01:30-02:30 London meeting read 02:30-02:30 (0 min, "no length"),
    and on the autumn night a 01:30-02:00 New York one 90 min; an overnight one-off across the
    change keeps the length its start and end give."""
    london = ZoneInfo("Europe/London")
    spring = one_event(
        "UID:d1@x\nDTSTART;TZID=Europe/London:20270327T013000\nDTEND;TZID=Europe/London:20270327T023000\n"
        "RRULE:FREQ=DAILY;COUNT=3\nSUMMARY:Daily call"
    )
    found = parse_ics(spring, datetime(2027, 3, 26, tzinfo=UTC), datetime(2027, 3, 31, tzinfo=UTC), london)
    assert [(local(m, london), m.duration_minutes) for m in found] == [
        ("Sat 2027-03-27 01:30", 60),
        ("Sun 2027-03-28 02:30", 60),  # 01:30 is skipped: read with the offset before the change
        ("Mon 2027-03-29 01:30", 60),
    ]
    assert [m.end.astimezone(UTC) - m.start.astimezone(UTC) for m in found] == [timedelta(hours=1)] * 3
    autumn = one_event(
        "UID:d2@x\nDTSTART;TZID=America/New_York:20271106T013000\nDTEND;TZID=America/New_York:20271106T020000\n"
        "RRULE:FREQ=DAILY;COUNT=3\nSUMMARY:Late sync"
    )
    found = parse_ics(autumn, datetime(2027, 11, 5, tzinfo=UTC), datetime(2027, 11, 10, tzinfo=UTC), NEW_YORK)
    assert [(m.start.astimezone(UTC).hour, m.duration_minutes) for m in found] == [(5, 30), (5, 30), (6, 30)]
    overnight = one_event(
        "UID:n1@x\nDTSTART;TZID=Europe/London:20270327T230000\nDTEND;TZID=Europe/London:20270328T030000\n"
        "SUMMARY:Overnight release"
    )
    [release] = parse_ics(overnight, datetime(2027, 3, 27, tzinfo=UTC), datetime(2027, 3, 29, tzinfo=UTC), london)
    assert release.duration_minutes == 180 and release.end.astimezone(UTC) - release.start.astimezone(UTC) == timedelta(
        hours=3
    )


def test_times_are_returned_in_the_users_zone() -> None:
    found = meetings("dst_new_york.ics", datetime(2025, 2, 27, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC), TOKYO)
    assert found[0].start.isoformat() == "2025-02-28T23:00:00+09:00"


def test_an_outlook_all_day_event_written_midnight_to_midnight_is_all_day() -> None:
    """Outlook may write an all-day event as midnight to midnight in its own zone, flagged
    X-MICROSOFT-CDO-ALLDAYEVENT:TRUE: in New York the company holiday read as a 24-hour meeting
    from 18:00 the day before, priced and queued for prep."""
    [holiday] = meetings(
        "outlook_all_day_at_midnight.ics",
        datetime(2026, 12, 7, tzinfo=UTC),
        datetime(2026, 12, 12, tzinfo=UTC),
        NEW_YORK,
    )
    assert holiday.all_day and holiday.duration_minutes == 1440
    assert holiday.start == datetime(2026, 12, 9, tzinfo=NEW_YORK)  # Wednesday, the day it was written on


def test_outlook_windows_time_zone_names() -> None:
    found = meetings("outlook.ics", datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC), UTC)
    pipeline = [m for m in found if m.title == "Pipeline review"]
    # TZID "Eastern Standard Time" with its VTIMEZONE: 09:00 Eastern on both sides of 9 March
    assert [m.start.strftime("%m-%d %H:%M") for m in pipeline] == ["03-05 14:00", "03-12 13:00", "03-19 13:00"]
    assert all(
        m.conference_url and m.conference_url.startswith("https://teams.microsoft.com/l/meetup-join/") for m in pipeline
    )
    # TZID "Pacific Standard Time" with no VTIMEZONE block: mapped to America/Los_Angeles
    partner = next(m for m in found if m.title.startswith("Partner call"))
    assert partner.start.strftime("%m-%d %H:%M") == "03-06 17:00"


def test_each_file_keeps_its_own_customized_time_zone() -> None:
    """Outlook names any zone the user edited "Customized Time Zone", with its own VTIMEZONE; the
    parser kept the first definition it read in the process: a New York file read after a Sydney
    one had its 09:00 standup at Sydney's 09:00 (22:00 UTC the day before), for every user."""
    window = (datetime(2026, 10, 25, tzinfo=UTC), datetime(2026, 11, 10, tzinfo=UTC))
    for _ in range(2):  # each file after the other, either way round
        sydney = meetings("outlook_custom_zone_sydney.ics", *window, UTC)
        new_york = meetings("outlook_custom_zone_new_york.ics", *window, UTC)
        assert [local(m, UTC) for m in sydney] == ["Sun 2026-10-25 22:00"]  # 09:00 Monday in Sydney (+11)
        # 09:00 in New York on both sides of 1 November (EDT, then EST)
        assert [local(m, UTC) for m in new_york] == [
            "Mon 2026-10-26 13:00",
            "Mon 2026-11-02 14:00",
            "Mon 2026-11-09 14:00",
        ]


@pytest.mark.parametrize(
    "value", ["", "Mars/Base", "../../etc/passwd", "Europe/Berlin\nX-WR-TIMEZONE:America/New_York"]
)
def test_an_unreadable_x_wr_timezone_is_ignored_not_the_whole_calendar(value: str) -> None:
    """An empty, unknown or repeated X-WR-TIMEZONE refused the whole file as "some of its events
    have a date or a repeat rule that cannot be read", though every event was fine."""
    data = one_event("UID:a@x\nDTSTART:20250402T100000Z\nDTEND:20250402T110000Z\nSUMMARY:Kept").replace(
        b"PRODID:-//t//EN\r\n", f"PRODID:-//t//EN\nX-WR-TIMEZONE:{value}\n".replace("\n", "\r\n").encode()
    )
    found = parse_ics(data, datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 3, tzinfo=UTC), BERLIN)
    assert [(m.title, local(m, BERLIN)) for m in found] == [("Kept", "Wed 2025-04-02 12:00")]


def test_google_export_with_x_wr_timezone_keeps_local_time_and_its_exceptions() -> None:
    found = meetings("google_export.ics", datetime(2025, 3, 15, tzinfo=UTC), datetime(2025, 4, 30, tzinfo=UTC), PARIS)
    one_on_ones = [(local(m, PARIS), m.title) for m in found if m.title.startswith("Weekly 1:1")]
    assert one_on_ones == [
        ("Mon 2025-03-17 09:00", "Weekly 1:1 Ada / Tom"),
        ("Mon 2025-03-24 09:00", "Weekly 1:1 Ada / Tom"),
        ("Mon 2025-03-31 09:00", "Weekly 1:1 Ada / Tom"),  # Paris moved to summer time on 30 March
        ("Tue 2025-04-08 14:00", "Weekly 1:1 Ada / Tom (lunch)"),  # RECURRENCE-ID in UTC
        # 14 April: EXDATE in UTC
        ("Mon 2025-04-21 09:00", "Weekly 1:1 Ada / Tom"),
        ("Mon 2025-04-28 09:00", "Weekly 1:1 Ada / Tom"),
    ]


def test_declined_by_the_calendar_owner_is_left_out() -> None:
    window = (datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 5, tzinfo=UTC))
    titles = [m.title for m in meetings("google_export.ics", *window, PARIS)]
    assert "Renewal call - Customer Co" in titles
    assert not any("Vendor pitch" in t for t in titles)  # the owner is X-WR-CALNAME, who declined

    invite = one_event(
        "UID:x@e\nDTSTART:20250402T100000Z\nDTEND:20250402T110000Z\nSUMMARY:Pitch\n"
        "ATTENDEE;CN=Ada;PARTSTAT=DECLINED:mailto:Ada@Acme.example\nATTENDEE;PARTSTAT=ACCEPTED:mailto:bo@x.example"
    )
    assert [m.title for m in parse_ics(invite, *window, UTC)] == ["Pitch"]  # no owner known
    assert parse_ics(invite, *window, UTC, owner_email="ada@acme.example") == []
    assert [m.title for m in parse_ics(invite, *window, UTC, owner_email="bo@x.example")] == ["Pitch"]


def test_declined_by_the_calendar_owner_is_left_out_when_signed_in_under_another_address() -> None:
    """A Google export names its owner (X-WR-CALNAME) and the user signed in with another address
    (the dev login, a personal account, an alias): the owner's declines still count."""
    window = (datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 5, tzinfo=UTC))
    titles = [m.title for m in meetings("google_export.ics", *window, PARIS, owner_email="exec@example.com")]
    assert "Renewal call - Customer Co" in titles
    assert not any("Vendor pitch" in t for t in titles)


def test_all_day_events_sit_at_local_midnight() -> None:
    for tz in (BERLIN, TOKYO, NEW_YORK):
        found = meetings("all_day.ics", datetime(2025, 4, 14, tzinfo=tz), datetime(2025, 4, 30, tzinfo=tz), tz)
        board = next(m for m in found if m.title == "Board prep day")
        assert board.all_day
        assert board.start == datetime(2025, 4, 15, tzinfo=tz)
        assert board.end == datetime(2025, 4, 16, tzinfo=tz)
        assert board.duration_minutes == 24 * 60
        offsite = next(m for m in found if m.title == "Leadership offsite")
        assert (offsite.start.date(), offsite.end.date(), offsite.duration_minutes) == (
            date(2025, 4, 22),
            date(2025, 4, 25),
            3 * 24 * 60,
        )


def test_floating_time_is_placed_in_the_users_zone() -> None:
    for tz in (BERLIN, TOKYO):
        found = meetings("all_day.ics", datetime(2025, 4, 16, tzinfo=tz), datetime(2025, 4, 17, tzinfo=tz), tz)
        coffee = next(m for m in found if m.title.startswith("Coffee with Lin"))
        assert coffee.start == datetime(2025, 4, 16, 8, 30, tzinfo=tz)
        assert not coffee.all_day


def test_a_long_event_that_started_before_the_window_is_listed() -> None:
    found = meetings("all_day.ics", datetime(2025, 4, 24, tzinfo=BERLIN), datetime(2025, 4, 25, tzinfo=BERLIN))
    assert [m.title for m in found] == ["Leadership offsite"]


def test_event_without_a_title() -> None:
    data = one_event("UID:n@x\nDTSTART:20250402T100000Z\nDURATION:PT25M")
    [meeting] = parse_ics(data, datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 3, tzinfo=UTC), UTC)
    assert meeting.title == NO_TITLE
    assert meeting.duration_minutes == 25


@pytest.mark.parametrize(
    "broken",
    [
        "SUMMARY:No start",
        "DTSTART:garbage",
        "DTSTART:20250402T100000Z\nRRULE:FREQ=NEVER",
        "DTSTART;TZID=Europe/Berlin:garbage",  # a zone named, the time unreadable: it raised
        "DTSTART;TZID=Europe/Berlin:20250402T100000\nDTSTART:20250402T110000Z",  # two starts: it raised
    ],
)
def test_one_broken_event_does_not_lose_the_calendar(broken: str) -> None:
    data = one_event(f"UID:ok@x\nDTSTART:20250402T090000Z\nSUMMARY:Kept\nEND:VEVENT\nBEGIN:VEVENT\nUID:bad@x\n{broken}")
    found = parse_ics(data, datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 3, tzinfo=UTC), UTC)
    assert [m.title for m in found] == ["Kept"]


def test_an_event_with_two_uids_does_not_lose_the_calendar() -> None:
    """A repeated UID line refused the whole file ("some of its events have a date or a repeat
    rule that cannot be read"): the expansion groups events by UID and a list is no key."""
    data = one_event(
        "UID:ok@x\nDTSTART:20250402T090000Z\nSUMMARY:Kept\nEND:VEVENT\nBEGIN:VEVENT\n"
        "UID:two@x\nUID:again@x\nDTSTART:20250402T100000Z\nSUMMARY:Twice"
    )
    found = parse_ics(data, datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 3, tzinfo=UTC), UTC)
    assert [m.title for m in found] == ["Kept", "Twice"]


def test_meetings_are_sorted_by_start_then_id() -> None:
    found = meetings("google_export.ics", datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC), PARIS)
    assert [(m.start, m.id) for m in found] == sorted((m.start, m.id) for m in found)


# --- a year of meetings ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def year() -> GeneratedCalendar:
    return year_calendar(date(2025, 1, 6))


def test_a_year_file_lists_exactly_the_meetings_of_each_window(year: GeneratedCalendar) -> None:
    """Only the events that may overlap a window are parsed; none that does overlap is lost."""
    assert check_ics(year.data, CAP) == 200
    everything = parse_ics(
        year.data, datetime(2025, 1, 1, tzinfo=NEW_YORK), datetime(2026, 2, 1, tzinfo=NEW_YORK), NEW_YORK
    )
    assert [(m.start, m.end) for m in everything] == year.occurrences
    for offset, days in [(0, 7), (0, 60), (45, 7), (170, 60), (330, 60)]:
        start = datetime(2025, 1, 6, 8, tzinfo=NEW_YORK) + timedelta(days=offset)
        end = start + timedelta(days=days)
        window = parse_ics(year.data, start, end, NEW_YORK)
        assert len(window) == year.count_between(start, end), (offset, days)
        assert window == [m for m in everything if m.start < end and m.end > start]


# --- files that are not calendars -----------------------------------------------------------


def test_a_sign_in_page_is_named_as_such() -> None:
    with pytest.raises(CalendarInputError, match=r"web page \(HTML\), not a calendar .*sign-in page"):
        check_ics(read("sign_in_page.ics"), CAP)


@pytest.mark.parametrize(
    "html",
    [
        # Outlook: the plain description, then the same as HTML in X-ALT-DESC
        'X-ALT-DESC;FMTTYPE=text/html:<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2//EN">\\n<HTML><BODY>'
        "<P>Agenda</P></BODY></HTML>",
        # Google: a formatted description wrapped in <html-blob>
        "DESCRIPTION:<html-blob><b>Agenda</b><br>Renewal</html-blob>",
    ],
)
def test_a_calendar_whose_first_event_holds_html_is_not_a_web_page(html: str) -> None:
    """A VCALENDAR with HTML in its first kilobyte was refused as "a web page (HTML), not a calendar"."""
    data = one_event(f"UID:h@x\nDTSTART:20250402T100000Z\nSUMMARY:Budget review\n{html}")
    assert check_ics(data, CAP) == 1
    [meeting] = parse_ics(data, datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 3, tzinfo=UTC), UTC)
    assert meeting.title == "Budget review"


def test_a_file_over_the_cap_is_refused() -> None:
    big = one_event("UID:b@x\nDTSTART:20250402T100000Z\nDESCRIPTION:" + "x" * 5_100_000)
    with pytest.raises(CalendarInputError, match=r"larger than 5 MB \(5\.1 MB\)"):
        check_ics(big, CAP)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not text"),
        (b"name,start\nBoard,2025-04-01\n", "does not start with BEGIN:VCALENDAR"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n", r"not a valid iCalendar .*part of it is damaged"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "has no events"),
        # every event's start unreadable or missing: it was saved in place of the calendar, which then listed nothing
        (one_event("UID:a@x\nDTSTART:2026130\nSUMMARY:Board"), "no event in this calendar has a start time"),
        (one_event("UID:a@x\nSUMMARY:Board"), "no event in this calendar has a start time"),
        # a parameter given two values where one is wanted: the parser raised AttributeError
        (one_event("UID:a@x\nDTSTART;VALUE=DAT,E:20250402"), "part of it is damaged"),
    ],
)
def test_what_is_not_a_usable_calendar_says_why(data: bytes, words: str) -> None:
    with pytest.raises(CalendarInputError, match=words):
        check_ics(data, CAP)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_calendar_saved_as_utf16_with_its_byte_order_mark_is_read(encoding: str) -> None:
    """Windows' "Unicode" text (UTF-16 with a byte-order mark) was refused as "not text"."""
    text = one_event("UID:u@x\nDTSTART:20250402T100000Z\nSUMMARY:Revue budgétaire ✓").decode()
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data  # the big-endian mark ("utf-16" writes the little-endian one itself)
    assert check_ics(data, CAP) == 1
    [meeting] = parse_ics(data, datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 3, tzinfo=UTC), UTC)
    assert meeting.title == "Revue budgétaire ✓"
    with pytest.raises(CalendarInputError, match="not text"):  # a mark, then bytes that are no UTF-16
        check_ics(b"\xff\xfe" + b"\x00\xd8" * 10, CAP)


@pytest.mark.parametrize("keep", [60, 0.5, -20])
def test_a_file_cut_short_says_so_in_plain_words(keep: float) -> None:
    data = read("google_export.ics")
    cut = data[: int(len(data) * keep) if isinstance(keep, float) else keep]
    with pytest.raises(CalendarInputError) as caught:
        check_ics(cut, CAP)
    assert str(caught.value) == (
        "This is not a valid iCalendar (.ics) file: it stops before its end (the END:VCALENDAR line is "
        "missing), as a download or a copy cut short does. Export the calendar as .ics again and upload the new file."
    )


def test_check_ics_accepts_every_calendar_fixture() -> None:
    counts = {
        name: check_ics(read(name), CAP)
        for name in [
            "weekly_moved_exdate.ics",
            "weekly_cancelled_override.ics",
            "dst_new_york.ics",
            "all_day.ics",
            "google_export.ics",
            "outlook.ics",
        ]
    }
    assert counts == {
        "weekly_moved_exdate.ics": 2,
        "weekly_cancelled_override.ics": 3,
        "dst_new_york.ics": 1,
        "all_day.ics": 3,
        "google_export.ics": 4,
        "outlook.ics": 2,
    }


# --- the CalendarSource implementations -----------------------------------------------------


def test_file_source_reads_its_calendar() -> None:
    source: CalendarSource = IcsFileSource(read("dst_new_york.ics"), "work.ics")
    assert (source.kind, source.label) == ("ics_file", "work.ics")
    found = source.fetch(datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 10, tzinfo=UTC), NEW_YORK)
    assert [local(m, NEW_YORK) for m in found] == ["Fri 2025-03-07 09:00"]


# --- calendars that repeat too often ------------------------------------------------------

CACHE_WINDOW = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 3, tzinfo=UTC))  # a day back, 60 + 1 ahead


def test_an_ordinary_calendar_has_no_notice() -> None:
    source = IcsFileSource(read("weekly_moved_exdate.ics"), "work.ics")
    source.fetch(datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 5, 1, tzinfo=UTC), UTC)
    assert source.notice is None


def test_a_series_repeating_every_minute_is_left_out_and_named() -> None:
    """174 bytes, one RRULE:FREQ=MINUTELY: it expanded to ~88,000 meetings (10 s to upload)."""
    source = IcsFileSource(
        one_event("UID:m@x\nDTSTART:20260201T000000Z\nDTEND:20260201T000100Z\nRRULE:FREQ=MINUTELY\nSUMMARY:Ping"),
        "minutely.ics",
    )
    assert source.fetch(*CACHE_WINDOW, UTC) == []
    assert source.notice is not None
    assert "“Ping” repeats more often than the assistant can follow" in source.notice
    assert "it is left out" in source.notice


def test_the_other_events_of_a_calendar_with_a_runaway_series_are_kept() -> None:
    text = (
        read("weekly_moved_exdate.ics")
        .decode()
        .replace(
            "END:VCALENDAR",
            "BEGIN:VEVENT\r\nUID:s@x\r\nDTSTART:20250101T000000Z\r\nRRULE:FREQ=SECONDLY\r\nSUMMARY:Tick\r\n"
            "END:VEVENT\r\nEND:VCALENDAR",
        )
    )
    source = IcsFileSource(text.encode(), "work.ics")
    found = source.fetch(datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 5, 1, tzinfo=UTC), UTC)
    assert found and "Tick" not in {m.title for m in found}
    assert source.notice is not None and "“Tick”" in source.notice


def test_a_window_with_more_than_the_cap_keeps_the_earliest_meetings_and_says_so() -> None:
    # minutely from five days before the window's end: few enough steps to expand, too many meetings
    source = IcsFileSource(
        one_event("UID:m@x\nDTSTART:20260428T000000Z\nDTEND:20260428T000100Z\nRRULE:FREQ=MINUTELY\nSUMMARY:Ping"),
        "minutely.ics",
    )
    found = source.fetch(*CACHE_WINDOW, UTC)
    assert len(found) == MAX_OCCURRENCES
    assert found[0].start == datetime(2026, 4, 28, tzinfo=UTC)
    assert found[-1].start == datetime(2026, 4, 28, tzinfo=UTC) + timedelta(minutes=MAX_OCCURRENCES - 1)
    assert source.notice is not None
    assert f"only the first {MAX_OCCURRENCES:,} are used" in source.notice


def test_a_calendar_of_too_many_single_meetings_is_not_told_to_fix_a_repeating_event() -> None:
    """20,000 separate meetings (no series) were cut to the first 2,000 with "Fix or delete the
    repeating event in your calendar": there was none to fix."""
    start = datetime(2026, 3, 2, tzinfo=UTC)
    single = [
        f"UID:s{i}@x\nDTSTART:{start + timedelta(minutes=i):%Y%m%dT%H%M%SZ}\nDURATION:PT30M\nSUMMARY:Call {i}"
        for i in range(MAX_OCCURRENCES + 50)
    ]
    source = IcsFileSource(events(*single), "big.ics")
    assert len(source.fetch(*CACHE_WINDOW, UTC)) == MAX_OCCURRENCES
    notice = source.notice or ""
    assert f"only the first {MAX_OCCURRENCES:,} are used" in notice, notice
    assert "repeating event" not in notice and "shorter period" in notice, notice


def test_an_unknown_time_zone_is_placed_in_the_users_zone_and_said() -> None:
    """A TZID the file does not define and no zone database knows was read as floating time and
    put in the reader's zone without a word."""
    source = IcsFileSource(
        one_event(
            "UID:z@x\nDTSTART;TZID=Mars/Olympus:20260410T100000\nDTEND;TZID=Mars/Olympus:20260410T110000\n"
            "SUMMARY:Rover sync"
        ),
        "mars.ics",
    )
    paris = ZoneInfo("Europe/Paris")
    [meeting] = source.fetch(*CACHE_WINDOW, paris)
    assert meeting.start == datetime(2026, 4, 10, 10, tzinfo=paris)
    assert source.notice is not None and "“Mars/Olympus” is not known" in source.notice
    assert "repeating" not in source.notice  # not the runaway series' advice
    known = IcsFileSource(
        one_event("UID:k@x\nDTSTART;TZID=Asia/Tokyo:20260410T100000\nDTEND;TZID=Asia/Tokyo:20260410T110000\nSUMMARY:K"),
        "tokyo.ics",
    )
    [tokyo] = known.fetch(*CACHE_WINDOW, paris)
    assert tokyo.start == datetime(2026, 4, 10, 10, tzinfo=ZoneInfo("Asia/Tokyo")) and known.notice is None


def test_office_365s_utc_zone_is_utc() -> None:
    """Microsoft 365 writes an event kept in UTC as TZID="tzone://Microsoft/Utc" without a
    VTIMEZONE: it was read as an unknown zone, the 20:30 UTC meeting shown at 20:30 in the
    reader's own zone (16:30 in New York) with a notice to check it."""
    source = IcsFileSource(
        one_event(
            'UID:o@x\nDTSTART;TZID="tzone://Microsoft/Utc":20260410T203000\n'
            'DTEND;TZID="tzone://Microsoft/Utc":20260410T210000\nSUMMARY:Vendor sync\n'
            "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE"
        ),
        "calendar.ics",
    )
    [meeting] = source.fetch(*CACHE_WINDOW, NEW_YORK)
    assert local(meeting, NEW_YORK) == "Fri 2026-04-10 16:30"
    assert source.notice is None and not meeting.floating


def test_a_long_daily_series_is_not_a_runaway() -> None:
    source = IcsFileSource(
        one_event("UID:d@x\nDTSTART:19700101T090000Z\nDTEND:19700101T093000Z\nRRULE:FREQ=DAILY\nSUMMARY:Daily"),
        "daily.ics",
    )
    assert len(source.fetch(*CACHE_WINDOW, UTC)) == 63
    assert source.notice is None


def events(*blocks: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\n{b}\nEND:VEVENT\n" for b in blocks)
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\n{body}END:VCALENDAR\n".replace("\n", "\r\n").encode()


def test_a_daily_series_from_the_year_one_is_left_out_and_named() -> None:
    """Ten 80-byte daily events starting 0001-01-01: each stepped 740,000 days from its start,
    14 s to upload (and to read again whenever the cache expired)."""
    ancient = [f"UID:a{i}@x\nDTSTART:00010101T090000Z\nRRULE:FREQ=DAILY\nSUMMARY:Since Rome {i}" for i in range(10)]
    today = "UID:t@x\nDTSTART:20260410T090000Z\nDTEND:20260410T100000Z\nSUMMARY:Real meeting"
    source = IcsFileSource(events(*ancient, today), "old.ics")
    started = time.thread_time()  # this thread's CPU: neither a busy machine nor the worker's other threads count
    found = source.fetch(*CACHE_WINDOW, UTC)
    assert time.thread_time() - started < 5
    assert [m.title for m in found] == ["Real meeting"]
    assert source.notice is not None and "“Since Rome 0”" in source.notice and "left out" in source.notice


def test_many_old_daily_series_together_are_cut_to_what_can_be_read() -> None:
    """Each daily series from 1900 is 46,000 steps (fine alone); 60 of them took 5 s to read."""
    old = [f"UID:o{i}@x\nDTSTART:19000101T090000Z\nRRULE:FREQ=DAILY\nSUMMARY:Old {i}" for i in range(60)]
    source = IcsFileSource(events(*old), "old.ics")
    started = time.thread_time()  # this thread's CPU: neither a busy machine nor the worker's other threads count
    found = source.fetch(*CACHE_WINDOW, UTC)
    assert time.thread_time() - started < 4
    assert 0 < len({m.title for m in found}) < 60
    assert source.notice is not None and "left out" in source.notice
    # a daily series repeats no more often than anyone meets: the notice says why they were left out
    assert "more often than the assistant can follow" not in source.notice
    assert "more repeating events than the assistant reads at once" in source.notice
    assert "the longest-running are left out" in source.notice


def test_a_series_too_frequent_and_series_too_many_are_told_apart() -> None:
    old = [f"UID:o{i}@x\nDTSTART:19000101T090000Z\nRRULE:FREQ=DAILY\nSUMMARY:Old {i}" for i in range(60)]
    ping = "UID:ping@x\nDTSTART:20240101T090000Z\nRRULE:FREQ=MINUTELY\nSUMMARY:Ping"
    source = IcsFileSource(events(*old, ping), "both.ics")
    source.fetch(*CACHE_WINDOW, UTC)
    notice = source.notice or ""
    assert "“Ping” repeats more often than the assistant can follow" in notice
    assert "“Old" in notice.split("“Ping” repeats")[1]  # the old series after, with their own reason
    assert notice.count("Fix or delete") == 1


def test_file_source_that_is_not_a_calendar_names_itself() -> None:
    source = IcsFileSource(read("sign_in_page.ics"), "work.ics")
    with pytest.raises(CalendarSourceError, match="web page") as caught:
        source.fetch(datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 10, tzinfo=UTC), UTC)
    assert caught.value.source == "work.ics"


@pytest.fixture
def server() -> Iterator[CalendarServer]:
    with CalendarServer() as running:
        yield running


def url_source(url: str, *, allow_private: bool = True) -> IcsUrlSource:
    return IcsUrlSource(url, "Outlook calendar", max_bytes=CAP, timeout=5, allow_private=allow_private)


def test_url_source_fetches_and_lists_meetings(server: CalendarServer) -> None:
    server.routes["/owa/calendar/secret/reachcalendar.ics"] = body(read("outlook.ics"))
    source: CalendarSource = url_source(server.url("/owa/calendar/secret/reachcalendar.ics"))
    assert source.kind == "ics_url"
    found = source.fetch(datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 8, tzinfo=UTC), UTC)
    assert [m.title for m in found] == ["Pipeline review", "Partner call (Pacific time, no VTIMEZONE block)"]
    assert all(m.source == "ics_url" for m in found)
    assert "secret" not in repr(source)


@pytest.mark.parametrize(
    ("route", "allow_private", "words"),
    [
        ("html", True, "web page"),
        ("gone", True, "not found"),
        ("cal", False, "local or private network address"),
    ],
)
def test_url_source_failures_are_source_errors_naming_it(
    server: CalendarServer, route: str, allow_private: bool, words: str
) -> None:
    server.routes["/html"] = body(read("sign_in_page.ics"), content_type="text/html")
    server.routes["/gone"] = status(404)
    server.routes["/cal"] = body(read("outlook.ics"))
    source = url_source(server.url(f"/{route}"), allow_private=allow_private)
    with pytest.raises(CalendarSourceError, match=words) as caught:
        source.fetch(datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 8, tzinfo=UTC), UTC)
    assert caught.value.source == "Outlook calendar"


def test_different_events_sharing_one_uid_are_named_in_the_notice() -> None:
    """Two events with one UID: one was listed and "Lunch with investor" left out without a word.
    An identical copy, or an older SEQUENCE of an updated event, is not named."""
    window = (datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 8, tzinfo=UTC), UTC)
    source = IcsFileSource(
        events(
            "UID:dup-1\nDTSTART:20250402T080000Z\nSUMMARY:Board prep",
            "UID:dup-1\nDTSTART:20250402T120000Z\nSUMMARY:Lunch with investor",
            "UID:copy\nDTSTART:20250403T090000Z\nSUMMARY:Standup",
            "UID:copy\nDTSTART:20250403T090000Z\nSUMMARY:Standup",
            "UID:moved\nSEQUENCE:0\nDTSTART:20250404T090000Z\nSUMMARY:Review",
            "UID:moved\nSEQUENCE:2\nDTSTART:20250404T150000Z\nSUMMARY:Review (moved)",
        ),
        "work.ics",
    )
    found = source.fetch(*window)
    assert len([m for m in found if m.title in ("Board prep", "Lunch with investor")]) == 1
    assert [m.title for m in found if m.title.startswith(("Standup", "Review"))] == ["Standup", "Review (moved)"]
    assert source.notice == (
        "“Board prep”, “Lunch with investor” share one event id (UID) in the file, so only one of them is "
        "listed: check them in your calendar."
    )
