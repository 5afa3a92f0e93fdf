"""The Prep queue, as the chat page and the CLI show it (a meeting's materials: :mod:`assistant.views.materials`).

Everything here is read from stored data (the user's calendar through its cache, saved prep
notes, the user's budget and big rocks, meeting-type rules and overrides); the model is
never asked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from assistant.config import Settings
from assistant.context.calendar import CalendarService, CalendarView
from assistant.context.classify import MeetingTypes, effective_type, load_meeting_types
from assistant.context.meeting_cost import MeetingCost, MeetingRates, meeting_cost
from assistant.context.meetings import Meeting
from assistant.context.prep_sessions import sessions_by_meeting
from assistant.context.type_overrides import overrides, prepared_counts
from assistant.context.working_time import shift_working_time

logger = logging.getLogger(__name__)

QUEUE_DAYS = 7  # the queue looks this far ahead (a board meeting's 48 h window fits well inside)
QUEUE_HORIZON = timedelta(hours=24)  # a window opening within a day shows as "opens in …"


DEFAULT_HORIZON = timedelta(hours=12)  # a window not open yet shows this far ahead
PrepStatus = Literal["open", "opens_soon"]


@dataclass(frozen=True)
class PrepItem:
    """A meeting on the prep queue.

    Attributes:
        meeting: The meeting.
        type_id: Its effective type.
        type_label: The type's label.
        window_opens_at: When its prep window opens: the type's lead time before the start, in
            working time (a Monday 09:00 board meeting with 48 h opens Thursday 09:00).
        status: ``open`` (the window is open) or ``opens_soon`` (within the horizon).
        notes_count: Prep notes already saved for it.
    """

    meeting: Meeting
    type_id: str
    type_label: str
    window_opens_at: datetime
    status: PrepStatus
    notes_count: int


def prep_queue(
    meetings: Iterable[Meeting],
    *,
    now: datetime,
    types: MeetingTypes,
    overrides: dict[str, str],
    user_email: str | None,
    internal_domains: Iterable[str],
    prepared: dict[str, int],
    horizon: timedelta = DEFAULT_HORIZON,
) -> list[PrepItem]:
    """The meetings to prepare now or soon, by start.

    A meeting is on the queue while it has not ended and its prep window (its type's lead
    time before its start) is open or opens within ``horizon``; both count working time only,
    so on a Friday afternoon Monday morning's meetings are on it. All-day events (holidays,
    time off, reminders) are never on it.

    Args:
        meetings: The user's meetings.
        now: Current time (aware).
        types: The loaded meeting types.
        overrides: :func:`overrides` for the user.
        user_email: The user's email.
        internal_domains: ``Settings.internal_domains``.
        prepared: Prep notes saved per meeting id (:func:`prepared_counts`).
        horizon: How far ahead a window that is not open yet still shows.

    Returns:
        Queue items sorted by meeting start (then id).

    Raises:
        ValueError: If ``now`` is naive.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    domains = list(internal_domains)
    items = []
    for meeting in meetings:
        if meeting.end <= now or meeting.all_day:  # an all-day event (a holiday, time off) is not prepared
            continue
        type_id = effective_type(meeting, overrides, user_email=user_email, internal_domains=domains, rules=types)
        opens = shift_working_time(meeting.start, -types.prep_lead_time(type_id))
        if opens > shift_working_time(now, horizon):
            continue
        items.append(
            PrepItem(
                meeting=meeting,
                type_id=type_id,
                type_label=types.label(type_id),
                window_opens_at=opens,
                status="open" if opens <= now else "opens_soon",
                notes_count=prepared.get(meeting.id, 0),
            )
        )
    items.sort(key=lambda item: (item.meeting.start, item.meeting.id))
    return items


@dataclass(frozen=True)
class QueueEntry:
    """One meeting on the Prep queue.

    Attributes:
        item: The meeting, its type and its prep window.
        session_id: The meeting's latest prep session (None: not started).
        cost: What the meeting costs in people's time.
    """

    item: PrepItem
    session_id: str | None
    cost: MeetingCost


@dataclass(frozen=True)
class PrepQueue:
    """The queue and the calendar it was read from."""

    entries: list[QueueEntry]
    view: CalendarView


def build_prep_queue(
    calendar: CalendarService,
    settings: Settings,
    *,
    user_id: str,
    user_email: str | None,
    now: datetime,
    tz: tzinfo,
    refresh: bool = False,
) -> PrepQueue:
    """The meetings to prepare now or soon, with their prep sessions and cost.

    Args:
        calendar: The users' calendars.
        settings: Meeting types, internal domains, hourly rates.
        user_id: Whose queue.
        user_email: The user's email (its domain is internal).
        now: Current time (aware).
        tz: The user's zone.
        refresh: Read the calendar source now rather than its cached copy.
    """
    view = calendar.view(user_id, days_ahead=QUEUE_DAYS, tz=tz, refresh=refresh, now=now)
    types = load_meeting_types(settings.resolved_meeting_types_file)
    engine = calendar.engine
    ids = [m.id for m in view.meetings]
    items = prep_queue(
        view.meetings,
        now=now,
        types=types,
        overrides=overrides(engine, user_id),
        user_email=user_email,
        internal_domains=settings.internal_domains,
        prepared=prepared_counts(engine, user_id, ids),
        horizon=QUEUE_HORIZON,
    )
    sessions = sessions_by_meeting(engine, user_id, [i.meeting.id for i in items])
    rates = MeetingRates.from_settings(settings)
    entries = [
        QueueEntry(
            item=item,
            session_id=sessions.get(item.meeting.id),
            cost=meeting_cost(
                item.meeting, user_email=user_email, internal_domains=settings.internal_domains, rates=rates
            ),
        )
        for item in items
    ]
    return PrepQueue(entries=entries, view=view)


def prep_prompt(meeting: Meeting, when: str) -> str:
    """The first message of a prep session started from the queue (it also becomes the session's title).

    The title comes before the comma: it is what the agent (and the offline model) looks the
    meeting up by; the session is bound to the meeting's id separately (``session_meetings``).
    """
    title = " ".join(meeting.title.replace(",", " ").split())
    return f"Prepare me for {title}, {when}"
