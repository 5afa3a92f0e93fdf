"""The day a message names: "today", "tomorrow", a weekday, or a date ("13 December", "Dec 13th");
or the month it names alone ("meetings in May").

Day words say when, not which meeting: "prep me for tomorrow" searched the titles for "tomorrow",
found none and answered "No meetings tomorrow" over a day full of them. :func:`without_days`
takes them out of a title search; :func:`named_date` reads a date, so "what's on Sunday 13
December" is about the 13th, not the next Sunday. A number after "top", "first", "next" or "last"
counts meetings: "prep me for the top 3 May meetings" was read as 3 May.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from assistant.dates import short_day

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ORDINAL = r"(?:st|nd|rd|th)?"
_NOT_A_COUNT = r"(?<!\btop\s)(?<!\bfirst\s)(?<!\bnext\s)(?<!\blast\s)"  # "top 3 May meetings": 3 meetings
DATE_WORDS = re.compile(
    rf"\b{_NOT_A_COUNT}(?:(\d{{1,2}}){_ORDINAL}\s+(?:of\s+)?{_MONTH}|{_MONTH}\s+(?:the\s+)?(\d{{1,2}}){_ORDINAL})"
    r"(?![\w:])",
    re.I,
)
# A month named alone: after "in", "during"... or before "meetings" ("May I ask" is no month).
MONTH_WORDS = re.compile(
    rf"\b(?:in|during|for|throughout|until|early|mid|late)\s+(?:of\s+)?{_MONTH}(?![\w:])"
    rf"|\b{_MONTH}(?:'s)?(?=\s+(?:meetings?|calendar|schedule)\b)",
    re.I,
)
COUNT_WORDS = re.compile(r"\b(?:top|first|next|last)\s+\d{1,2}\b", re.I)
_DAY_PHRASE = re.compile(
    rf"\b(?:(?:on|this|next)\s+)?(?:today|tonight|tomorrow|{'|'.join(WEEKDAYS)})(?:'s)?"
    rf"(?:\s+(?:morning|afternoon|evening|night))?\b|\b(?:(?:on|the)\s+)?{DATE_WORDS.pattern}|{MONTH_WORDS.pattern}",
    re.I,
)


def named_date(text: str, today: date) -> date | None:
    """The last date ``text`` names ("13 December", "Dec 13th"), the next one from ``today`` on
    (this year's, else next year's), or None."""
    found: date | None = None
    for match in DATE_WORDS.finditer(text):
        day = int(match.group(1) or match.group(4))
        month = _MONTHS.index((match.group(2) or match.group(3)).lower()[:3]) + 1
        for year in (today.year, today.year + 1):
            try:
                candidate = date(year, month, day)
            except ValueError:  # "31 February"; "29 February" only in a leap year, maybe the next one
                continue
            if candidate >= today:
                found = candidate
                break
    return found


def days_of(meeting: dict[str, Any]) -> list[date]:
    """The local dates a meeting is on (an all-day event's end is the midnight after its last day)."""
    try:
        start = datetime.fromisoformat(str(meeting.get("start", "")))
        end = datetime.fromisoformat(str(meeting.get("end", "")))
    except ValueError:
        return []
    last = (end - timedelta(microseconds=1)).date() if end > start else start.date()
    return [start.date() + timedelta(days=n) for n in range((last - start.date()).days + 1)]


def this_week(today: date) -> tuple[date, date]:
    """``today`` and the Sunday that ends its week (Monday to Sunday); on a weekend the Sunday
    that ends the coming week, which is the one a weekend's "this week" is about."""
    sunday = today + timedelta(days=6 - today.weekday())
    return today, sunday + timedelta(days=7) if today.weekday() >= 5 else sunday


def next_week(today: date) -> tuple[date, date]:
    """Monday and Sunday of the week after ``today``'s (on a weekend: the coming one)."""
    monday = today + timedelta(days=7 - today.weekday())
    return monday, monday + timedelta(days=6)


def named_month(text: str, today: date) -> tuple[date, date] | None:
    """The first and last day of the month ``text`` names alone ("in May", "January's meetings"),
    the next one from ``today`` on (this month from today), or None."""
    match = MONTH_WORDS.search(text)
    if match is None:
        return None
    month = _MONTHS.index((match.group(1) or match.group(2)).lower()[:3]) + 1
    year = today.year + (month < today.month)
    first = max(today, date(year, month, 1))
    last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return first, last


def out_of_reach(first: date, today: date, days_ahead: int) -> str | None:
    """What to say when the day or month asked about starts after the days the calendar was read:
    "No meetings on Monday 03 May" claimed a day nobody had looked at."""
    if days_ahead < 1 or first <= (last := today + timedelta(days=days_ahead)):
        return None
    return (
        f"I can see your calendar {days_ahead} days ahead, to {short_day(last)} {last:%Y}: "
        f"{first:%B %Y} is further out, so I can't tell what's on then yet. Ask me again nearer the time."
    )


def times_in(data: dict[str, Any]) -> str:
    """ " (times in NZDT)" from the meetings tool's ``time_zone``, or "": a listing read a day later,
    or after the browser moved to another zone, says whose clock its times are on."""
    zone = str(data.get("time_zone") or "").split(" (")[0]
    return f" (times in {zone})" if zone else ""


def without_days(text: str) -> str:
    """``text`` without the words that name a day ("Monday's board call" -> "board call")."""
    return " ".join(_DAY_PHRASE.sub(" ", text).split())


__all__ = [
    "COUNT_WORDS",
    "DATE_WORDS",
    "MONTH_WORDS",
    "WEEKDAYS",
    "days_of",
    "named_date",
    "named_month",
    "next_week",
    "out_of_reach",
    "times_in",
    "without_days",
]
