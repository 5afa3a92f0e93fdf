"""A user's choice of type for one meeting, or for every occurrence of a series, and their saved notes per meeting.

Stored per user in ``meeting_overrides`` keyed by the meeting id, or by its ``series_id`` (the
meeting's own id wins over its series: :func:`~assistant.context.classify.effective_type`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from assistant.context.classify import TYPE_ID_PATTERN, MeetingTypes, MeetingTypeStorageError
from assistant.context.meetings import is_meeting_id
from assistant.db import meeting_overrides, on_conflict_insert, prep_responses, write_tx

logger = logging.getLogger(__name__)

_TYPE_ID = re.compile(TYPE_ID_PATTERN)


def _check_key(meeting_key: str) -> None:
    if not is_meeting_id(meeting_key):
        raise ValueError("That is not a meeting id; pick the meeting from your calendar and try again.")


def set_override(
    engine: Engine,
    user_id: str,
    meeting_key: str,
    type_id: str,
    now: datetime,
    *,
    types: MeetingTypes | None = None,
) -> None:
    """Store the user's choice of type for a meeting (its id) or a series (its ``series_id``).

    Args:
        engine: App database.
        user_id: The user; overrides are never shared between users.
        meeting_key: The meeting id, or the series id for every occurrence.
        type_id: The chosen type.
        now: Time of the change.
        types: When given, ``type_id`` must be one of its types.

    Raises:
        ValueError: If the key or the type is not valid (the message lists the types).
        MeetingTypeStorageError: If the database write fails.
    """
    _check_key(meeting_key)
    if not _TYPE_ID.fullmatch(type_id) or (types is not None and not types.known(type_id)):
        choices = ", ".join(types.types) if types is not None else "a type id from the meeting types file"
        raise ValueError(f"Unknown meeting type {type_id!r}; choose one of: {choices}.")
    values = {
        "user_id": user_id,
        "meeting_key": meeting_key,
        "meeting_type": type_id,
        "updated_at": now.astimezone(UTC),
    }
    logger.info(
        "user_id=<%s>, meeting_key=<%s>, meeting_type=<%s> | setting meeting type", user_id, meeting_key, type_id
    )
    stmt = on_conflict_insert(engine.dialect.name)(meeting_overrides).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["user_id", "meeting_key"],
        set_={"meeting_type": type_id, "updated_at": values["updated_at"]},
    )
    try:
        with write_tx(engine) as conn:
            conn.execute(stmt)
    except SQLAlchemyError as e:
        logger.exception("user_id=<%s>, meeting_key=<%s> | failed to set meeting type", user_id, meeting_key)
        raise MeetingTypeStorageError("The meeting type could not be saved; try again in a moment.") from e


def clear_override(engine: Engine, user_id: str, meeting_key: str) -> bool:
    """Forget the user's choice for a meeting or series, so the rules decide again.

    Args:
        engine: App database.
        user_id: The user.
        meeting_key: The meeting id or series id given to :func:`set_override`.

    Returns:
        Whether there was an override to remove.

    Raises:
        ValueError: If the key is not a meeting id.
        MeetingTypeStorageError: If the database write fails.
    """
    _check_key(meeting_key)
    logger.info("user_id=<%s>, meeting_key=<%s> | clearing meeting type", user_id, meeting_key)
    try:
        with write_tx(engine) as conn:
            result = conn.execute(
                delete(meeting_overrides).where(
                    meeting_overrides.c.user_id == user_id, meeting_overrides.c.meeting_key == meeting_key
                )
            )
    except SQLAlchemyError as e:
        logger.exception("user_id=<%s>, meeting_key=<%s> | failed to clear meeting type", user_id, meeting_key)
        raise MeetingTypeStorageError("The meeting type could not be reset; try again in a moment.") from e
    return bool(result.rowcount)


def overrides(engine: Engine, user_id: str) -> dict[str, str]:
    """The user's meeting-type overrides: meeting id or series id → type id.

    Args:
        engine: App database.
        user_id: The user; other users' overrides are never returned.

    Raises:
        MeetingTypeStorageError: If the database read fails.
    """
    stmt = select(meeting_overrides.c.meeting_key, meeting_overrides.c.meeting_type).where(
        meeting_overrides.c.user_id == user_id
    )
    try:
        with engine.connect() as conn:
            rows = conn.execute(stmt).all()
    except SQLAlchemyError as e:
        logger.exception("user_id=<%s> | failed to read meeting types", user_id)
        raise MeetingTypeStorageError("Your meeting types could not be read; try again in a moment.") from e
    return {str(key): str(value) for key, value in rows}


def prepared_counts(engine: Engine, user_id: str, meeting_ids: Sequence[str]) -> dict[str, int]:
    """How many prep notes the user saved for each of ``meeting_ids`` (absent: none).

    Args:
        engine: App database.
        user_id: The user.
        meeting_ids: The meetings to count for.

    Raises:
        MeetingTypeStorageError: If the database read fails.
    """
    if not meeting_ids:
        return {}
    stmt = (
        select(prep_responses.c.meeting_id, func.count())
        .where(prep_responses.c.user_id == user_id, prep_responses.c.meeting_id.in_(list(meeting_ids)))
        .group_by(prep_responses.c.meeting_id)
    )
    try:
        with engine.connect() as conn:
            rows = conn.execute(stmt).all()
    except SQLAlchemyError as e:
        logger.exception("user_id=<%s> | failed to count prep notes", user_id)
        raise MeetingTypeStorageError("Your saved prep notes could not be read; try again in a moment.") from e
    return {str(mid): int(count) for mid, count in rows}
