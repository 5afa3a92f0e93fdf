"""Cost and usage queries over the usage ledger (dashboard, budget, what-if, CSV export).

Every function takes a user scope: a ``user_id`` for one user's figures, or None for all
users (admins; callers enforce the role). Periods are half-open ``[since, until)`` in UTC
and days are UTC days. Costs of calls with an unknown price are NULL in the ledger: sums
leave them out and the number of such calls is reported next to each sum, so an unknown
price is never shown as $0.

Sums per day, user and model read whole UTC days from the ``usage_daily`` rollup
(migration 0004, maintained by triggers on the ledger in the writer's transaction) and the
partial days at the edges of a period from the ledger, through the covering index
``ix_usage_started_cover`` / the day expression index (migration 0002). Percentiles are
exact (linear interpolation, as ``percentile_cont``): PostgreSQL computes them in SQL,
SQLite streams the period's values once in index order.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, TextIO

import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import sessions, usage, usage_daily
from assistant.sessions.base import UsageRecord, parse_utc, to_utc
from assistant.sessions.queries import percentile
from assistant.usage.pricing import PriceTable
from assistant.views.format import csv_cell

logger = logging.getLogger(__name__)

SESSION_COST_BUCKETS: tuple[float, ...] = (0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)


def _day_expr(engine: Engine, column: sa.ColumnElement[datetime]) -> sa.ColumnElement[Any]:
    """SQL expression of the UTC day ('YYYY-MM-DD') of a stored timestamp."""
    if engine.dialect.name == "sqlite":
        # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); literal arguments so the expression
        # matches the expression index ix_usage_day_user_model
        return sa.func.substr(column, sa.literal_column("1"), sa.literal_column("10"))
    if engine.dialect.name == "postgresql":
        # a literal, not a bound parameter: the same expression must repeat in GROUP BY
        return sa.cast(sa.func.timezone(sa.literal_column("'UTC'"), column), sa.Date)
    return sa.cast(sa.func.date(column), sa.String)


def _day_str(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def _scope(user_id: str | None, since: datetime, until: datetime) -> list[Any]:
    conds: list[Any] = [usage.c.started_at >= to_utc(since), usage.c.started_at < to_utc(until)]
    if user_id is not None:
        conds.append(usage.c.user_id == user_id)
    return conds


def _day_range(engine: Engine, since: datetime, until: datetime) -> list[Any]:
    """Redundant bounds on the day expression, so the expression index can serve the range."""
    first = to_utc(since).date()
    last = (to_utc(until) - timedelta(microseconds=1)).date()
    if engine.dialect.name == "sqlite":
        day = _day_expr(engine, usage.c.started_at)
        return [day >= first.isoformat(), day <= last.isoformat()]
    if engine.dialect.name == "postgresql":
        day = _day_expr(engine, usage.c.started_at)
        return [day >= first, day <= last]
    return []


def _days(since: datetime, until: datetime) -> list[str]:
    first = to_utc(since).date()
    last = (to_utc(until) - timedelta(microseconds=1)).date()
    out: list[str] = []
    day = first
    while day <= last:
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out


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


def _full_days(since: datetime, until: datetime) -> tuple[datetime, datetime] | None:
    """``[first, last)`` midnights of the whole UTC days inside ``[since, until)`` (None if none)."""
    start, end = to_utc(since), to_utc(until)
    first = datetime(start.year, start.month, start.day, tzinfo=UTC)
    if first < start:
        first += timedelta(days=1)
    last = datetime(end.year, end.month, end.day, tzinfo=UTC)
    return (first, last) if first < last else None


def _ledger_groups(
    engine: Engine, conn: sa.Connection, *, since: datetime, until: datetime, user_id: str | None
) -> list[UsageGroup]:
    """Sums per day, user and model straight from the ledger (one indexed pass over the period)."""
    day = _day_expr(engine, usage.c.started_at).label("day")
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
        .where(*_scope(user_id, since, until), *_day_range(engine, since, until))
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
    return [_group(r) for r in conn.execute(stmt)]


def _group(r: Any) -> UsageGroup:
    return UsageGroup(
        day=_day_str(r[0]),
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
    day = _day_expr(conn.engine, usage.c.started_at)
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
    result = conn.execute(sa.insert(usage_daily).from_select([c.name for c in usage_daily.c], select))
    logger.info("rows=<%s> | rebuilt daily usage rollup", result.rowcount)
    return int(result.rowcount or 0)


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
    full = _full_days(start, end)
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


@dataclass(frozen=True)
class UsageTotals:
    """Totals over a period and scope."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    unknown_cost_calls: int = 0
    users: int = 0

    @property
    def tokens(self) -> int:
        """All tokens (input, output and cache)."""
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens


