"""Prep notes: the executive's answers to prep questions, stored in ``prep_responses``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from assistant.db import prep_responses

logger = logging.getLogger(__name__)


class PrepStorageError(ValueError):
    """The prep note store could not be read or written; the message says what to do next."""


class PrepResponse(BaseModel):
    """One saved prep note."""

    id: int
    user_id: str
    meeting_id: str
    topic: str
    response: str
    session_id: str | None
    created_at: datetime


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; we always store UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def save_prep_response(
    engine: Engine,
    *,
    user_id: str,
    meeting_id: str,
    topic: str,
    response: str,
    now: datetime,
    session_id: str | None = None,
) -> tuple[PrepResponse, int]:
    """Store one prep note in a single transaction.

    Args:
        engine: App database.
        user_id: Owner of the note.
        meeting_id: Meeting the note is for.
        topic: Short topic (e.g. "key message").
        response: The executive's answer.
        now: Time of saving (stored in UTC).
        session_id: Chat session the note came from.

    Returns:
        The saved note and the number of notes this user now has for the meeting. The same
        note (topic and answer) saved again for the meeting is stored once: the earlier one is
        returned (its ``created_at`` is before ``now``). Sent twice, it became two agenda items
        that squeezed the others, and the app has no way to delete one.

    Raises:
        PrepStorageError: If the database write fails.
    """
    created_at = now.astimezone(UTC)
    logger.info(
        "user_id=<%s>, meeting_id=<%s>, session_id=<%s> | saving prep response", user_id, meeting_id, session_id
    )
    note: dict[str, Any] = {
        "user_id": user_id,
        "meeting_id": meeting_id,
        "topic": topic,
        "response": response,
        "session_id": session_id,
        "created_at": created_at,
    }
    try:
        with engine.begin() as conn:
            mine = (prep_responses.c.user_id == user_id, prep_responses.c.meeting_id == meeting_id)
            same_note = (prep_responses.c.topic == topic, prep_responses.c.response == response)
            same = conn.execute(select(prep_responses).where(*mine, *same_note)).mappings().first()
            if same is not None:  # the earlier note: its id, session and time
                new_id = int(same["id"])
                note.update(session_id=same["session_id"], created_at=_aware(same["created_at"]))
            else:
                pk = conn.execute(insert(prep_responses).values(**note)).inserted_primary_key
                new_id = int(pk[0]) if pk is not None else 0
            total = conn.execute(select(func.count()).select_from(prep_responses).where(*mine)).scalar_one()
    except SQLAlchemyError as e:
        logger.exception("user_id=<%s>, meeting_id=<%s> | failed to save prep response", user_id, meeting_id)
        raise PrepStorageError("Your note could not be saved because the database is unavailable; try again.") from e
    return PrepResponse(id=new_id, **note), int(total)


def list_prep_responses(engine: Engine, user_id: str, meeting_id: str) -> list[PrepResponse]:
    """The user's prep notes for one meeting, oldest first.

    Args:
        engine: App database.
        user_id: Owner of the notes; other users' notes are never returned.
        meeting_id: Meeting id.

    Returns:
        The notes.

    Raises:
        PrepStorageError: If the database read fails.
    """
    stmt = (
        select(prep_responses)
        .where(prep_responses.c.user_id == user_id, prep_responses.c.meeting_id == meeting_id)
        .order_by(prep_responses.c.created_at, prep_responses.c.id)
    )
    try:
        with engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
    except SQLAlchemyError as e:
        logger.exception("user_id=<%s>, meeting_id=<%s> | failed to list prep responses", user_id, meeting_id)
        raise PrepStorageError("Your saved notes could not be read because the database is unavailable.") from e
    return [
        PrepResponse(
            id=row["id"],
            user_id=row["user_id"],
            meeting_id=row["meeting_id"],
            topic=row["topic"],
            response=row["response"],
            session_id=row["session_id"],
            created_at=_aware(row["created_at"]),
        )
        for row in rows
    ]


def list_series_prep(
    engine: Engine, user_id: str, series_id: str, *, exclude: str, limit: int = 10
) -> list[PrepResponse]:
    """The user's prep notes from earlier occurrences of a recurring series, newest first.

    Occurrence ids are ``<series_id>-<start>`` (:func:`assistant.context.meetings.make_meeting_id`).

    Args:
        engine: App database.
        user_id: Owner of the notes.
        series_id: The series.
        exclude: The occurrence being prepared (its own notes are listed apart).
        limit: At most this many notes.
    """
    pattern = series_id.replace("%", "").replace("_", "") + "-%"
    try:
        with engine.connect() as conn:
            rows = (
                conn.execute(
                    select(prep_responses)
                    .where(
                        prep_responses.c.user_id == user_id,
                        prep_responses.c.meeting_id.like(pattern),
                        prep_responses.c.meeting_id != exclude,
                    )
                    .order_by(prep_responses.c.created_at.desc(), prep_responses.c.id.desc())
                    .limit(limit)
                )
                .mappings()
                .all()
            )
    except SQLAlchemyError as e:
        logger.exception("user_id=<%s>, series_id=<%s> | failed to list series prep notes", user_id, series_id)
        raise PrepStorageError("Your earlier prep notes could not be read; try again in a moment.") from e
    return [PrepResponse(**{**row, "created_at": _aware(row["created_at"])}) for row in rows]
