"""Calendars whose rules or dates would hang or crash the expansion (assistant/context/ics_limits.py).

Each one is a small hostile or broken ``.ics`` upload: the other events must still be read,
quickly, and what was left out must not end in a traceback or a page that never finishes.
"""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

import pytest

from assistant.context.ics import IcsFileSource

WINDOW = (datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
KEPT = "UID:k@x\nDTSTART:20260410T090000Z\nDTEND:20260410T100000Z\nSUMMARY:Real meeting"


def _calendar(*blocks: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\n{b}\nEND:VEVENT\n" for b in blocks)
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\n{body}END:VCALENDAR\n".replace("\n", "\r\n").encode()


def _titles_and_notice(data: bytes) -> tuple[list[str], str | None]:
    source = IcsFileSource(data, "hostile.ics")
    return [m.title for m in source.fetch(*WINDOW, UTC)], source.notice


def _fetch_in_child(data: bytes, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(_titles_and_notice(data))


def _fetch_within(data: bytes, seconds: float) -> tuple[list[str], str | None]:
    """Fetch in a child process, so a rule that never ends fails the test instead of hanging it."""
    out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    child = multiprocessing.get_context("fork").Process(target=_fetch_in_child, args=(data, out))
    child.start()
    child.join(seconds)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"reading the calendar took more than {seconds} s (it never ends)")
    assert child.exitcode == 0, "reading the calendar failed in the child"
    return out.get(timeout=1)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "rule",
    [
        "RRULE:FREQ=DAILY;INTERVAL=0",
        "RRULE:FREQ=WEEKLY;INTERVAL=-1",
        "RRULE:FREQ=DAILY;COUNT=3\nRRULE:FREQ=HOURLY;INTERVAL=0",  # the second of two rules
    ],
)
def test_a_rule_that_never_moves_on_is_left_out_and_named(rule: str) -> None:
    """``INTERVAL=0`` (the RFC wants a positive integer) made the expansion loop for ever: the
    upload never finished and a server thread spun at full CPU; a negative one lost the whole calendar."""
    data = _calendar(KEPT, f"UID:z@x\nDTSTART:20260401T080000Z\nSUMMARY:Stuck\n{rule}")
    titles, notice = _fetch_within(data, 4)
    assert titles == ["Real meeting"]
    assert notice is not None and "“Stuck”" in notice and "left out" in notice


@pytest.mark.parametrize(
    "dates",
    [
        "DTSTART:20260402T080000Z\nDURATION:P99999999D",
        "DTSTART:20260402T080000Z\nDURATION:PT99999999999S",
        "DTSTART:20260402T080000Z\nDTEND:99991231T235959Z",
    ],
)
def test_an_event_ending_past_the_year_9999_does_not_lose_the_calendar(dates: str) -> None:
    """Such an end raised OverflowError out of the expansion: a traceback instead of the calendar."""
    data = _calendar(KEPT, f"UID:f@x\n{dates}\nSUMMARY:Forever")
    titles, _ = _titles_and_notice(data)
    assert "Real meeting" in titles
