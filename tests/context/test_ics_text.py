"""Checking an uploaded calendar: a big file is checked fast, and nothing the parser refuses slips by.

``check_ics`` parses only the events the parser could refuse (and the first few); these tests hold
it to the answer of parsing the whole file.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.context.ics_text import _plain_event, check_ics, parse_text
from assistant.context.sources import CalendarInputError

CAP = 5_000_000
START = datetime(2024, 1, 1, 9, tzinfo=UTC)


def _event(i: int, extra: str = "") -> str:
    start = START + timedelta(hours=2 * i)
    return (
        f"BEGIN:VEVENT\r\nUID:ev-{i}@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{start + timedelta(minutes=30):%Y%m%dT%H%M%SZ}\r\n"
        f'SUMMARY:Review {i}\\, with the team\r\nATTENDEE;CN="Doe, Jane";PARTSTAT=ACCEPTED:mailto:j@x.test\r\n'
        f"DESCRIPTION:Quarterly planning and review of goals\r\nLOCATION:Room 4\r\n{extra}END:VEVENT\r\n"
    )


def _calendar(events: list[str]) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" + "".join(events) + "END:VCALENDAR\r\n").encode()


def test_a_calendar_at_the_size_cap_is_checked_in_well_under_a_second() -> None:
    """A 5 MB export (~17,000 events) took ~4.5 s of CPU to check, every event parsed, before the
    same file was read again for the next weeks: the upload's spinner turned for ~5 s or more."""
    events: list[str] = []
    size = 0
    while size < CAP - 2_000:
        events.append(_event(len(events)))
        size += len(events[-1])
    data = _calendar(events[:-1])
    assert len(data) <= CAP
    began = time.thread_time()
    assert check_ics(data, CAP) == len(events) - 1
    assert time.thread_time() - began < 1.5


@pytest.mark.parametrize(
    "damage",
    [
        "DTSTART;VALUE=DAT,E:20250402\r\n",  # a parameter given two values
        "BEGIN:VALARM\r\nTRIGGER:garbage\r\nACTION:DISPLAY\r\nEND:VALARM\r\n",  # an alarm's unreadable value
        "END;X=1:VEVENT\r\nSUMMARY:after its end\r\n",  # the event closed early, a line left outside it
    ],
)
def test_a_damaged_event_deep_in_a_long_file_is_still_refused(damage: str) -> None:
    events = [_event(i) for i in range(300)]
    events[250] = _event(250, damage)
    with pytest.raises(CalendarInputError, match="part of it is damaged"):
        check_ics(_calendar(events), CAP)


def test_the_first_readable_start_may_come_late() -> None:
    """Events without a readable start first, one readable far down: the calendar is usable."""
    unreadable = [f"BEGIN:VEVENT\r\nUID:u{i}@x\r\nDTSTART:2026130\r\nSUMMARY:Odd\r\nEND:VEVENT\r\n" for i in range(200)]
    assert check_ics(_calendar([*unreadable, _event(1)]), CAP) == 201
    with pytest.raises(CalendarInputError, match="no event in this calendar has a start time that can be read"):
        check_ics(_calendar(unreadable), CAP)


_CHARS = st.sampled_from(list('aZ09-_.,;:="\\/ \té\x01\x7f+@'))
_NAMES = st.one_of(
    st.sampled_from(
        "DTSTART DTEND SUMMARY RRULE EXDATE RDATE ATTENDEE DURATION TRIGGER CATEGORIES GEO PRIORITY STATUS X-FOO "
        "RECURRENCE-ID BEGIN END begin FREEBUSY ATTACH EXRULE URL LAST-MODIFIED TZOFFSETFROM REQUEST-STATUS "
        "CLASS".split()
    ),
    st.text(_CHARS, max_size=8),
)
_PARAMS = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(["TZID", "VALUE", "CN", "X-P", "PARTSTAT"]), st.text(_CHARS, max_size=5)),
        st.one_of(
            st.sampled_from(["DATE", "DATE-TIME", "Europe/Berlin", "PERIOD", "DAT,E", '"a,b"', "x:y", "UNKNOWN"])
            | st.sampled_from(["BINARY", "URI", "RECUR", "DURATION", "TIME", "UTC-OFFSET", "BOOLEAN", "INTEGER"])
            | st.sampled_from(["FLOAT", "CAL-ADDRESS", "TEXT", "date", '"DATE"', "X-NAME"]),
            st.text(_CHARS, max_size=8),
        ),
    ),
    max_size=3,
)
_VALUES = st.one_of(
    st.sampled_from(["20250402", "20250402T100000Z", "garbage", "FREQ=WEEKLY", "PT1H", "-PT15M", "VALARM", ""]),
    st.text(_CHARS, max_size=12),
)
_LINES = st.one_of(
    st.builds(lambda n, p, v: n + "".join(f";{k}={x}" for k, x in p) + ":" + v, _NAMES, _PARAMS, _VALUES),
    st.text(_CHARS, max_size=20),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, max_size=6))
def test_an_event_passed_as_plain_is_one_the_parser_reads(lines: list[str]) -> None:
    """What the check counts without parsing is never what parsing would refuse."""
    block = ["BEGIN:VEVENT", *lines, "END:VEVENT"]
    if _plain_event(block):
        text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "\r\n".join(block) + "\r\nEND:VCALENDAR\r\n"
        assert len(list(parse_text(text).walk("VEVENT"))) == 1
