"""What the meeting tools need from the outside world.

Tools are built per agent as closures over a :class:`ToolDeps`, so tests and the chat
page can inject a data folder, a database engine, a user and a fixed clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from sqlalchemy import Engine

from assistant.context.calendar import DEMO_LABEL, CalendarService, CalendarView
from assistant.context.classify import effective_type, load_meeting_types
from assistant.context.demo_calendar import find_meeting as find_demo_meeting
from assistant.context.demo_calendar import upcoming_meetings
from assistant.context.meeting_cost import MeetingCost, MeetingRates, meeting_cost
from assistant.context.meetings import Meeting
from assistant.context.type_overrides import overrides

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    """Current time as an aware UTC datetime (the default clock of :class:`ToolDeps`)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class ToolDeps:
    """Dependencies shared by every tool of one agent.

    Attributes:
        data_dir: Folder holding ``calendar.toml``, ``budget.toml`` and ``big_rocks.toml``.
        engine: SQLAlchemy engine of the app database (``prep_responses`` table).
        user_id: The signed-in user; prep notes are scoped to it.
        session_id: The chat session, recorded with saved prep notes.
        now: Clock returning an aware datetime; injected so tests are deterministic.
        default_tz: Time zone used to place ``HH:MM`` calendar times and to display times when
            ``zone_of`` gives none.
        calendar: The user's calendar (connected source or demo); None reads the demo file
            in ``data_dir`` directly.
        user_email: The user's email (its domain is "internal" for meeting types and cost).
        zone_of: The user's current zone (their browser's), read at every tool call.
    """

    data_dir: Path
    engine: Engine
    user_id: str
    session_id: str | None = None
    now: Callable[[], datetime] = field(default=utc_now)
    default_tz: tzinfo = UTC
    calendar: CalendarService | None = None
    user_email: str | None = None
    zone_of: Callable[[], tzinfo | None] | None = None

    @property
    def tz(self) -> tzinfo:
        """The user's zone as their browser last reported it (``zone_of``), else ``default_tz``."""
        zone = self.zone_of() if self.zone_of is not None else None
        return zone or self.default_tz

    def local_now(self) -> datetime:
        """The injected clock's current time, expressed in :attr:`tz`.

        Raises:
            ValueError: If the clock returns a naive datetime.
        """
        current = self.now()
        if current.tzinfo is None:
            raise ValueError("The clock returned a naive datetime; it must be timezone-aware.")
        return current.astimezone(self.tz)

    def calendar_view(self, days_ahead: int) -> CalendarView:
        """The user's meetings from now until ``days_ahead`` days ahead, with their source."""
        if self.calendar is not None:
            return self.calendar.view(self.user_id, days_ahead=days_ahead, tz=self.tz, now=self.now())
        meetings = upcoming_meetings(self.data_dir, self.local_now(), days_ahead, tz=self.tz)
        return CalendarView(meetings=meetings, kind="demo", label=DEMO_LABEL)

    def with_types(self, meetings: list[Meeting]) -> list[Meeting]:
        """The meetings with ``type`` set to their effective type's label (the user's override, else the rules)."""
        settings = self.calendar.settings if self.calendar is not None else None
        path = (
            settings.resolved_meeting_types_file if settings is not None else Path(self.data_dir) / "meeting_types.toml"
        )
        if not meetings or not path.exists():
            return meetings
        types = load_meeting_types(path)
        chosen = overrides(self.engine, self.user_id)
        domains = settings.internal_domains if settings is not None else []
        out = []
        for meeting in meetings:
            type_id = effective_type(meeting, chosen, user_email=self.user_email, internal_domains=domains, rules=types)
            out.append(meeting.model_copy(update={"type": types.label(type_id)}))
        return out

    @property
    def meeting_rates(self) -> MeetingRates:
        """The hourly rates meetings are priced at (``MEETING_RATE_*_USD``; the defaults without settings)."""
        settings = self.calendar.settings if self.calendar is not None else None
        return MeetingRates.from_settings(settings) if settings is not None else MeetingRates()

    def cost_of(self, meeting: Meeting) -> MeetingCost:
        """What ``meeting`` costs in people's time, as the Prep queue prices it."""
        settings = self.calendar.settings if self.calendar is not None else None
        return meeting_cost(
            meeting,
            user_email=self.user_email,
            internal_domains=settings.internal_domains if settings is not None else [],
            rates=self.meeting_rates,
        )

    def find_meeting(self, meeting_id: str) -> Meeting:
        """The user's meeting with this id.

        Raises:
            ValueError: No such meeting (the message lists valid ids).
        """
        if self.calendar is not None:
            return self.calendar.find(self.user_id, meeting_id, tz=self.tz, now=self.now())
        return find_demo_meeting(self.data_dir, self.local_now(), meeting_id, tz=self.tz)
