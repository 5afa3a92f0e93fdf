"""May this user send now? The daily budget and the per-user rate limit, decided in one place.

:func:`refuse_over_limits` is the decision. The facts it decides on (:class:`SendWindow`) are
read by the session store inside the transaction that starts a turn, which also counts the
send, so a send is decided and counted at once (``SessionStore.begin_turn``). :class:`SendLog`
reads the same window outside a turn (the pre-check before a new session is created) and
keeps the standalone check-and-count used by tests and tools.

The rate limit is kept in the SQL database so every replica (and a restart) counts the same
sends.

One row per accepted send in ``send_log``; a send is accepted only if the user has fewer than
``limit`` rows in the last ``window``. The check and the insert happen in one transaction
(SQLite: ``BEGIN IMMEDIATE``; Postgres: a per-user transaction-scoped advisory lock), so two
tabs or two replicas cannot both take the last slot. Rows older than an hour are deleted as
the user sends, so the table stays small.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from assistant.chat.events import LimitExceededError
from assistant.config import Settings
from assistant.db import is_sqlite, send_log, write_tx
from assistant.sessions.base import SendWindow, StorageUnavailableError, parse_utc, to_utc

logger = logging.getLogger(__name__)

KEEP = timedelta(hours=1)
RATE_WINDOW = timedelta(minutes=1)


class SendLog:
    """Counts and records sends per user.

    Args:
        engine: The migrated SQL database shared by all replicas.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _window(self, conn: sa.Connection, user_id: str, since: datetime) -> tuple[int, datetime | None]:
        row = conn.execute(
            sa.select(sa.func.count(), sa.func.min(send_log.c.sent_at)).where(
                send_log.c.user_id == user_id, send_log.c.sent_at > to_utc(since)
            )
        ).one()
        oldest = row[1]
        if isinstance(oldest, str):
            oldest = parse_utc(oldest)
        return int(row[0]), (to_utc(oldest) if oldest is not None else None)

    def window(self, user_id: str, *, since: datetime) -> tuple[int, datetime | None]:
        """How many sends the user made after ``since``, and when the oldest of them was (records nothing).

        Raises:
            StorageUnavailableError: The database cannot be read.
        """
        try:
            with self._engine.connect() as conn:
                return self._window(conn, user_id, since)
        except SQLAlchemyError as e:
            logger.error("user_id=<%s>, error=<%s> | send log unavailable", user_id, type(e).__name__)
            raise StorageUnavailableError("The session database is unavailable; try again in a moment.") from e

    def check(self, user_id: str, *, limit: int, window: timedelta, now: datetime) -> datetime | None:
        """When the user may send again, or None when a send is allowed now (records nothing).

        Raises:
            StorageUnavailableError: The database cannot be read.
        """
        try:
            with self._engine.connect() as conn:
                count, oldest = self._window(conn, user_id, now - window)
        except SQLAlchemyError as e:
            logger.error("user_id=<%s>, error=<%s> | send log unavailable", user_id, type(e).__name__)
            raise StorageUnavailableError("The session database is unavailable; try again in a moment.") from e
        if count >= limit and oldest is not None:
            return oldest + window
        return None

    def take(self, user_id: str, *, limit: int, window: timedelta, now: datetime) -> datetime | None:
        """Record a send if the limit allows it.

        Returns:
            None when the send was recorded; otherwise when the user may send again.

        Raises:
            StorageUnavailableError: The database cannot be written.
        """
        try:
            with write_tx(self._engine) as conn:
                if not is_sqlite(self._engine):
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:u))"), {"u": "send_log:" + user_id})
                count, oldest = self._window(conn, user_id, now - window)
                if count >= limit and oldest is not None:
                    return oldest + window
                conn.execute(
                    sa.delete(send_log).where(send_log.c.user_id == user_id, send_log.c.sent_at < to_utc(now - KEEP))
                )
                conn.execute(send_log.insert().values(user_id=user_id, sent_at=to_utc(now)))
        except SQLAlchemyError as e:
            logger.error("user_id=<%s>, error=<%s> | send log unavailable", user_id, type(e).__name__)
            raise StorageUnavailableError("The session database is unavailable; try again in a moment.") from e
        return None


def refuse_over_limits(settings: Settings, window: SendWindow, now: datetime) -> None:
    """The one limits decision, "may this user send now?": the daily budget, then the rate limit.

    Args:
        settings: ``daily_budget_usd`` (0 = none) and ``messages_per_minute``.
        window: The user's spend today and recent sends, read where the send is counted.
        now: The current time (UTC).

    Raises:
        LimitExceededError: With ``retry_at``, when sending is possible again.
    """
    budget = settings.daily_budget_usd
    spent = window.spent_today_usd
    if budget > 0 and spent >= budget:
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        reason = f"Today's budget of ${budget:.2f} is used up (spent ${spent:.4f})."
        raise LimitExceededError(
            f"{reason} It resets at {midnight:%Y-%m-%d %H:%M} UTC.",
            midnight,
            reason=f"{reason} It resets at midnight UTC.",
        )
    per_minute = settings.messages_per_minute
    if window.recent_sends >= per_minute and window.oldest_recent_send is not None:
        retry_at = window.oldest_recent_send + RATE_WINDOW
        wait = max(1, int((retry_at - now).total_seconds()) + 1)
        reason = f"You have sent {per_minute} messages in the last minute, the most allowed."
        raise LimitExceededError(
            f"{reason} You can send again at {retry_at:%H:%M:%S} UTC (in {wait} s).",
            retry_at,
            reason=reason,
        )
