"""The dashboard's distribution of cost per session over the sessions last active in a period.

A period of whole UTC days (what the page asks) is read from the ``session_cost_daily``
histogram (migration 0010, kept by triggers in the writer's transaction): the number of
sessions and their summed cost per day, scope (a user or ``'*'``), cost range and fine log
bucket. So a 30-day dashboard reads O(days x buckets) rows however many sessions there are:

- the count, the unknown-cost count, the mean and each cost range's count are exact;
- the maximum is exact (the sessions of the highest non-empty bucket, read through
  ``ix_sessions_cost``);
- the median and p90 are interpolated (as ``percentile_cont``) between sessions placed
  evenly inside their fine bucket (50 a decade, 4.7% wide, cut at the range edges): within a
  few percent of the exact figure; a period whose sessions cost nothing shows $0.

A period that does not start and end at UTC midnight is computed exactly from the sessions
of the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import session_cost_daily, sessions
from assistant.sessions.base import to_utc
from assistant.usage.percentiles import sorted_percentile

SESSION_COST_BUCKETS: tuple[float, ...] = (0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)
"""Edges of the cost ranges (also the ``coarse`` buckets of ``session_cost_daily``, migration 0010)."""
FINE_PER_DECADE = 50
ZERO_FINE = -1000
UNKNOWN_COARSE = -1
ALL_USERS_SCOPE = "*"


@dataclass(frozen=True)
class CostBucket:
    """Sessions whose cost falls in ``[low, high)`` (``high`` None = no upper bound)."""

    low: float
    high: float | None
    sessions: int


@dataclass(frozen=True)
class SessionCostDistribution:
    """Distribution of the cost per session, over sessions active in the period.

    Sessions with an unknown-priced call are counted in ``unknown_cost_sessions`` only.
    """

    sessions: int = 0
    unknown_cost_sessions: int = 0
    mean_usd: float | None = None
    p50_usd: float | None = None
    p90_usd: float | None = None
    max_usd: float | None = None
    buckets: tuple[CostBucket, ...] = ()


EDGES: tuple[float, ...] = (0.0, *SESSION_COST_BUCKETS)


def _range_bounds(coarse: int) -> tuple[float, float | None]:
    return EDGES[coarse], EDGES[coarse + 1] if coarse + 1 < len(EDGES) else None


def _whole_days(since: datetime, until: datetime) -> bool:
    return all(to_utc(t).time() == time(0) for t in (since, until))


def session_cost_distribution(
    engine: Engine, *, since: datetime, until: datetime, user_id: str | None, conn: sa.Connection | None = None
) -> SessionCostDistribution:
    """Distribution of cost per session over sessions whose last activity is in the period.

    Args:
        engine: The database.
        since: Period start (inclusive).
        until: Period end (exclusive).
        user_id: One user, or None for all users.
        conn: An open connection to reuse (optional).

    Returns:
        Count, mean, p50, p90, max and the cost ranges (edges :data:`SESSION_COST_BUCKETS`).
    """
    if conn is None:
        with engine.connect() as own:
            return session_cost_distribution(engine, since=since, until=until, user_id=user_id, conn=own)
    if _whole_days(since, until):
        return _from_histogram(conn, since=since, until=until, user_id=user_id)
    return _exact(conn, since=since, until=until, user_id=user_id)


def _period_conditions(since: datetime, until: datetime, user_id: str | None) -> list[Any]:
    conds: list[Any] = [sessions.c.updated_at >= to_utc(since), sessions.c.updated_at < to_utc(until)]
    if user_id is not None:
        conds.append(sessions.c.user_id == user_id)
    return conds


def _exact(conn: sa.Connection, *, since: datetime, until: datetime, user_id: str | None) -> SessionCostDistribution:
    """The distribution from every session of the period (an unaligned period)."""
    stmt = sa.select(sessions.c.cost_usd, sessions.c.cost_unknown).where(*_period_conditions(since, until, user_id))
    rows = conn.execute(stmt).all()
    costs = sorted(float(c) for c, unknown in rows if not unknown)
    unknown_n = sum(1 for _c, unknown in rows if unknown)
    if not costs:
        return SessionCostDistribution(unknown_cost_sessions=unknown_n)
    buckets = []
    for i, low in enumerate(EDGES):
        high = EDGES[i + 1] if i + 1 < len(EDGES) else None
        buckets.append(CostBucket(low, high, sum(1 for c in costs if c >= low and (high is None or c < high))))
    return SessionCostDistribution(
        sessions=len(costs),
        unknown_cost_sessions=unknown_n,
        mean_usd=sum(costs) / len(costs),
        p50_usd=sorted_percentile(costs, 0.5),
        p90_usd=sorted_percentile(costs, 0.9),
        max_usd=costs[-1],
        buckets=tuple(buckets),
    )


@dataclass(frozen=True)
class _Bin:
    """Sessions of one (cost range, fine bucket) over the period: ``count`` values in ``[low, high)``."""

    low: float
    high: float
    count: int


def _bin(coarse: int, fine: int, count: int) -> _Bin:
    range_low, range_high = _range_bounds(coarse)
    if fine == ZERO_FINE:
        return _Bin(0.0, 0.0, count)
    low = max(range_low, 10 ** (fine / FINE_PER_DECADE))
    high = 10 ** ((fine + 1) / FINE_PER_DECADE)
    if range_high is not None:
        high = min(high, range_high)
    return _Bin(low, max(low, high), count)


def _from_histogram(
    conn: sa.Connection, *, since: datetime, until: datetime, user_id: str | None
) -> SessionCostDistribution:
    """The distribution of whole UTC days from ``session_cost_daily`` (see the module docstring)."""
    h = session_cost_daily.c
    stmt = (
        sa.select(h.coarse, h.fine, sa.func.sum(h.sessions), sa.func.sum(h.cost_usd))
        .where(
            h.scope == (user_id if user_id is not None else ALL_USERS_SCOPE),
            h.day >= to_utc(since).date(),
            h.day < to_utc(until).date(),
        )
        .group_by(h.coarse, h.fine)
        .order_by(h.coarse, h.fine)
    )
    groups = [(int(c), int(f), int(n), float(s or 0.0)) for c, f, n, s in conn.execute(stmt) if int(n) > 0]
    unknown_n = sum(n for c, _f, n, _s in groups if c == UNKNOWN_COARSE)
    known = [g for g in groups if g[0] != UNKNOWN_COARSE]
    n = sum(g[2] for g in known)
    if n == 0:
        return SessionCostDistribution(unknown_cost_sessions=unknown_n)
    bins = [_bin(c, f, count) for c, f, count, _s in known]
    top = bins[-1]
    max_usd = top.low if top.high == top.low else _max_cost(conn, since, until, user_id, top.low)
    bins[-1] = _Bin(top.low, max(top.low, max_usd), top.count)
    per_range = {c: 0 for c in range(len(EDGES))}
    for c, _f, count, _s in known:
        per_range[c] += count
    return SessionCostDistribution(
        sessions=n,
        unknown_cost_sessions=unknown_n,
        mean_usd=max(0.0, sum(g[3] for g in known)) / n,
        p50_usd=_binned_percentile(bins, n, 0.5),
        p90_usd=_binned_percentile(bins, n, 0.9),
        max_usd=max_usd,
        buckets=tuple(CostBucket(EDGES[c], _range_bounds(c)[1], per_range[c]) for c in range(len(EDGES))),
    )


def _max_cost(conn: sa.Connection, since: datetime, until: datetime, user_id: str | None, floor: float) -> float:
    """The exact highest known cost of the period's sessions, at or above ``floor`` (the top bucket's low edge)."""
    stmt = sa.select(sa.func.max(sessions.c.cost_usd)).where(
        sessions.c.cost_usd >= floor, sa.not_(sessions.c.cost_unknown), *_period_conditions(since, until, user_id)
    )
    found = conn.execute(stmt).scalar_one_or_none()
    return float(found) if found is not None else floor


def _value_at(bins: Sequence[_Bin], index: int) -> float:
    """The ``index``-th smallest cost (0-based), its bin's sessions placed evenly inside the bin; in
    the top bin, whose high edge is the exact maximum, the last of them at it (the only session of
    $5.51 was told "median $5.50" beside "max $5.51")."""
    start = 0
    for b in bins:
        if index < start + b.count:
            if b.high == b.low:
                return b.low
            placed = index - start + (1.0 if b is bins[-1] else 0.5)
            return b.low + (b.high - b.low) * placed / b.count
        start += b.count
    return bins[-1].high


def _binned_percentile(bins: Sequence[_Bin], n: int, p: float) -> float:
    """``percentile_cont(p)`` over the binned sample of ``n`` sessions."""
    pos = p * (n - 1)
    lo = int(pos)
    hi = min(lo + 1, n - 1)
    low_value, high_value = _value_at(bins, lo), _value_at(bins, hi)
    return low_value + (high_value - low_value) * (pos - lo)
