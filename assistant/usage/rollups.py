"""Ledger sums per UTC day, user and model: the ``usage_daily`` rollup and the ledger's edges.

Whole UTC days are read from the ``usage_daily`` rollup (migration 0004, maintained by
triggers on the ledger in the writer's transaction); the partial days at the edges of a
period are summed from the ledger, through the covering index ``ix_usage_started_cover`` /
the day expression index (migration 0002). Costs of calls with an unknown price are NULL in
the ledger: sums leave them out and the number of such calls is reported next to each sum,
so an unknown price is never shown as $0.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import usage, usage_daily
from assistant.sessions.base import to_utc
from assistant.usage.periods import day_bounds, day_expr, day_str, full_days, ledger_conditions

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UsageGroup:
    """Ledger sums for one (UTC day, user, model).

    Attributes:
        cost_usd: Sum of the priced calls.
        unknown_cost_calls: Calls without a price (not in ``cost_usd``).
    """

    day: str
    user_id: str
    model_id: str
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float
    unknown_cost_calls: int


def _ledger_groups(
    engine: Engine, conn: sa.Connection, *, since: datetime, until: datetime, user_id: str | None
) -> list[UsageGroup]:
    """Sums per day, user and model straight from the ledger (one indexed pass over the period)."""
    day = day_expr(engine, usage.c.started_at).label("day")
    stmt = (
        sa.select(
            day,
            usage.c.user_id,
            usage.c.model_id,
            sa.func.count().label("calls"),
            sa.func.sum(usage.c.input_tokens),
            sa.func.sum(usage.c.output_tokens),
            sa.func.sum(usage.c.cache_read_tokens),
            sa.func.sum(usage.c.cache_write_tokens),
            sa.func.sum(usage.c.cost_usd),
            sa.func.sum(sa.case((usage.c.cost_usd.is_(None), 1), else_=0)),
        )
        .where(*ledger_conditions(user_id, since, until), *day_bounds(engine, since, until))
        .group_by(day, usage.c.user_id, usage.c.model_id)
    )
    return [_group(r) for r in conn.execute(stmt)]


def _rollup_groups(conn: sa.Connection, *, first: datetime, last: datetime, user_id: str | None) -> list[UsageGroup]:
    """Sums per day, user and model of whole UTC days ``[first, last)`` from ``usage_daily``."""
    d = usage_daily.c
    conds: list[Any] = [d.day >= first.date(), d.day < last.date(), d.calls > 0]
    if user_id is not None:
        conds.append(d.user_id == user_id)
    stmt = sa.select(
        d.day,
        d.user_id,
        d.model_id,
        d.calls,
        d.input_tokens,
        d.output_tokens,
        d.cache_read_tokens,
        d.cache_write_tokens,
        d.cost_usd,
        d.unknown_cost_calls,
    ).where(*conds)
    days: dict[Any, str] = {}  # a few distinct days over thousands of rows: convert each once
    out = []
    for r in conn.execute(stmt).all():  # one fetch, not a fetch per row: a 30-day scope has thousands
        day = days.get(r[0])
        if day is None:
            day = days[r[0]] = day_str(r[0])
        out.append(
            UsageGroup(day, r[1], r[2], int(r[3]), int(r[4]), int(r[5]), int(r[6]), int(r[7]), float(r[8]), int(r[9]))
        )
    return out


def _group(r: Any) -> UsageGroup:
    return UsageGroup(
        day=day_str(r[0]),
        user_id=r[1],
        model_id=r[2],
        calls=int(r[3]),
        input_tokens=int(r[4] or 0),
        output_tokens=int(r[5] or 0),
        cache_read_tokens=int(r[6] or 0),
        cache_write_tokens=int(r[7] or 0),
        cost_usd=float(r[8] or 0.0),
        unknown_cost_calls=int(r[9] or 0),
    )


def rebuild_usage_daily(conn: sa.Connection) -> int:
    """Recompute the ``usage_daily`` rollup from the whole ledger (bulk loads that bypassed its triggers).

    Args:
        conn: A connection inside the caller's transaction.

    Returns:
        The number of rollup rows written.
    """
    day = day_expr(conn.engine, usage.c.started_at)
    select = sa.select(
        day,
        usage.c.user_id,
        usage.c.model_id,
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(usage.c.input_tokens), 0),
        sa.func.coalesce(sa.func.sum(usage.c.output_tokens), 0),
        sa.func.coalesce(sa.func.sum(usage.c.cache_read_tokens), 0),
        sa.func.coalesce(sa.func.sum(usage.c.cache_write_tokens), 0),
        sa.func.coalesce(sa.func.sum(usage.c.cost_usd), 0.0),
        sa.func.sum(sa.case((usage.c.cost_usd.is_(None), 1), else_=0)),
    ).group_by(day, usage.c.user_id, usage.c.model_id)
    conn.execute(sa.delete(usage_daily))
    conn.execute(sa.insert(usage_daily).from_select([c.name for c in usage_daily.c], select))
    # counted, not the INSERT's rowcount: psycopg reports -1 for an INSERT ... SELECT built by SQLAlchemy
    rows = int(conn.execute(sa.select(sa.func.count()).select_from(usage_daily)).scalar_one())
    logger.info("rows=<%s> | rebuilt daily usage rollup", rows)
    return rows


def usage_groups(engine: Engine, *, since: datetime, until: datetime, user_id: str | None) -> list[UsageGroup]:
    """Ledger sums per UTC day, user and model over a period.

    Whole UTC days come from the ``usage_daily`` rollup (migration 0004: kept in step with
    the ledger by triggers, in the same transaction as each ledger write); the partial days
    at the edges of the period are summed from the ledger itself. The figures are exact
    either way (the same sums, up to floating-point addition order).

    Args:
        engine: The database.
        since: Period start (inclusive, UTC).
        until: Period end (exclusive, UTC).
        user_id: One user, or None for all users.

    Returns:
        One :class:`UsageGroup` per (day, user, model) with calls, sorted by day, user, model.
    """
    start, end = to_utc(since), to_utc(until)
    full = full_days(start, end)
    with engine.connect() as conn:
        if full is None:
            groups = _ledger_groups(engine, conn, since=start, until=end, user_id=user_id)
        else:
            first, last = full
            groups = _rollup_groups(conn, first=first, last=last, user_id=user_id)
            if start < first:
                groups += _ledger_groups(engine, conn, since=start, until=first, user_id=user_id)
            if last < end:
                groups += _ledger_groups(engine, conn, since=last, until=end, user_id=user_id)
    return sorted(groups, key=lambda g: (g.day, g.user_id, g.model_id))
