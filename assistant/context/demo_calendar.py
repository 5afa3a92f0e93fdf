"""Demo calendar: meetings read from ``calendar.toml`` with dates relative to today."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assistant.context.data_files import DataFileError, read_table_list
from assistant.context.meetings import MEETING_ID_PATTERN, Attendee, Meeting, search_words
from assistant.context.working_time import add_working_days, working_day

logger = logging.getLogger(__name__)

CALENDAR_FILE = "calendar.toml"


class MeetingEntry(BaseModel):
    """One ``[[meetings]]`` entry of ``calendar.toml`` as written (relative dates)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=MEETING_ID_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    day_offset: int | None = Field(default=None, ge=-365, le=365)
    start: str | None = None
    hours_from_now: float | None = Field(default=None, ge=-24 * 365, le=24 * 365)
    working_hours: bool = True  # an hours_from_now meeting moves to 08:00-17:00 starts
    duration_minutes: int = Field(ge=5, le=24 * 60)
    attendees: list[Attendee] = Field(default_factory=list)
    type: str = Field(default="meeting", max_length=60)
    location: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=4000)
    related_rocks: list[str] = Field(default_factory=list)
    budget_areas: list[str] = Field(default_factory=list)

    @field_validator("start")
    @classmethod
    def _check_start(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                time.fromisoformat(value)
            except ValueError as e:
                raise ValueError(f"start must be a local time like '14:00', got {value!r}") from e
        return value

    @model_validator(mode="after")
    def _check_when(self) -> MeetingEntry:
        relative = self.day_offset is not None and self.start is not None
        if relative == (self.hours_from_now is not None):
            raise ValueError("give either day_offset and start, or hours_from_now (exactly one of the two)")
        return self


def _round_up_quarter(moment: datetime) -> datetime:
    base = moment.replace(second=0, microsecond=0)
    if base < moment:
        base += timedelta(minutes=1)
    minutes = math.ceil(base.minute / 15) * 15
    return base.replace(minute=0) + timedelta(minutes=minutes)


DAY_STARTS = time(8, 0)
LAST_START = time(17, 0)


def _in_working_hours(start: datetime) -> datetime:
    """Move a start before 08:00 to 08:00 that day, and one after 17:00 to 08:00 the next day,
    so a demo shown late in the evening does not offer a 01:30 leadership meeting; a start
    that lands on a weekend moves to 08:00 the Monday after."""
    if start.time() < DAY_STARTS:
        start = datetime.combine(start.date(), DAY_STARTS, tzinfo=start.tzinfo)
    elif start.time() > LAST_START:
        start = datetime.combine(start.date() + timedelta(days=1), DAY_STARTS, tzinfo=start.tzinfo)
    if start.weekday() >= 5:
        start = datetime.combine(working_day(start.date()), DAY_STARTS, tzinfo=start.tzinfo)
    return start


def _place(entry: MeetingEntry, local_now: datetime) -> Meeting:
    tz = local_now.tzinfo or UTC
    if entry.hours_from_now is not None:
        start = _round_up_quarter(local_now + timedelta(hours=entry.hours_from_now))
        if entry.working_hours:
            start = _in_working_hours(start)
    else:
        assert entry.day_offset is not None and entry.start is not None  # guaranteed by _check_when
        day = add_working_days(local_now.date(), entry.day_offset)
        start = datetime.combine(day, time.fromisoformat(entry.start), tzinfo=tz)
    return Meeting(
        id=entry.id,
        title=entry.title,
        start=start,
        end=start + timedelta(minutes=entry.duration_minutes),
        duration_minutes=entry.duration_minutes,
        attendees=entry.attendees,
        type=entry.type,
        location=entry.location,
        description=entry.description,
        related_rocks=entry.related_rocks,
        budget_areas=entry.budget_areas,
    )


def load_meetings(data_dir: Path, now: datetime, tz: tzinfo | None = None) -> list[Meeting]:
    """Every meeting of ``calendar.toml`` placed relative to ``now``, sorted by start.

    Args:
        data_dir: Folder holding ``calendar.toml``.
        now: Current time (timezone-aware).
        tz: Zone in which ``start`` times are read; defaults to ``now``'s zone.

    Returns:
        All meetings, past ones included, sorted by start time.

    Raises:
        DataFileError: If the file is missing or malformed, or ids are duplicated.
        ValueError: If ``now`` is naive.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local_now = now.astimezone(tz) if tz is not None else now
    path = Path(data_dir) / CALENDAR_FILE
    entries = read_table_list(data_dir, CALENDAR_FILE, "meetings", MeetingEntry)
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise DataFileError(f"Data file {path} is malformed: meeting id {entry.id!r} appears twice.")
        seen.add(entry.id)
    meetings = [_place(entry, local_now) for entry in entries]
    meetings.sort(key=lambda m: (m.start, m.id))
    return meetings


def upcoming_meetings(
    data_dir: Path,
    now: datetime,
    days_ahead: int = 7,
    query: str | None = None,
    tz: tzinfo | None = None,
) -> list[Meeting]:
    """Meetings that have not ended yet and start within ``days_ahead`` days, sorted by start.

    Args:
        data_dir: Folder holding ``calendar.toml``.
        now: Current time (timezone-aware).
        days_ahead: Window length in days, counted from ``now``.
        query: Optional words that must all appear in the title, type, location,
            description or attendees (case-insensitive).
        tz: Zone in which ``start`` times are read; defaults to ``now``'s zone.

    Returns:
        The matching meetings, sorted by start time.

    Raises:
        DataFileError: If ``calendar.toml`` is missing or malformed.
        ValueError: If ``days_ahead`` is negative or ``now`` is naive.
    """
    if days_ahead < 0:
        raise ValueError("days_ahead must be zero or more")
    horizon = now + timedelta(days=days_ahead)
    words = search_words(query)
    result = []
    for meeting in load_meetings(data_dir, now, tz):
        if meeting.end <= now or meeting.start >= horizon:
            continue
        text = meeting.search_text()
        if all(word in text for word in words):
            result.append(meeting)
    return result


def find_meeting(data_dir: Path, now: datetime, meeting_id: str, tz: tzinfo | None = None) -> Meeting:
    """The meeting with ``meeting_id``.

    Args:
        data_dir: Folder holding ``calendar.toml``.
        now: Current time (timezone-aware).
        meeting_id: Id from ``calendar.toml``.
        tz: Zone in which ``start`` times are read; defaults to ``now``'s zone.

    Returns:
        The meeting.

    Raises:
        ValueError: If no meeting has that id (the message lists the known ids).
        DataFileError: If ``calendar.toml`` is missing or malformed.
    """
    meetings = load_meetings(data_dir, now, tz)
    for meeting in meetings:
        if meeting.id == meeting_id:
            return meeting
    known = ", ".join(m.id for m in meetings) or "none"
    raise ValueError(
        f"No meeting with id '{meeting_id}'. Call get_upcoming_meetings to see valid ids (known ids: {known})."
    )
