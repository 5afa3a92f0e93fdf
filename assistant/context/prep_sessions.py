"""Prep sessions: a chat session bound to the meeting it prepares (started from the Prep queue).

Reopening a meeting's prep resumes its latest session; the sessions page filters by meeting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from assistant.context.meetings import Meeting
from assistant.db import session_meetings, sessions, write_tx

logger = logging.getLogger(__name__)


class PrepSessionError(Exception):
    """The binding could not be read or written (database unavailable)."""


@dataclass(frozen=True)
class PrepBinding:
    """The meeting a session prepares."""

    session_id: str
    meeting_id: str
    series_id: str | None
    meeting_title: str
    meeting_start: datetime


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _binding(row: object) -> PrepBinding:
    return PrepBinding(
        session_id=row.session_id,  # type: ignore[attr-defined]
        meeting_id=row.meeting_id,  # type: ignore[attr-defined]
        series_id=row.series_id,  # type: ignore[attr-defined]
        meeting_title=row.meeting_title,  # type: ignore[attr-defined]
        meeting_start=_aware(row.meeting_start),  # type: ignore[attr-defined]
    )


def bind_session(engine: Engine, *, session_id: str, user_id: str, meeting: Meeting, now: datetime) -> None:
    """Record that ``session_id`` prepares ``meeting`` (replacing an earlier binding of that session)."""
    try:
        with write_tx(engine) as conn:
            conn.execute(delete(session_meetings).where(session_meetings.c.session_id == session_id))
            conn.execute(
                insert(session_meetings).values(
                    session_id=session_id,
                    user_id=user_id,
                    meeting_id=meeting.id,
                    series_id=meeting.series_id,
                    meeting_title=meeting.title[:200],
                    meeting_start=meeting.start,
                    created_at=now,
                )
            )
    except SQLAlchemyError as e:
        raise PrepSessionError(
            "The prep session could not be linked to its meeting: the database is unavailable."
        ) from e
    logger.info("user_id=<%s>, session_id=<%s>, meeting_id=<%s> | prep session bound", user_id, session_id, meeting.id)


def binding_for_session(engine: Engine, session_id: str, user_id: str) -> PrepBinding | None:
    """The meeting this user's session prepares, or None."""
    with engine.connect() as conn:
        row = conn.execute(
            select(session_meetings).where(
                session_meetings.c.session_id == session_id, session_meetings.c.user_id == user_id
            )
        ).first()
    return _binding(row) if row is not None else None


def sessions_by_meeting(engine: Engine, user_id: str, meeting_ids: list[str]) -> dict[str, str]:
    """For each of these meetings that has a prep session, the latest one's id."""
    if not meeting_ids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(session_meetings.c.meeting_id, session_meetings.c.session_id)
            .join(sessions, sessions.c.id == session_meetings.c.session_id)  # links of deleted sessions left out
            .where(session_meetings.c.user_id == user_id, session_meetings.c.meeting_id.in_(meeting_ids))
            .order_by(session_meetings.c.created_at)
        ).all()
    return {row.meeting_id: row.session_id for row in rows}


def meetings_with_sessions(engine: Engine, user_id: str | None) -> list[tuple[str, str, datetime]]:
    """(meeting_id, title, start) of every meeting with a prep session (all users' when ``user_id`` is None).

    By title, then the latest first: a weekly 1:1 prepared all year is fifty meetings of one
    title, told apart by their starts.
    """
    m = session_meetings.c
    title, start = func.max(m.meeting_title).label("title"), func.max(m.meeting_start).label("start")
    query = (
        select(m.meeting_id, title, start)
        .join(sessions, sessions.c.id == m.session_id)
        .group_by(m.meeting_id)  # one option per meeting, even one that moved between its prep sessions
    )
    if user_id is not None:
        query = query.where(m.user_id == user_id)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(title, start.desc(), m.meeting_id)).all()
    return [(row.meeting_id, row.title, _aware(row.start)) for row in rows]