@dataclass(frozen=True)
class DayModelCost:
    """Cost of one model on one UTC day (the stacked cost-per-day chart)."""

    day: str
    model_id: str
    cost_usd: float
    unknown_cost_calls: int
    calls: int
    tokens: int


@dataclass(frozen=True)
class UserCost:
    """One user's spend over the period (top users, admins only)."""

    user_id: str
    cost_usd: float
    unknown_cost_calls: int
    calls: int
    tokens: int


@dataclass(frozen=True)
class BudgetUse:
    """One user's spend on one UTC day against the daily budget."""

    user_id: str
    day: str
    spend_usd: float
    budget_usd: float
    fraction: float | None  # None when the budget is 0
    over_budget: bool
    unknown_cost_calls: int


@dataclass(frozen=True)
class DayLatency:
    """Latency and time-to-first-token percentiles of one UTC day (milliseconds)."""

    day: str
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None


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


@dataclass(frozen=True)
class Dashboard:
    """Everything the cost dashboard shows for a period and a user scope."""

    since: datetime
    until: datetime
    user_id: str | None
    totals: UsageTotals
    cost_by_day: list[DayModelCost] = field(default_factory=list)
    session_costs: SessionCostDistribution = field(default_factory=SessionCostDistribution)
    top_users: list[UserCost] = field(default_factory=list)
    latency_by_day: list[DayLatency] = field(default_factory=list)
    budget_use: list[BudgetUse] = field(default_factory=list)


def totals_from_groups(groups: list[UsageGroup]) -> UsageTotals:
    """Sum grouped ledger rows into period totals.

    Args:
        groups: Output of :func:`usage_groups`.

    Returns:
        The totals (``users`` = distinct users with calls).
    """
    return UsageTotals(
        calls=sum(g.calls for g in groups),
        input_tokens=sum(g.input_tokens for g in groups),
        output_tokens=sum(g.output_tokens for g in groups),
        cache_read_tokens=sum(g.cache_read_tokens for g in groups),
        cache_write_tokens=sum(g.cache_write_tokens for g in groups),
        cost_usd=sum(g.cost_usd for g in groups),
        unknown_cost_calls=sum(g.unknown_cost_calls for g in groups),
        users=len({g.user_id for g in groups}),
    )


def cost_by_day(groups: list[UsageGroup], since: datetime, until: datetime) -> list[DayModelCost]:
    """Cost per UTC day and model (every model on every day of the period, zeros included).

    Args:
        groups: Output of :func:`usage_groups`.
        since: Period start.
        until: Period end.

    Returns:
        Rows sorted by day then model.
    """
    acc: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0, 0, 0])
    for g in groups:
        a = acc[(g.day, g.model_id)]
        a[0] += g.cost_usd
        a[1] += g.unknown_cost_calls
        a[2] += g.calls
        a[3] += g.input_tokens + g.output_tokens + g.cache_read_tokens + g.cache_write_tokens
    models = sorted({g.model_id for g in groups})
    out: list[DayModelCost] = []
    for day in _days(since, until):
        for model in models:
            a = acc.get((day, model), [0.0, 0, 0, 0])
            out.append(DayModelCost(day, model, float(a[0]), int(a[1]), int(a[2]), int(a[3])))
    return out


