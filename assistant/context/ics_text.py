"""Reading an iCalendar file's bytes: the cheap checks, the parse, and the window cut before expanding.

A hostile or mistaken upload (too big, empty, binary, a sign-in page's HTML, not a VCALENDAR,
unparseable) is refused here with a message that says what to export instead; nothing is saved.
"""

from __future__ import annotations

import codecs
import logging
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from icalendar.timezone import tzp

from assistant.context.sources import CalendarInputError
from assistant.inputs import clean_display_text, log_safe

logger = logging.getLogger(__name__)

_FOLDED_LINE = re.compile(r"\r?\n[ \t]")
_LINE_BREAK = re.compile(r"\r?\n")
_ALWAYS_KEPT_PROPERTIES = frozenset({"RRULE", "RDATE", "EXRULE", "RECURRENCE-ID", "DURATION"})
_PARSE_LOCK = threading.Lock()  # one parse at a time: each starts icalendar's zone cache afresh
# Zones real files name that neither icalendar nor the zone database knows, and that files do not
# define: Microsoft 365 writes an event kept in UTC as TZID="tzone://Microsoft/Utc".
_ZONE_ALIASES = (icalendar.Timezone.from_tzinfo(ZoneInfo("UTC"), tzid="tzone://Microsoft/Utc"),)
# A content line icalendar always reads inside an event: a plain name (not BEGIN or END), each
# parameter with one plain or quoted value (two values, or a character the format forbids, may
# raise), then the value, whatever it holds.
_PLAIN_LINE = re.compile(
    r'(?!(?i:begin|end|categories)[;:])[A-Za-z0-9-]+(?:;[A-Za-z0-9-]+=(?:"[^"\x00-\x08\x0a-\x1f\x7f]*"|[^",:;\x00-\x08\x0a-\x1f\x7f]+))*:.*'
)
_SAMPLED_EVENTS = 20  # parsed in any case: an ordinary file's start is readable in the first one
_HTML_START = re.compile(r"^\s*(?:<!doctype\s+html|<html|<head|<body|<\?xml[^>]*>\s*<(?:!doctype\s+)?html)", re.I)


def _mb(max_bytes: int) -> str:
    return f"{max_bytes / 1_000_000:g} MB"


_NOT_TEXT = "This file is not text, so it is not an iCalendar (.ics) file; export the calendar as .ics and try again."


