"""The calendar tables: each user's connection (its secret encrypted) and the shared copy of its events.

:class:`~assistant.context.calendar.CalendarService` decides what to read and when; this module
is the SQL it does it with. Reads and saves that fail raise :class:`CalendarStorageError` with a
message the page shows; keeping a copy or a status is best effort (logged, never raised).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from assistant.context.meetings import Meeting, SourceKind
from assistant.db import calendar_cache, calendar_connections, write_tx

logger = logging.getLogger(__name__)


class CalendarStorageError(Exception):
    """The calendar tables could not be read or written; the message says what to do."""


@dataclass(frozen=True)
class StoredConnection:
    """A connection as stored, with its secret decrypted (server side only)."""

    user_id: str
    kind: SourceKind
    label: str
    secret: str | None
    ics_data: bytes | None

    def __repr__(self) -> str:  # never print the secret or the file
        return f"StoredConnection(user_id={self.user_id!r}, kind={self.kind!r}, label={self.label!r})"


def connection_row(engine: Engine, user_id: str) -> Any:
    """The user's ``calendar_connections`` row (secret still encrypted), or None."""
    try:
        with engine.connect() as conn:
            return conn.execute(select(calendar_connections).where(calendar_connections.c.user_id == user_id)).first()
    except SQLAlchemyError as e:
        raise CalendarStorageError("The calendar settings could not be read: the database is unavailable.") from e


def delete_connection(engine: Engine, user_id: str) -> None:
    """Forget the user's connection and its copy of events."""
    try:
        with write_tx(engine) as conn:
            conn.execute(delete(calendar_cache).where(calendar_cache.c.user_id == user_id))
            conn.execute(delete(calendar_connections).where(calendar_connections.c.user_id == user_id))
    except SQLAlchemyError as e:
        raise CalendarStorageError("The calendar could not be disconnected: the database is unavailable.") from e


def cache_row(engine: Engine, user_id: str) -> Any:
    """The user's ``calendar_cache`` row, or None."""
    try:
        with engine.connect() as conn:
            return conn.execute(select(calendar_cache).where(calendar_cache.c.user_id == user_id)).first()
    except SQLAlchemyError as e:
        raise CalendarStorageError("The calendar copy could not be read: the database is unavailable.") from e


def save_connection(engine: Engine, stored: StoredConnection, *, secret_enc: str | None, now: datetime) -> None:
    """Make ``stored`` the user's only connection (its secret as encrypted), dropping the old copy of events."""
    try:
        with write_tx(engine) as conn:
            conn.execute(delete(calendar_cache).where(calendar_cache.c.user_id == stored.user_id))
            conn.execute(delete(calendar_connections).where(calendar_connections.c.user_id == stored.user_id))
            conn.execute(
                insert(calendar_connections).values(
                    user_id=stored.user_id,
                    kind=stored.kind,
                    label=stored.label,
                    secret_enc=secret_enc,
                    ics_data=stored.ics_data,
                    status="ok",
                    connected_at=now,
                    version=0,
                )
            )
    except SQLAlchemyError as e:
        raise CalendarStorageError("The calendar could not be saved: the database is unavailable.") from e


def write_cache(
    engine: Engine,
    stored: StoredConnection,
    meetings: list[Meeting],
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    notice: str | None = None,
) -> None:
    """Keep what the source returned for the window, and its notice (a failure is logged: it only costs a re-read)."""
    payload = json.dumps([m.model_dump(mode="json") for m in meetings], ensure_ascii=False)
    try:
        with write_tx(engine) as conn:
            conn.execute(delete(calendar_cache).where(calendar_cache.c.user_id == stored.user_id))
            conn.execute(
                insert(calendar_cache).values(
                    user_id=stored.user_id,
                    kind=stored.kind,
                    events_json=payload,
                    window_start=start,
                    window_end=end,
                    fetched_at=now,
                    last_error=None,
                    last_error_at=None,
                    notice=notice,
                )
            )
    except SQLAlchemyError as e:
        # The events were read; failing to keep a copy only costs a re-read next time.
        logger.warning("user_id=<%s>, error=<%s> | calendar cache not written", stored.user_id, type(e).__name__)


def record_error(engine: Engine, user_id: str, error: str, now: datetime) -> None:
    """Note the source's last failure on the cached copy."""
    try:
        with write_tx(engine) as conn:
            conn.execute(
                update(calendar_cache)
                .where(calendar_cache.c.user_id == user_id)
                .values(last_error=error[:1000], last_error_at=now)
            )
    except SQLAlchemyError:
        logger.warning("user_id=<%s> | calendar error not recorded", user_id)


def set_status(engine: Engine, user_id: str, status: str) -> None:
    """Mark the connection ``ok`` or ``reconnect``."""
    try:
        with write_tx(engine) as conn:
            conn.execute(
                update(calendar_connections).where(calendar_connections.c.user_id == user_id).values(status=status)
            )
    except SQLAlchemyError:
        logger.warning("user_id=<%s>, status=<%s> | calendar status not recorded", user_id, status)
