"""The day a message names: "today", "tomorrow", a weekday, or a date ("13 December", "Dec 13th").

Day words say when, not which meeting: "prep me for tomorrow" searched the titles for "tomorrow",
found none and answered "No meetings tomorrow" over a day full of them. :func:`without_days`
takes them out of a title search; :func:`named_date` reads a date, so "what's on Sunday 13
December" is about the 13th, not the next Sunday.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ORDINAL = r"(?:st|nd|rd|th)?"
DATE_WORDS = re.compile(
    rf"\b(?:(\d{{1,2}}){_ORDINAL}\s+(?:of\s+)?{_MONTH}|{_MONTH}\s+(?:the\s+)?(\d{{1,2}}){_ORDINAL})(?![\w:])", re.I
)
_DAY_PHRASE = re.compile(
    rf"\b(?:(?:on|this|next)\s+)?(?:today|tonight|tomorrow|{'|'.join(WEEKDAYS)})(?:'s)?"
    rf"(?:\s+(?:morning|afternoon|evening|night))?\b|\b(?:(?:on|the)\s+)?{DATE_WORDS.pattern}",
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


def times_in(data: dict[str, Any]) -> str:
    """ " (times in NZDT)" from the meetings tool's ``time_zone``, or "": a listing read a day later,
    or after the browser moved to another zone, says whose clock its times are on."""
    zone = str(data.get("time_zone") or "").split(" (")[0]
    return f" (times in {zone})" if zone else ""


def without_days(text: str) -> str:
    """``text`` without the words that name a day ("Monday's board call" -> "board call")."""
    return " ".join(_DAY_PHRASE.sub(" ", text).split())


__all__ = ["DATE_WORDS", "WEEKDAYS", "named_date", "times_in", "without_days"]