def _decode(data: bytes) -> str:
    """The calendar's text: UTF-8 (with or without a BOM), else Windows-1252 (old Outlook exports).
    (UTF-16, which starts with its byte-order mark, is read by :func:`checked_text`.)"""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def checked_text(data: bytes, max_bytes: int | None = None) -> str:
    """The calendar's text once the bytes pass the cheap checks.

    Raises:
        CalendarInputError: Too big, empty, not text, a web page, or not a VCALENDAR.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise CalendarInputError(
            f"The calendar is larger than {_mb(max_bytes)} ({len(data) / 1_000_000:.1f} MB); "
            "export a shorter period or a single calendar and try again."
        )
    if not data.strip():
        raise CalendarInputError("The calendar file is empty; export the calendar as .ics again and upload that file.")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Windows' "Unicode" text
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise CalendarInputError(_NOT_TEXT) from None
    elif b"\x00" in data[:4096]:
        raise CalendarInputError(_NOT_TEXT)
    else:
        text = _decode(data)
    is_calendar = text.lstrip().upper().startswith("BEGIN:VCALENDAR")
    # A calendar's own events may hold HTML near its top (Outlook's X-ALT-DESC, Google's
    # <html-blob> descriptions): only what does not start as a calendar is looked at for a page.
    if not is_calendar and (_HTML_START.match(text[:1024]) or "<html" in text[:1024].lower()):
        raise CalendarInputError(
            "This is a web page (HTML), not a calendar (an address that leads to a sign-in page gives one). "
            "Export the calendar as .ics, or copy the secret address in iCal format from your calendar's settings."
        )
    if not is_calendar:
        raise CalendarInputError(
            "This is not an iCalendar (.ics) calendar: it does not start with BEGIN:VCALENDAR. "
            "Export the calendar as .ics and try again."
        )
    return text


def _damaged(text: str) -> str:
    """What to tell the user about a calendar the parser refused (never the parser's own words)."""
    if not text.rstrip().upper().endswith("END:VCALENDAR"):
        return (
            "This is not a valid iCalendar (.ics) file: it stops before its end (the END:VCALENDAR "
            "line is missing), as a download or a copy cut short does. Export the calendar as .ics "
            "again and upload the new file."
        )
    return (
        "This is not a valid iCalendar (.ics) file: part of it is damaged (an event that is not "
        "closed, or a line the calendar format does not allow). Export the calendar as .ics again "
        "and upload the new file."
    )


def parse_text(text: str) -> icalendar.Calendar:
    """The parsed calendar.

    Raises:
        CalendarInputError: The parser refused it: the message says whether the file was cut
            short or is damaged, and what to do; the parser's own reason is only logged.
    """
    try:
        with _PARSE_LOCK:
            # icalendar keeps each VTIMEZONE it reads in one cache for the whole process, keyed by
            # TZID, the first definition kept: Outlook names any zone the user edited "Customized
            # Time Zone", so a New York file read after a Sydney one got Sydney's times. Each file
            # is read with only its own definitions (use_zoneinfo starts an empty cache).
            icalendar.use_zoneinfo()  # type: ignore[no-untyped-call]  # the library leaves it untyped
            for zone in _ZONE_ALIASES:
                tzp.cache_timezone_component(zone)
            calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
        # AttributeError: a parameter given two values where one is wanted (VALUE=DAT,E).
        # the parser's reason ("Found no components where exactly one is required: ...") is for the log
        logger.info("error=<%s> | calendar not parsed", log_safe(str(e), 200))
        raise CalendarInputError(_damaged(text)) from e
    if not isinstance(calendar, icalendar.Calendar):
        raise CalendarInputError(
            "This is not an iCalendar (.ics) calendar: it holds no VCALENDAR. "
            "Export the calendar as .ics and try again."
        )
    return calendar


def unknown_zones(calendar: icalendar.Calendar) -> list[str]:
    """Zones named by an event's start (TZID) that neither the file (VTIMEZONE) nor the zone
    database knows: icalendar reads such times as floating. Each once, in file order.

    An event whose start is unreadable or given twice is passed over here (the expansion skips
    or reports it): reading it raised, and the whole calendar was lost.
    """
    zones: dict[str, None] = {}
    for event in calendar.walk("VEVENT"):
        start = event.get("DTSTART")
        try:
            tzid, moment = start.params.get("TZID"), start.dt
        except (AttributeError, ValueError):  # None, a list of two starts, a broken property
            continue
        if tzid and isinstance(moment, datetime) and moment.tzinfo is None:
            zones[clean_display_text(str(tzid), limit=60)] = None
    return list(zones)


def _date_of(line: str) -> date | None:
    """The date of a DTSTART/DTEND content line (``...:20250407T100000``), or None."""
    value = line.rsplit(":", 1)[-1].strip()
    if len(value) < 8 or not value[:8].isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return None


def _may_overlap(block: list[str], first: date, last: date) -> bool:
    """Whether a VEVENT's lines could give an occurrence between two dates (when unsure: yes)."""
    start: date | None = None
    end: date | None = None
    for line in block[1:]:
        name = line.split(":", 1)[0].split(";", 1)[0].upper()
        if name in _ALWAYS_KEPT_PROPERTIES:
            return True
        if name == "DTSTART" and start is None:
            start = _date_of(line)
            if start is None:
                return True
        elif name == "DTEND" and end is None:
            end = _date_of(line)
            if end is None:
                return True
        elif name == "BEGIN":  # a nested VALARM: the event's own properties are done
            break
    if start is None:
        return True
    # an end before the start is the start: such an event is left out and named later, never dropped unsaid
    return start <= last and max(end or start, start) >= first


def _pieces(text: str) -> Iterator[str | list[str]]:
    """The calendar's unfolded content lines, each VEVENT's lines together as one list.

    An event runs to its first END:VEVENT; one never closed is its lines to the file's end.
    """
    block: list[str] | None = None
    for line in _LINE_BREAK.split(_FOLDED_LINE.sub("", text)):  # not splitlines: U+2028 stays in its line
        if block is None:
            if line[:12].upper() == "BEGIN:VEVENT":
                block = [line]
            else:
                yield line
            continue
        block.append(line)
        if line[:10].upper() == "END:VEVENT":
            yield block
            block = None
    if block is not None:  # unterminated: kept as lines, for the parser to say so
        yield from block


def _window_text(text: str, start: datetime, end: datetime) -> str:
    """The calendar without the one-off events that cannot overlap ``[start, end)``.

    Parsing is most of the cost (icalendar reads each content line in Python), and a year's
    file holds mostly one-offs outside the window asked for. An event is dropped only when it
    has no recurrence (RRULE, RDATE, EXRULE, RECURRENCE-ID), no DURATION, and its DTSTART and
    DTEND dates both read cleanly and fall more than two days outside the window (a margin
    wider than any UTC offset); everything else is parsed and expanded as before.
    """
    first = (start.astimezone(UTC) - timedelta(days=2)).date()
    last = (end.astimezone(UTC) + timedelta(days=2)).date()
    out: list[str] = []
    for piece in _pieces(text):
        if isinstance(piece, str):
            out.append(piece)
        elif _may_overlap(piece, first, last):
            out.extend(piece)
    return "\r\n".join(line for line in out if line) + "\r\n"


def window_calendar(data: bytes, start: datetime, end: datetime, max_bytes: int | None = None) -> icalendar.Calendar:
    """The checked calendar, parsed with only the events that may fall in ``[start, end)``."""
    calendar = parse_text(_window_text(checked_text(data, max_bytes), start, end))
    _drop_unreadable_x_wr_timezone(calendar)
    return calendar


def _drop_unreadable_x_wr_timezone(calendar: icalendar.Calendar) -> None:
    """Read a calendar whose X-WR-TIMEZONE names no zone (empty, unknown, given twice) as if it had
    none: the expansion raised on it and the whole file was refused as unreadable events."""
    value = calendar.get("X-WR-TIMEZONE")
    if value is None:
        return
    try:
        if isinstance(value, list):
            raise ValueError("X-WR-TIMEZONE given more than once")
        ZoneInfo(str(value))
    except (ValueError, KeyError) as e:  # ZoneInfoNotFoundError is a KeyError
        logger.info("error=<%s> | calendar time zone ignored", log_safe(str(e), 120))
        del calendar["X-WR-TIMEZONE"]


def check_ics(data: bytes, max_bytes: int) -> int:
    """Validates an uploaded or fetched calendar before anything is saved.

    Only what the parser could refuse is parsed: the calendar's own lines, its time zones, every
    event holding anything but plain content lines (an alarm, a parameter given two values, a
    line that is not ``NAME;PARAM=value:value``), and the first few events, one of which has a
    readable start in any ordinary file. The plain events between them are counted, not parsed
    (icalendar reads a plain event without raising, whatever its values: an unreadable date is
    reported when a window is read). Parsing every event took ~5 s of CPU for a 5 MB file of
    20,000 events; a file where no parsed event has a start is then parsed whole to be sure.

    Args:
        data: The file's or the address's bytes.
        max_bytes: The size cap (ICS_MAX_BYTES).

    Returns:
        The number of VEVENT components (a recurring series counts once, each override once).

    Raises:
        CalendarInputError: Too big, not text, an HTML page (a sign-in page instead of the
            calendar), not a VCALENDAR, unparseable (with the parser's reason), or no events.
    """
    text = checked_text(data, max_bytes)
    kept: list[str] = []
    skipped = sampled = 0
    for piece in _pieces(text):
        if isinstance(piece, str):
            kept.append(piece)
        elif sampled < _SAMPLED_EVENTS or not _plain_event(piece):
            kept.extend(piece)
            sampled += 1
        else:
            skipped += 1
    calendar = parse_text("\r\n".join(line for line in kept if line) + "\r\n" if skipped else text)
    events = list(calendar.walk("VEVENT"))
    if skipped and not any(_has_start(event) for event in events):
        calendar, skipped = parse_text(text), 0  # to be sure no event has a start
        events = list(calendar.walk("VEVENT"))
    if not events:
        raise CalendarInputError(
            "The calendar has no events; check that you exported the right calendar and that it has meetings."
        )
    if not any(_has_start(event) for event in events):
        # Saved, it would replace the user's calendar with one that lists no meeting at all.
        raise CalendarInputError(
            f"This calendar cannot be used: no event in this calendar has a start time that can be read "
            f"({len(events)} checked). Export the calendar as .ics again and upload the new file."
        )
    return len(events) + skipped


def _plain_event(block: list[str]) -> bool:
    """Whether icalendar reads this closed event without raising: every line a plain content line,
    nothing nested in it (an alarm's values, unlike an event's, raise when unreadable)."""
    return (
        block[0].upper() == "BEGIN:VEVENT"
        and block[-1].upper() == "END:VEVENT"
        and all(not line or _PLAIN_LINE.fullmatch(line) is not None for line in block[1:-1])
    )


def _has_start(event: icalendar.cal.Component) -> bool:
    """Whether an event's DTSTART is there and reads as a date or time (a broken one raises on ``.dt``)."""
    try:
        return getattr(event.get("DTSTART"), "dt", None) is not None
    except ValueError:  # icalendar's BrokenCalendarProperty
        return False


__all__ = ["check_ics", "checked_text", "parse_text", "window_calendar"]
