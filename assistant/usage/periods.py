"""UTC days over the usage ledger: the day expression the indexes and the rollup use, and period bounds.

Every usage query takes a user scope (a ``user_id`` for one user's figures, or None for all
users: admins; callers enforce the role) and a half-open period ``[since, until)`` in UTC.
Days are UTC days, written ``'YYYY-MM-DD'``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import usage
from assistant.sessions.base import to_utc


def day_expr(engine: Engine, column: sa.ColumnElement[datetime]) -> sa.ColumnElement[Any]:
    """SQL expression of the UTC day of a stored timestamp.

    Args:
        engine: The database (the expression depends on its dialect).
        column: A timestamp column of the ledger.

    Returns:
        The day as ``'YYYY-MM-DD'`` text on SQLite (matching the expression index
        ``ix_usage_day_user_model``), a ``date`` on PostgreSQL.
    """
    if engine.dialect.name == "sqlite":
        # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); literal arguments so the expression
        # matches the expression index ix_usage_day_user_model
        return sa.func.substr(column, sa.literal_column("1"), sa.literal_column("10"))
    if engine.dialect.name == "postgresql":
        # a literal, not a bound parameter: the same expression must repeat in GROUP BY
        return sa.cast(sa.func.timezone(sa.literal_column("'UTC'"), column), sa.Date)
    return sa.cast(sa.func.date(column), sa.String)


def day_str(value: Any) -> str:
    """A day read back from :func:`day_expr` (a ``date`` or text) as ``'YYYY-MM-DD'``."""
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def ledger_conditions(user_id: str | None, since: datetime, until: datetime) -> list[Any]:
    """WHERE conditions on the ledger for a user scope and a period.

    Args:
        user_id: One user, or None for all users.
        since: Period start (inclusive).
        until: Period end (exclusive).

    Returns:
        Conditions on ``usage.started_at`` (and ``usage.user_id``).
    """
    conds: list[Any] = [usage.c.started_at >= to_utc(since), usage.c.started_at < to_utc(until)]
    if user_id is not None:
        conds.append(usage.c.user_id == user_id)
    return conds


def day_bounds(engine: Engine, since: datetime, until: datetime) -> list[Any]:
    """Redundant bounds on the day expression, so the expression index can serve the range.

    Args:
        engine: The database.
        since: Period start (inclusive).
        until: Period end (exclusive).

    Returns:
        Conditions on :func:`day_expr` (none on other dialects).
    """
    first = to_utc(since).date()
    last = (to_utc(until) - timedelta(microseconds=1)).date()
    if engine.dialect.name == "sqlite":
        day = day_expr(engine, usage.c.started_at)
        return [day >= first.isoformat(), day <= last.isoformat()]
    if engine.dialect.name == "postgresql":
        day = day_expr(engine, usage.c.started_at)
        return [day >= first, day <= last]
    return []


def utc_days(since: datetime, until: datetime) -> list[str]:
    """Every UTC day the period touches, as ``'YYYY-MM-DD'``, in order.

    Args:
        since: Period start (inclusive).
        until: Period end (exclusive).

    Returns:
        The days (a period ending at midnight leaves that day out).
    """
    first = to_utc(since).date()
    last = (to_utc(until) - timedelta(microseconds=1)).date()
    out: list[str] = []
    day = first
    while day <= last:
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out


def full_days(since: datetime, until: datetime) -> tuple[datetime, datetime] | None:
    """The whole UTC days inside a period, for the daily rollup.

    Args:
        since: Period start (inclusive).
        until: Period end (exclusive).

    Returns:
        ``(first, last)``: the midnights bounding them (``[first, last)``), or None when the
        period holds no whole day.
    """
    start, end = to_utc(since), to_utc(until)
    first = datetime(start.year, start.month, start.day, tzinfo=UTC)
    if first < start:
        first += timedelta(days=1)
    last = datetime(end.year, end.month, end.day, tzinfo=UTC)
    return (first, last) if first < last else None
