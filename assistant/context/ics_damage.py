"""Events whose dates cannot be read: left out, or read without the damaged dates, and named.

``recurring_ical_events`` (with ``skip_bad_series``) drops a whole series — every event sharing
its UID — when one of its events has an end, a length, a moved date (``RECURRENCE-ID``), an extra
date (``RDATE``) or a skipped date (``EXDATE``) that cannot be read, and says nothing. Before the
expansion:

- an event whose DTSTART, DTEND, DURATION or RECURRENCE-ID cannot be read (damaged, given twice,
  of the wrong kind) or whose DURATION is negative (a length cannot run backwards; the library
  swapped start and end, so ``DURATION:-P1D`` became a day-long meeting the day before), as is
  one whose DTEND comes before its DTSTART (swapped the same way), is left
  out on its own: a series keeps its other occurrences when only a moved one is damaged;
- an unreadable RDATE or EXDATE line is dropped and the event kept: the series still has its
  regular dates, which is what the user knows it by (an unreadable EXDATE may show a date that
  was removed, and the notice says to check it);
- a one-off that cannot be read is named only when it starts within two days of the window
  (one from years ago would be named at every fetch for nothing).

:func:`damage_notice` turns what was found into the sentences of the source's notice; a series the
library still skips for another reason is named the same way (see ``assistant.context.ics``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import icalendar

from assistant.context.ics_fields import NO_TITLE, property_text
from assistant.context.ics_limits import quoted_names

logger = logging.getLogger(__name__)

_SINGLE_DATES = ("DTSTART", "DTEND", "RECURRENCE-ID")
_RECURRING = ("RRULE", "RDATE", "RECURRENCE-ID")
_MARGIN = timedelta(days=2)  # wider than any UTC offset, as the window cut uses


@dataclass
class Damage:
    """What :func:`mend_damaged_events` found.

    Attributes:
        left_out: Titles of the events left out because a date or length cannot be read.
        extra_dates: Titles of the events kept without their unreadable RDATE.
        skipped_dates: Titles of the events kept without their unreadable EXDATE.
        same_uid: Titles of different events that share one UID (only one of them is listed).
    """

    left_out: list[str] = field(default_factory=list)
    extra_dates: list[str] = field(default_factory=list)
    skipped_dates: list[str] = field(default_factory=list)
    same_uid: list[str] = field(default_factory=list)


def title_of(event: icalendar.cal.Component) -> str:
    """The event's title as a notice names it."""
    return property_text(event, "SUMMARY", 80) or NO_TITLE


def _reads(event: icalendar.cal.Component, name: str) -> bool:
    """Whether the event's property ``name`` is absent, or present once with a value of its kind."""
    value = event.get(name)
    if value is None:
        return name != "DTSTART"
    if isinstance(value, list):  # given twice: which one is meant is unknown
        return False
    try:
        moment = value.dt
    except (ValueError, AttributeError):  # icalendar's BrokenCalendarProperty is a ValueError
        return False
    if name == "DURATION":
        return isinstance(moment, timedelta) and moment >= timedelta(0)
    return isinstance(moment, date)  # a datetime is a date


def _backwards(event: icalendar.cal.Component) -> bool:
    """Whether the event ends before it starts (the library would swap the two: an earlier meeting)."""
    start, end = event.get("DTSTART"), event.get("DTEND")
    if start is None or end is None:
        return False
    first, last = start.dt, end.dt
    if isinstance(first, datetime) != isinstance(last, datetime):
        return False  # a date and a time: the library reads that mix its own way
    if isinstance(first, datetime) and (first.tzinfo is None) != (last.tzinfo is None):
        return False  # floating and zoned: not comparable before the user's zone is known
    return bool(last < first)


def _readable_dates(value: Any) -> tuple[list[Any], bool]:
    """The RDATE/EXDATE lines of ``value`` that read, and whether any did not."""
    lines = value if isinstance(value, list) else [value]
    kept = []
    for line in lines:
        try:
            [item.dt for item in line.dts]
        except (ValueError, AttributeError, TypeError):
            continue
        kept.append(line)
    return kept, len(kept) < len(lines)


def _near(event: icalendar.cal.Component, start: datetime, end: datetime) -> bool:
    """Whether the event recurs, or starts (or may start) within two days of ``[start, end)``."""
    if any(name in event for name in _RECURRING):
        return True
    try:
        moment = event.get("DTSTART").dt
    except (ValueError, AttributeError):
        return True
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), tzinfo=UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return start - _MARGIN <= moment <= end + _MARGIN


