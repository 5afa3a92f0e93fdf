"""How much of an iCalendar is expanded: the cap on meetings, and series that repeat too often.

One ``RRULE:FREQ=MINUTELY`` line is ~90,000 meetings over the cache window (seconds to expand,
store and draw), and dateutil steps a rule from its DTSTART, not from the window, so a series
repeating every minute for a year costs seconds before the window even starts (and a daily one
from the year 1, 740,000 steps, 1.5 s). The bounds:

- a series whose rule repeats more than once a day and would take more than
  :data:`MAX_SERIES_STEPS` steps from its DTSTART to the window's end is left out (no one has a
  meeting every minute); any other series past :data:`MAX_SLOW_SERIES_STEPS` (a daily series
  started before 1752) too;
- the series of one calendar together take at most :data:`MAX_CALENDAR_STEPS` steps: past it,
  the costliest are left out (many old series, each fine alone);
- at most :data:`MAX_OCCURRENCES` meetings of one calendar are kept, the earliest first.

The source's ``notice`` (:func:`cut_notice`) tells the user what was left out.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time
from typing import Any

MAX_OCCURRENCES = 2_000
MAX_SERIES_STEPS = 20_000  # a minutely series started two weeks before the window's end
MAX_SLOW_SERIES_STEPS = 100_000  # a daily series started in 1752, a weekly one in the year 1
MAX_CALENDAR_STEPS = 500_000  # about 1 s: 130 daily series of ten years, 480 weekly of twenty
_PERIOD_SECONDS = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3_600,
    "DAILY": 86_400,
    "WEEKLY": 7 * 86_400,
    "MONTHLY": 28 * 86_400,
    "YEARLY": 365 * 86_400,
}
_EXPANDING_PARTS = ("BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH")


def _utc(value: date | datetime) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _never_moves_on(rule: Any) -> bool:
    """Whether a rule's INTERVAL is 0 or negative (the RFC wants a positive integer): dateutil
    then steps in place for ever, so expanding it never ends."""
    try:
        return int((rule.get("INTERVAL") or [1])[0]) < 1
    except (ValueError, TypeError, AttributeError, IndexError):
        return False


def rule_steps(event: Any, end: datetime) -> tuple[float, int]:
    """About how many steps expanding the event's RRULE up to ``end`` takes, and the most it may take.

    0 steps for an event without a rule, and for one this estimate cannot read (the library
    reads it and says what is wrong); infinitely many for a rule whose INTERVAL is not positive
    (of any of the event's rules), which never reaches ``end``. Each BY part counts as if it
    multiplied a period's occurrences, an upper bound.

    Args:
        event: A parsed VEVENT.
        end: The end of the window to expand (aware).

    Returns:
        The steps, and :data:`MAX_SERIES_STEPS` for a rule that repeats more than once a day,
        else :data:`MAX_SLOW_SERIES_STEPS`.
    """
    rules = event.get("RRULE")
    rules = rules if isinstance(rules, list) else [rules] if rules is not None else []
    if any(_never_moves_on(r) for r in rules):
        return math.inf, MAX_SERIES_STEPS
    rule = rules[0] if rules else None
    if rule is None:
        return 0, MAX_SLOW_SERIES_STEPS
    try:
        start = getattr(event.get("DTSTART"), "dt", None)  # a broken DTSTART raises here
        if not isinstance(start, date):
            return 0, MAX_SLOW_SERIES_STEPS
        period = _PERIOD_SECONDS.get(str((rule.get("FREQ") or [""])[0]).upper())
        if period is None:
            return 0, MAX_SLOW_SERIES_STEPS
        period *= max(1, int((rule.get("INTERVAL") or [1])[0]))
        per_period = 1
        for part in _EXPANDING_PARTS:
            per_period *= max(1, len(rule.get(part) or []))
        limit = MAX_SLOW_SERIES_STEPS if per_period * 86_400 / period <= 1 else MAX_SERIES_STEPS
        until = rule.get("UNTIL")
        stop = min(end, _utc(until[0])) if until else end
        steps = max(0.0, (stop - _utc(start)).total_seconds()) / period * per_period
        count = rule.get("COUNT")
        if count and per_period == 1:
            steps = min(steps, int(count[0]))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
        return 0, MAX_SLOW_SERIES_STEPS  # an unreadable rule or start is the library's to report
    return steps, limit


def quoted_names(items: list[str]) -> tuple[str, bool]:
    """The first three of ``items`` quoted ("“a”, “b”, “c” and 2 more"), and whether there is one."""
    names = ", ".join(f"“{item}”" for item in items[:3])
    more = f" and {len(items) - 3:,} more" if len(items) > 3 else ""
    return names + more, len(items) == 1


def cut_notice(
    left_out: list[str],
    *,
    truncated: bool,
    by_series: bool = True,
    too_many: list[str] | None = None,
) -> str | None:
    """What the user should know about what was left out of a calendar, or None.

    Args:
        left_out: Titles of the series left out for repeating too often.
        truncated: Whether only the first MAX_OCCURRENCES meetings were kept.
        by_series: Whether a repeating event filled them (else the calendar just holds that many).
        too_many: Titles of the series left out, the longest-running first, because the
            calendar's series together take more than MAX_CALENDAR_STEPS (each is fine alone).
    """
    notes = []
    if left_out:
        names, one = quoted_names(left_out)
        notes.append(
            f"{names} {'repeats' if one else 'repeat'} more often than the assistant can follow "
            "(every minute or hour for a long time, or every day for centuries), "
            f"so {'it is' if one else 'they are'} left out."
        )
    if too_many:
        names, one = quoted_names(too_many)
        notes.append(
            "This calendar has more repeating events than the assistant reads at once, so "
            f"the longest-running are left out: {names}."
        )
    if truncated:
        notes.append(
            f"This calendar has more than {MAX_OCCURRENCES:,} meetings in the weeks ahead: "
            f"only the first {MAX_OCCURRENCES:,} are used."
        )
    if left_out or too_many or (truncated and by_series):
        notes.append("Fix or delete the repeating event in your calendar and connect it again.")
    elif truncated:
        notes.append("Export a shorter period or a single calendar and connect it again to have them all.")
    return " ".join(notes) or None


def zone_notice(unknown_zones: list[str]) -> str | None:
    """What the user should know about time zones (TZID) the calendar names but does not define and
    the zone database does not know: their meetings are shown in the user's own zone. None: none."""
    if not unknown_zones:
        return None
    names, one = quoted_names(unknown_zones)
    return (
        f"The time zone{'' if one else 's'} {names} {'is' if one else 'are'} not known, so "
        f"{'its' if one else 'their'} meetings are shown at their clock times in your own time zone: "
        "check them in your calendar."
    )


__all__ = [
    "MAX_CALENDAR_STEPS",
    "MAX_OCCURRENCES",
    "MAX_SERIES_STEPS",
    "MAX_SLOW_SERIES_STEPS",
    "cut_notice",
    "quoted_names",
    "rule_steps",
    "zone_notice",
]