def top_users(groups: list[UsageGroup], limit: int = 10) -> list[UserCost]:
    """Users by spend, highest first (ties by user id).

    Args:
        groups: Output of :func:`usage_groups` (all users).
        limit: How many users to return.

    Returns:
        Up to ``limit`` users.
    """
    acc: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0, 0])
    for g in groups:
        a = acc[g.user_id]
        a[0] += g.cost_usd
        a[1] += g.unknown_cost_calls
        a[2] += g.calls
        a[3] += g.input_tokens + g.output_tokens + g.cache_read_tokens + g.cache_write_tokens
    ranked = sorted(acc.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    return [UserCost(u, float(a[0]), int(a[1]), int(a[2]), int(a[3])) for u, a in ranked]


def budget_use(groups: list[UsageGroup], daily_budget_usd: float) -> list[BudgetUse]:
    """Each user's spend per UTC day against a daily budget (user-days with calls only).

    Args:
        groups: Output of :func:`usage_groups`.
        daily_budget_usd: The per-user daily budget.

    Returns:
        Rows sorted by day then user.
    """
    acc: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0])
    for g in groups:
        a = acc[(g.day, g.user_id)]
        a[0] += g.cost_usd
        a[1] += g.unknown_cost_calls
    out: list[BudgetUse] = []
    for (day, user_id), (spend, unknown) in sorted(acc.items()):
        fraction = spend / daily_budget_usd if daily_budget_usd > 0 else None
        out.append(
            BudgetUse(
                user_id=user_id,
                day=day,
                spend_usd=float(spend),
                budget_usd=daily_budget_usd,
                fraction=fraction,
                over_budget=spend > daily_budget_usd,
                unknown_cost_calls=int(unknown),
            )
        )
    return out


def _percentiles_postgres(
    engine: Engine, conn: sa.Connection, conds: list[Any]
) -> dict[str, tuple[float | None, float | None, float | None, float | None]]:
    """Per-day p50/p95 of latency and TTFT with ``percentile_cont`` (one sort per metric, in C)."""
    day = _day_expr(engine, usage.c.started_at)
    fractions: sa.ColumnElement[Any] = sa.literal_column("ARRAY[0.5, 0.95]")
    stmt = (
        sa.select(
            day,
            sa.func.percentile_cont(fractions).within_group(usage.c.latency_ms),
            sa.func.percentile_cont(fractions).within_group(usage.c.ttft_ms),
        )
        .where(*conds)
        .group_by(day)
    )
    out: dict[str, tuple[float | None, float | None, float | None, float | None]] = {}
    for d, lat, ttft in conn.execute(stmt):
        lat = lat or [None, None]
        ttft = ttft or [None, None]
        out[_day_str(d)] = (lat[0], lat[1], ttft[0], ttft[1])
    return out


_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite (UTC wall clock)


def _sqlite_ts(value: datetime) -> str:
    return to_utc(value).replace(tzinfo=None).strftime(_SQLITE_TS)


