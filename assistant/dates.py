"""A day as every page, export, CLI line and demo answer writes it: "Tue 8 Dec", "Tuesday 8 December".

One form everywhere (the Prep queue said "Tue 8 Dec" while My context and the demo model's
answers said "Tue 08 Dec"). ``%-d`` is not portable (Windows' strftime refuses it), so the day
of the month is written from the date itself.
"""

from __future__ import annotations

from datetime import date


def short_day(day: date) -> str:
    """``"Tue 8 Dec"`` for a date or datetime (English day and month names, no leading zero)."""
    return f"{day:%a} {day.day} {day:%b}"


def long_day(day: date) -> str:
    """``"Tuesday 8 December"`` for a date or datetime (an agenda's heading, a demo answer's summary)."""
    return f"{day:%A} {day.day} {day:%B}"
