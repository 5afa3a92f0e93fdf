"""The Prep queue, as the chat page and the CLI show it (a meeting's materials: :mod:`assistant.views.materials`).

Everything here is read from stored data (the user's calendar through its cache, saved prep
notes, the user's budget and big rocks, meeting-type rules and overrides); the model is
never asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from assistant.config import Settings
from assistant.context.calendar import CalendarService, CalendarView
from assistant.context.classify import (
    PrepItem,
    load_meeting_types,
    overrides,
    prep_queue,
    prepared_counts,
)
from assistant.context.meeting_cost import MeetingCost, MeetingRates, meeting_cost
from assistant.context.meetings import Meeting
from assistant.context.prep_sessions import sessions_by_meeting

logger = logging.getLogger(__name__)

QUEUE_DAYS = 7  # the queue looks this far ahead (a board meeting's 48 h window fits well inside)
QUEUE_HORIZON = timedelta(hours=24)  # a window opening within a day shows as "opens in …"


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