def mend_damaged_events(calendar: icalendar.Calendar, start: datetime, end: datetime) -> Damage:
    """Leaves out the events whose dates cannot be read and drops unreadable RDATE/EXDATE lines.

    Args:
        calendar: The parsed calendar (changed in place).
        start: The window's start (aware).
        end: The window's end (aware).

    Returns:
        What was left out or read without some of its dates.
    """
    damage = Damage()
    unreadable: list[icalendar.cal.Component] = []
    for event in calendar.walk("VEVENT"):
        if not all(_reads(event, name) for name in (*_SINGLE_DATES, "DURATION")) or _backwards(event):
            unreadable.append(event)
            if _near(event, start, end):
                damage.left_out.append(title_of(event))
            continue
        for name, named in (("RDATE", damage.extra_dates), ("EXDATE", damage.skipped_dates)):
            if name not in event:
                continue
            kept, dropped = _readable_dates(event[name])
            if dropped:
                del event[name]
                if kept:
                    event[name] = kept if len(kept) > 1 else kept[0]
                named.append(title_of(event))
    if unreadable:
        calendar.subcomponents = [c for c in calendar.subcomponents if not any(c is u for u in unreadable)]
    if damage.left_out or damage.extra_dates or damage.skipped_dates:
        logger.info(
            "left_out=<%d>, rdate=<%d>, exdate=<%d> | calendar events with unreadable dates",
            len(damage.left_out),
            len(damage.extra_dates),
            len(damage.skipped_dates),
        )
    return damage


def same_uid_titles(calendar: icalendar.Calendar) -> list[str]:
    """Titles of different events sharing one UID (neither a moved occurrence nor an older SEQUENCE).

    A UID names one event: the expansion lists one of them, as a calendar importing the file
    would, and left the other out without a word ("Lunch with investor" gone behind "Board prep").
    Identical copies (the same title and start) are not named.
    """
    versions: dict[str, list[icalendar.cal.Component]] = {}
    for event in calendar.walk("VEVENT"):
        uid = event.get("UID")
        if "RECURRENCE-ID" not in event and isinstance(uid, str) and uid.strip():
            versions.setdefault(uid.strip(), []).append(event)
    titles: list[str] = []
    for events in versions.values():
        latest = max(_sequence(e) for e in events)
        current = [e for e in events if _sequence(e) == latest]
        if len({_version(e) for e in current}) > 1:
            titles.extend(title_of(e) for e in current)
    return titles


def _version(event: icalendar.cal.Component) -> tuple[str, bytes | None]:
    """What tells two events with one UID apart: the title and the start as written."""
    start = event.get("DTSTART")
    return title_of(event), start.to_ical() if hasattr(start, "to_ical") else None


def _sequence(event: icalendar.cal.Component) -> int:
    try:
        return int(event.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        return 0


def _named(items: list[str]) -> tuple[str, bool]:
    """:func:`~assistant.context.ics_limits.quoted_names` of ``items``, each title once (a series' events share one)."""
    return quoted_names(list(dict.fromkeys(items)))


def damage_notice(damage: Damage) -> str | None:
    """The sentences telling the user which events were left out or read without some dates, or None."""
    notes = []
    if damage.left_out:
        names, one = _named(damage.left_out)
        notes.append(
            f"{names} {'has' if one else 'have'} a start, end, length or moved date that cannot be read, "
            f"so {'it is' if one else 'they are'} left out: fix {'it' if one else 'them'} in your calendar "
            "and connect it again."
        )
    if damage.extra_dates:
        names, one = _named(damage.extra_dates)
        notes.append(
            f"{names} {'lists' if one else 'list'} extra dates that cannot be read, so only "
            f"{'its' if one else 'their'} regular dates are shown."
        )
    if damage.skipped_dates:
        names, one = _named(damage.skipped_dates)
        notes.append(
            f"{names} {'lists' if one else 'list'} removed dates that cannot be read, so a date that was "
            "removed may still be shown: check it in your calendar."
        )
    if damage.same_uid:
        names, _ = _named(damage.same_uid)
        notes.append(
            f"{names} share one event id (UID) in the file, so only one of them is listed: check them in your calendar."
        )
    return " ".join(notes) or None


__all__ = ["Damage", "damage_notice", "mend_damaged_events", "same_uid_titles", "title_of"]
