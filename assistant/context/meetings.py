"""The meeting model every calendar source produces, and the ids it is known by.

A meeting's text (title, description, attendee names) comes from other people: it is data,
never instructions. Tools hand it to the model inside a quoted ``calendar_data`` block and
pages draw it escaped.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.inputs import fold_for_search

MEETING_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_MEETING_ID = re.compile(MEETING_ID_PATTERN)

ResponseStatus = Literal["accepted", "declined", "tentative", "needs_action", "unknown"]
SourceKind = Literal["demo", "ics_url", "ics_file", "google"]


class Attendee(BaseModel):
    """Someone in the meeting; ``you`` marks the calendar's owner, the user, where a calendar
    lists them (an imported file may name them under another address than their sign-in)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    role: str = Field(default="", max_length=120)
    org: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=320)
    response: ResponseStatus | None = None
    organizer: bool = False
    you: bool = False


class Meeting(BaseModel):
    """A meeting placed on the real calendar (aware datetimes).

    Attributes:
        id: Stable id the tools and the model use (``MEETING_ID_PATTERN``).
        series_id: Shared by every occurrence of a recurring series (None for a one-off).
        source: Where it came from (``demo``, ``ics_url``, ``ics_file``, ``google``).
        all_day: An all-day event (start at local midnight, end the next midnight).
        floating: Clock times without a known zone (no TZID, or one nobody knows): each reader
            sees them at those clock times in their own zone.
        organizer: The organizer's name or email, when the source gives one.
        conference_url: A video-call link, when the source gives one.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    start: datetime
    end: datetime
    duration_minutes: int
    attendees: list[Attendee]
    type: str
    location: str
    description: str
    related_rocks: list[str] = Field(default_factory=list)
    budget_areas: list[str] = Field(default_factory=list)
    series_id: str | None = None
    source: SourceKind = "demo"
    all_day: bool = False
    floating: bool = False
    organizer: str | None = None
    conference_url: str | None = None

    def to_summary_dict(self) -> dict[str, Any]:
        """JSON-ready dict for tool results (ISO datetimes; no rock/budget ids)."""
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "duration_minutes": self.duration_minutes,
            "attendees": [a.model_dump(exclude_none=True, exclude_defaults=True) for a in self.attendees],
            "type": self.type,
            "location": self.location,
            "description": self.description,
        }
        if self.all_day:
            out["all_day"] = True
        if self.series_id:
            out["recurring"] = True
        if self.organizer:
            out["organizer"] = self.organizer
        if self.conference_url:
            out["conference_url"] = self.conference_url
        return out

    def search_text(self) -> str:
        """The text a query's :func:`search_words` are matched against (case and accents ignored)."""
        people = " ".join(f"{a.name} {a.role} {a.org or ''} {a.email or ''}" for a in self.attendees)
        return fold_for_search(" ".join([self.id, self.title, self.type, self.location, self.description, people]))


def search_words(query: str | None) -> list[str]:
    """A query's words as :meth:`Meeting.search_text` is searched for them ("reunion" finds "Réunion")."""
    return fold_for_search(query or "").split()


def make_meeting_id(uid: str, occurrence: datetime | None = None) -> str:
    """A short stable meeting id for an event of an outside calendar.

    Outside ids (ICS UIDs, Google event ids) are long and carry characters the tools refuse,
    so they are hashed: ``<10 hex of the uid>`` for a one-off, and
    ``<10 hex of the uid>-<UTC start as yyyymmddhhmm>`` for an occurrence of a series (the
    original start, ``RECURRENCE-ID``, so a moved occurrence keeps its id).

    Args:
        uid: The event's UID (ICS) or id (Google; the series id for an instance).
        occurrence: The occurrence's original start, for a recurring series.

    Returns:
        An id matching ``MEETING_ID_PATTERN``.
    """
    digest = series_id_for(uid)
    if occurrence is None:
        return digest
    moment = occurrence if occurrence.tzinfo is None else occurrence.astimezone(UTC)
    return f"{digest}-{moment:%Y%m%d%H%M}"


def series_id_for(uid: str) -> str:
    """The 10-hex-digit id shared by every occurrence of the series with this UID."""
    return hashlib.sha256(uid.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def is_meeting_id(value: str) -> bool:
    """Whether ``value`` has the shape of a meeting id."""
    return bool(_MEETING_ID.fullmatch(value))