def _percentiles_ordered_scan(
    conn: sa.Connection, user_id: str | None, since: datetime, until: datetime
) -> dict[str, tuple[float | None, float | None, float | None, float | None]]:
    """Per-day p50/p95 of latency and TTFT, exact, for SQLite (no ``percentile_cont``).

    Counts the calls of each UTC day (index-only range counts), then reads latency and
    TTFT once in ``started_at`` order straight from the covering index (no sort in the
    database), splits the stream at the day counts and sorts each day in Python. Both reads
    run in one transaction so the counts and the stream agree. The stream is read through
    the driver's cursor (plain tuples): building a SQLAlchemy row per ledger row cost more
    than the read itself.
    """
    start, end = to_utc(since), to_utc(until)
    user_sql = " AND user_id = ?" if user_id is not None else ""
    user_args: tuple[str, ...] = (user_id,) if user_id is not None else ()
    conn.exec_driver_sql("SELECT 1")  # begin the read transaction the two reads share
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        counts: list[tuple[str, int]] = []
        for day in _days(start, end):
            d = date.fromisoformat(day)
            lo = max(start, datetime(d.year, d.month, d.day, tzinfo=UTC))
            hi = min(end, datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=1))
            cursor.execute(
                "SELECT count(*) FROM usage WHERE started_at >= ? AND started_at < ?" + user_sql,
                (_sqlite_ts(lo), _sqlite_ts(hi), *user_args),
            )
            found = cursor.fetchone()
            counts.append((day, int(found[0]) if found else 0))
        cursor.execute(
            "SELECT latency_ms, ttft_ms FROM usage WHERE started_at >= ? AND started_at < ?"
            + user_sql
            + " ORDER BY started_at",
            (_sqlite_ts(start), _sqlite_ts(end), *user_args),
        )
        stream = cursor.fetchall()
    finally:
        cursor.close()
    out: dict[str, tuple[float | None, float | None, float | None, float | None]] = {}
    pos = 0
    for day, n in counts:
        chunk = stream[pos : pos + n]
        pos += n
        if not chunk:
            continue
        lat = sorted([r[0] for r in chunk if r[0] is not None])
        ttft = sorted([r[1] for r in chunk if r[1] is not None])
        out[day] = (_sorted_pct(lat, 0.5), _sorted_pct(lat, 0.95), _sorted_pct(ttft, 0.5), _sorted_pct(ttft, 0.95))
    return out


def _sorted_pct(ordered: list[float], p: float) -> float | None:
    """Linear-interpolated percentile of an already sorted list (as :func:`percentile`)."""
    if not ordered:
        return None
    pos = p * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


