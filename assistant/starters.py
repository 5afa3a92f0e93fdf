"""Starter prompts for an empty chat session, built from the user's next meetings.

Each starter reads "Prepare me for <meeting>, <day> at <HH:MM>". The comma matters: the
meeting name is what the agent (and the offline demo model) searches the calendar for,
and the time after the comma must not become part of that search.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from assistant.context.data_files import DataFileError
from assistant.context.demo_calendar import upcoming_meetings
from assistant.context.meeting_zone import zone_name
from assistant.context.meetings import Meeting
from assistant.dates import short_day

logger = logging.getLogger(__name__)

DEFAULT_STARTERS = 3
GENERIC_PROMPTS: tuple[tuple[str, str], ...] = (
    ("What meetings do I have this week?", ":material/calendar_month:"),
    ("What is the status of our big rocks?", ":material/flag:"),
    ("How is our budget tracking?", ":material/account_balance:"),
)


@dataclass(frozen=True)
class Starter:
    """One starter prompt button.

    Attributes:
        prompt: The exact text sent when the starter is clicked (also its label).
        icon: A Material icon name (``":material/...:"``).
        meeting_id: The meeting it prepares for, or None for a generic prompt.
        when: Short human time of the meeting ("today at 14:00"), or "" for a generic prompt.
    """

    prompt: str
    icon: str
    meeting_id: str | None = None
    when: str = ""


def describe_when(start: datetime, now: datetime, *, all_day: bool = False) -> str:
    """Say when a meeting starts, relative to now.

    Args:
        start: The meeting's start (timezone-aware).
        now: The current time in the same zone.
        all_day: An all-day event: its day, no clock time.

    Returns:
        "today at 14:00", "tomorrow at 09:30", "Friday at 10:00", or "Mon 3 Mar at 10:00"
        for a meeting a week or more away; "yesterday at 23:30" for one still running since
        before midnight; "all day tomorrow", "all day since yesterday" for an all-day event.
    """
    local = start.astimezone(now.tzinfo) if now.tzinfo is not None else start
    days = (local.date() - now.date()).days
    if days == 0:
        day = "today"
    elif days == 1:
        day = "tomorrow"
    elif days == -1:  # still running after midnight: "today at 23:30" read as tonight
        day = "yesterday"
    elif 1 < days < 7:
        day = f"{local:%A}"
    else:
        day = short_day(local)
    if all_day:
        return f"all day since {day}" if days < 0 else f"all day {day}"
    return f"{day} at {local:%H:%M}"


def describe_date(start: datetime, *, all_day: bool = False) -> str:
    """When a meeting is, in words that stay true later and elsewhere: "Mon 7 Dec at 14:00 EST",
    "Tue 8 Dec (all day)". A prompt becomes its session's title: "tomorrow at 11:30" read a day
    later, or in another zone, named the wrong day or clock.

    Args:
        start: The meeting's start, in the reader's zone.
        all_day: An all-day event: its day, no clock time.
    """
    day = short_day(start)
    return f"{day} (all day)" if all_day else f"{day} at {start:%H:%M} {zone_name(start)}"


def meeting_prompt(meeting: Meeting, now: datetime) -> str:
    """The starter text for one meeting.

    Args:
        meeting: The meeting to prepare for.
        now: The current time.

    Returns:
        "Prepare me for <title>, <day and time>" ("…, Mon 7 Dec at 14:00 EST").
    """
    title = " ".join(meeting.title.replace(",", " ").split())
    start = meeting.start.astimezone(now.tzinfo) if now.tzinfo is not None else meeting.start
    return f"Prepare me for {title}, {describe_date(start)}"


def starter_prompts(
    data_dir: Path,
    now: datetime,
    *,
    limit: int = DEFAULT_STARTERS,
    days_ahead: int = 7,
    fill_generic: bool = True,
    meetings: list[Meeting] | None = None,
) -> list[Starter]:
    """Starter prompts from the next meetings that have not started yet.

    Args:
        data_dir: Folder holding ``calendar.toml``.
        now: Current time (timezone-aware).
        limit: How many starters at most.
        days_ahead: How far ahead to look for meetings.
        fill_generic: Top up with generic prompts when there are fewer meetings than ``limit``.
        meetings: The user's upcoming meetings (from their calendar); None reads the demo file.

    Returns:
        Up to ``limit`` starters, soonest meeting first. A missing or broken calendar file
        gives only the generic prompts (it is logged, never raised: the page must still open).
    """
    if meetings is None:
        try:
            meetings = upcoming_meetings(data_dir, now, days_ahead=days_ahead)
        except DataFileError as e:
            logger.warning("data_dir=<%s>, error=<%s> | no meeting starters: calendar unreadable", data_dir, e)
            meetings = []
    meetings = [m for m in meetings if m.start >= now and not m.all_day]
    out = [
        Starter(
            prompt=meeting_prompt(m, now), icon=":material/event:", meeting_id=m.id, when=describe_when(m.start, now)
        )
        for m in meetings[:limit]
    ]
    if fill_generic:
        for prompt, icon in GENERIC_PROMPTS:
            if len(out) >= limit:
                break
            out.append(Starter(prompt=prompt, icon=icon))
    return out