def latency_by_day(
    engine: Engine, *, since: datetime, until: datetime, user_id: str | None, conn: sa.Connection | None = None
) -> list[DayLatency]:
    """p50/p95 latency and TTFT per UTC day (exact linear-interpolated percentiles).

    PostgreSQL computes them with ``percentile_cont``; SQLite (no percentile function)
    reads the values once in index order and sorts each day in Python. Both give the same
    figures.

    Args:
        engine: The database.
        since: Period start (inclusive).
        until: Period end (exclusive).
        user_id: One user, or None for all users.
        conn: An open connection to reuse (optional).

    Returns:
        One row per day of the period (None figures on days without measured calls).
    """

    def compute(c: sa.Connection) -> dict[str, tuple[float | None, float | None, float | None, float | None]]:
        if engine.dialect.name == "postgresql":
            return _percentiles_postgres(engine, c, _scope(user_id, since, until))
        if engine.dialect.name == "sqlite":
            return _percentiles_ordered_scan(c, user_id, since, until)
        raise NotImplementedError(f"latency percentiles need SQLite or PostgreSQL, not {engine.dialect.name}")

    if conn is None:
        with engine.connect() as own:
            figures = compute(own)
    else:
        figures = compute(conn)
    empty: tuple[float | None, float | None, float | None, float | None] = (None, None, None, None)
    return [DayLatency(day, *figures.get(day, empty)) for day in _days(since, until)]


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
        Count, mean, p50, p90, max and fixed buckets (edges :data:`SESSION_COST_BUCKETS`).
    """
    conds: list[Any] = [sessions.c.updated_at >= to_utc(since), sessions.c.updated_at < to_utc(until)]
    if user_id is not None:
        conds.append(sessions.c.user_id == user_id)
    stmt = sa.select(sessions.c.cost_usd, sessions.c.cost_unknown).where(*conds)
    if conn is None:
        with engine.connect() as own:
            rows = own.execute(stmt).all()
    else:
        rows = conn.execute(stmt).all()
    costs = sorted(float(c) for c, unknown in rows if not unknown)
    unknown_n = sum(1 for _c, unknown in rows if unknown)
    if not costs:
        return SessionCostDistribution(unknown_cost_sessions=unknown_n)
    edges = (0.0, *SESSION_COST_BUCKETS)
    buckets = []
    for i, low in enumerate(edges):
        high = edges[i + 1] if i + 1 < len(edges) else None
        n = sum(1 for c in costs if c >= low and (high is None or c < high))
        buckets.append(CostBucket(low, high, n))
    return SessionCostDistribution(
        sessions=len(costs),
        unknown_cost_sessions=unknown_n,
        mean_usd=sum(costs) / len(costs),
        p50_usd=percentile(costs, 0.5),
        p90_usd=percentile(costs, 0.9),
        max_usd=costs[-1],
        buckets=tuple(buckets),
    )


def dashboard(
    engine: Engine,
    *,
    since: datetime,
    until: datetime,
    user_id: str | None,
    daily_budget_usd: float | None = None,
    top_n: int = 10,
) -> Dashboard:
    """All dashboard aggregates for a period and a user scope (four indexed queries).

    Args:
        engine: The database.
        since: Period start (inclusive, UTC).
        until: Period end (exclusive, UTC).
        user_id: One user, or None for all users (admins: adds the top users).
        daily_budget_usd: Per-user daily budget; None leaves ``budget_use`` empty.
        top_n: How many top users to list.

    Returns:
        The :class:`Dashboard`.
    """
    logger.info("user_id=<%s>, since=<%s>, until=<%s> | computing dashboard", user_id, since, until)
    groups = usage_groups(engine, since=since, until=until, user_id=user_id)
    with engine.connect() as conn:
        latency = latency_by_day(engine, since=since, until=until, user_id=user_id, conn=conn)
        distribution = session_cost_distribution(engine, since=since, until=until, user_id=user_id, conn=conn)
    return Dashboard(
        since=to_utc(since),
        until=to_utc(until),
        user_id=user_id,
        totals=totals_from_groups(groups),
        cost_by_day=cost_by_day(groups, since, until),
        session_costs=distribution,
        top_users=top_users(groups, top_n) if user_id is None else [],
        latency_by_day=latency,
        budget_use=budget_use(groups, daily_budget_usd) if daily_budget_usd is not None else [],
    )


def spend_today(engine: Engine, user_id: str, now: datetime) -> float:
    """What ``user_id`` has spent since the start of the current UTC day (priced calls only).

    Uses ``ix_usage_user_started_cost`` (index-only on both backends).

    Args:
        engine: The database.
        user_id: The user.
        now: The current time (UTC).

    Returns:
        Dollars spent today.
    """
    now = to_utc(now)
    start = datetime(now.year, now.month, now.day, tzinfo=UTC)
    stmt = sa.select(sa.func.coalesce(sa.func.sum(usage.c.cost_usd), 0.0)).where(
        usage.c.user_id == user_id, usage.c.started_at >= start, usage.c.started_at < start + timedelta(days=1)
    )
    with engine.connect() as conn:
        return float(conn.execute(stmt).scalar_one())


def session_usage(engine: Engine, session_id: str, user_id: str | None = None) -> list[UsageRecord]:
    """Every ledger row of one session, oldest first (failed calls included).

    Args:
        engine: The database.
        session_id: The session.
        user_id: When given, only that user's rows (another user's session yields nothing).

    Returns:
        The calls as :class:`UsageRecord`.
    """
    stmt = sa.select(usage).where(usage.c.session_id == session_id)
    if user_id is not None:
        stmt = stmt.where(usage.c.user_id == user_id)
    stmt = stmt.order_by(usage.c.started_at, usage.c.turn_idx, usage.c.call_id)
    with engine.connect() as conn:
        return [
            UsageRecord(
                call_id=r.call_id,
                session_id=r.session_id,
                user_id=r.user_id,
                turn_idx=int(r.turn_idx),
                provider=r.provider,
                model_id=r.model_id,
                started_at=parse_utc(r.started_at),
                input_tokens=int(r.input_tokens),
                output_tokens=int(r.output_tokens),
                cache_read_tokens=int(r.cache_read_tokens),
                cache_write_tokens=int(r.cache_write_tokens),
                latency_ms=r.latency_ms,
                ttft_ms=r.ttft_ms,
                error=r.error,
                cost_usd=r.cost_usd,
                price_version=r.price_version,
            )
            for r in conn.execute(stmt)
        ]


class WhatIfEstimate(NamedTuple):
    """Estimated cost of the period's recorded tokens had every call used this model."""

    label: str
    estimated_cost_usd: float


def what_if(
    engine: Engine,
    user_scope: str | None,
    since: datetime,
    until: datetime,
    table: PriceTable,
    *,
    include_free: bool = False,
) -> list[WhatIfEstimate]:
    """Price the period's recorded token counts on every model of the table (an estimate).

    The same input/output/cache token counts are priced with each model's rates in force
    at the end of the period; real token counts would differ between models (tokenisers,
    answer lengths), so the figures are labelled estimates.

    Args:
        engine: The database.
        user_scope: One user, or None for all users.
        since: Period start (inclusive).
        until: Period end (exclusive).
        table: The price table.
        include_free: Also list zero-priced models (the offline demo model).

    Returns:
        ``(label, estimated_cost_usd)`` per model, cheapest first (table order on ties).
    """
    stmt = sa.select(
        sa.func.coalesce(sa.func.sum(usage.c.input_tokens), 0),
        sa.func.coalesce(sa.func.sum(usage.c.output_tokens), 0),
        sa.func.coalesce(sa.func.sum(usage.c.cache_read_tokens), 0),
        sa.func.coalesce(sa.func.sum(usage.c.cache_write_tokens), 0),
    ).where(*_scope(user_scope, since, until))
    with engine.connect() as conn:
        tin, tout, tcr, tcw = (int(v) for v in conn.execute(stmt).one())
    at = to_utc(until) - timedelta(microseconds=1)
    estimates = [
        WhatIfEstimate(p.label, p.cost(tin, tout, tcr, tcw)) for p in table.models(at, include_free=include_free)
    ]
    return sorted(estimates, key=lambda e: e.estimated_cost_usd)


CSV_COLUMNS = (
    "day",
    "user_id",
    "model_id",
    "calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "unknown_cost_calls",
)


def costs_csv(
    engine: Engine,
    *,
    since: datetime | date,
    until: datetime | date | None = None,
    user_id: str | None = None,
    out: TextIO | None = None,
) -> str:
    """CSV of costs per UTC day, user and model (``python -m assistant sessions costs --csv``).

    Args:
        engine: The database.
        since: First day/time included (a date means its UTC midnight).
        until: End (exclusive); default: now.
        user_id: One user, or None for all users.
        out: Also write the CSV to this stream.

    Returns:
        The CSV text (header line, then one line per group; ``cost_usd`` is empty when every
        call of the group is unpriced).
    """
    start = _as_datetime(since)
    end = _as_datetime(until) if until is not None else datetime.now(UTC)
    groups = usage_groups(engine, since=start, until=end, user_id=user_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for g in groups:
        priced = g.calls - g.unknown_cost_calls
        writer.writerow(
            [
                g.day,
                csv_cell(g.user_id),
                csv_cell(g.model_id),
                g.calls,
                g.input_tokens,
                g.output_tokens,
                g.cache_read_tokens,
                g.cache_write_tokens,
                f"{g.cost_usd:.6f}" if priced else "",
                g.unknown_cost_calls,
            ]
        )
    text = buffer.getvalue()
    if out is not None:
        out.write(text)
    return text


def _as_datetime(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return to_utc(value)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)
