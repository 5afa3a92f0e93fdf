"""Latency and time-to-first-token percentiles per UTC day, exact on both databases.

Percentiles are linear-interpolated (as SQL ``percentile_cont``): PostgreSQL computes them in
SQL, SQLite streams the period's values once in index order and each day is sorted in Python.

A closed UTC day (before today, wholly inside the period) is computed once per scope (a user,
or all users) and kept in ``usage_latency_daily`` (migration 0009) with the number of calls it
was computed from; it is reused while the ``usage_daily`` rollup still counts the same calls
for that day and scope (a late ledger row for the day makes it recompute). So a dashboard
sorts only today's calls (and the partial days at the edges of an unaligned period), not
every call of the period. Today, still open, is read from its latest :data:`OPEN_DAY_SAMPLE`
calls at most (through the ``started_at`` indexes, newest first): a busy day's figures are
those of its latest calls, and the cost of the read no longer grows with the traffic.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import on_conflict_insert, usage, usage_daily, usage_latency_daily, write_tx
from assistant.sessions.base import to_utc
from assistant.usage.periods import day_expr, day_str, ledger_conditions, utc_days

logger = logging.getLogger(__name__)

ALL_USERS_SCOPE = "*"
"""``usage_latency_daily.scope`` of the all-users figures."""

DayFigures = tuple[float | None, float | None, float | None, float | None]
"""``(latency p50, latency p95, ttft p50, ttft p95)`` of one day, in milliseconds."""


@dataclass(frozen=True)
class DayLatency:
    """Latency and time-to-first-token percentiles of one UTC day (milliseconds)."""

    day: str
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None


def sorted_percentile(ordered: list[float], p: float) -> float | None:
    """Linear-interpolated percentile of an already sorted sample (the definition of SQL ``percentile_cont``).

    Args:
        ordered: The sample, sorted ascending.
        p: The fraction, 0..1.

    Returns:
        The percentile, or None for an empty sample.
    """
    if not ordered:
        return None
    pos = p * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


Computed = dict[str, tuple[DayFigures, int]]
"""Figures per day with the number of ledger rows (calls) of that day they were computed from."""

OPEN_DAY_SAMPLE = 2000
"""Most calls today's (open day's) figures are computed from: its latest ones."""


def _figures(latencies: list[float], ttfts: list[float]) -> DayFigures:
    lat, ttft = sorted(latencies), sorted(ttfts)
    return (
        sorted_percentile(lat, 0.5),
        sorted_percentile(lat, 0.95),
        sorted_percentile(ttft, 0.5),
        sorted_percentile(ttft, 0.95),
    )


def _open_day(conn: sa.Connection, day: str, user_id: str | None, start: datetime, end: datetime) -> Computed:
    """Figures of the open day (today) from its latest :data:`OPEN_DAY_SAMPLE` calls (an index walk, newest first).

    PostgreSQL aggregates the sample in SQL (one row back); SQLite returns it and it is sorted here.
    """
    latest = (
        sa.select(usage.c.latency_ms, usage.c.ttft_ms)
        .where(*ledger_conditions(user_id, start, end))
        .order_by(usage.c.started_at.desc())
        .limit(OPEN_DAY_SAMPLE)
    )
    if conn.dialect.name == "postgresql":
        sample = latest.subquery("latest")
        fractions: sa.ColumnElement[Any] = sa.literal_column("ARRAY[0.5, 0.95]")
        lat, ttft, calls = conn.execute(
            sa.select(
                sa.func.percentile_cont(fractions).within_group(sample.c.latency_ms),
                sa.func.percentile_cont(fractions).within_group(sample.c.ttft_ms),
                sa.func.count(),
            )
        ).one()
        if not calls:
            return {}
        lat, ttft = lat or [None, None], ttft or [None, None]
        return {day: ((lat[0], lat[1], ttft[0], ttft[1]), int(calls))}
    rows = conn.execute(latest).all()
    if not rows:
        return {}
    figures = _figures([float(r[0]) for r in rows if r[0] is not None], [float(r[1]) for r in rows if r[1] is not None])
    return {day: (figures, len(rows))}


def _percentiles_postgres(engine: Engine, conn: sa.Connection, conds: list[Any]) -> Computed:
    """Per-day p50/p95 of latency and TTFT with ``percentile_cont`` (one sort per metric, in C)."""
    day = day_expr(engine, usage.c.started_at)
    fractions: sa.ColumnElement[Any] = sa.literal_column("ARRAY[0.5, 0.95]")
    stmt = (
        sa.select(
            day,
            sa.func.percentile_cont(fractions).within_group(usage.c.latency_ms),
            sa.func.percentile_cont(fractions).within_group(usage.c.ttft_ms),
            sa.func.count(),
        )
        .where(*conds)
        .group_by(day)
    )
    out: Computed = {}
    for d, lat, ttft, calls in conn.execute(stmt):
        lat = lat or [None, None]
        ttft = ttft or [None, None]
        out[day_str(d)] = ((lat[0], lat[1], ttft[0], ttft[1]), int(calls))
    return out


_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite (UTC wall clock)


def _sqlite_ts(value: datetime) -> str:
    return to_utc(value).replace(tzinfo=None).strftime(_SQLITE_TS)


def _percentiles_ordered_scan(conn: sa.Connection, user_id: str | None, since: datetime, until: datetime) -> Computed:
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
        for day in utc_days(start, end):
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
    out: Computed = {}
    pos = 0
    for day, n in counts:
        chunk = stream[pos : pos + n]
        pos += n
        if not chunk:
            continue
        figures = _figures([r[0] for r in chunk if r[0] is not None], [r[1] for r in chunk if r[1] is not None])
        out[day] = (figures, len(chunk))
    return out


def _compute(engine: Engine, conn: sa.Connection, user_id: str | None, start: datetime, end: datetime) -> Computed:
    if engine.dialect.name == "postgresql":
        return _percentiles_postgres(engine, conn, ledger_conditions(user_id, start, end))
    if engine.dialect.name == "sqlite":
        return _percentiles_ordered_scan(conn, user_id, start, end)
    raise NotImplementedError(f"latency percentiles need SQLite or PostgreSQL, not {engine.dialect.name}")


def _midnight(day: str) -> datetime:
    d = date.fromisoformat(day)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _cached_days(conn: sa.Connection, scope: str, user_id: str | None, days: list[str]) -> dict[str, DayFigures]:
    """Kept figures of closed days that still match the ledger (same call count in ``usage_daily``)."""
    if not days:
        return {}
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    d = usage_daily.c
    conds: list[Any] = [d.day >= first, d.day <= last]
    if user_id is not None:
        conds.append(d.user_id == user_id)
    calls = {
        day_str(r[0]): int(r[1])
        for r in conn.execute(sa.select(d.day, sa.func.sum(d.calls)).where(*conds).group_by(d.day))
    }
    k = usage_latency_daily.c
    kept = conn.execute(
        sa.select(k.day, k.calls, k.latency_p50_ms, k.latency_p95_ms, k.ttft_p50_ms, k.ttft_p95_ms).where(
            k.scope == scope, k.day >= first, k.day <= last
        )
    )
    out: dict[str, DayFigures] = {day: (None, None, None, None) for day in days if calls.get(day, 0) == 0}
    for r in kept:
        day = day_str(r[0])
        if day not in out and calls.get(day) == int(r[1]):
            out[day] = (r[2], r[3], r[4], r[5])
    return out


def _keep(engine: Engine, scope: str, computed: Computed) -> None:
    """Store the figures of closed days (best effort: a failure only means computing them again)."""
    if not computed:
        return
    rows = [
        {
            "day": date.fromisoformat(day),
            "scope": scope,
            "calls": calls,
            "latency_p50_ms": f[0],
            "latency_p95_ms": f[1],
            "ttft_p50_ms": f[2],
            "ttft_p95_ms": f[3],
        }
        for day, (f, calls) in computed.items()
    ]
    stmt = on_conflict_insert(engine.dialect.name)(usage_latency_daily)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day", "scope"],
        set_={c: stmt.excluded[c] for c in ("calls", "latency_p50_ms", "latency_p95_ms", "ttft_p50_ms", "ttft_p95_ms")},
    )
    try:
        with write_tx(engine) as conn:
            conn.execute(stmt, rows)
    except sa.exc.DBAPIError as e:
        logger.warning("scope=<%s>, error=<%s> | latency figures of closed days not kept", scope, type(e).__name__)


def latency_by_day(
    engine: Engine,
    *,
    since: datetime,
    until: datetime,
    user_id: str | None,
    conn: sa.Connection | None = None,
    now: datetime | None = None,
) -> list[DayLatency]:
    """p50/p95 latency and TTFT per UTC day (exact linear-interpolated percentiles).

    PostgreSQL computes them with ``percentile_cont``; SQLite (no percentile function)
    reads the values once in index order and sorts each day in Python. Both give the same
    figures. Closed days come from ``usage_latency_daily`` when it still matches the ledger
    and are kept there once computed; today and partial days are always computed (today
    from its latest :data:`OPEN_DAY_SAMPLE` calls).

    Args:
        engine: The database.
        since: Period start (inclusive).
        until: Period end (exclusive).
        user_id: One user, or None for all users.
        conn: An open connection to reuse (optional).
        now: The current time (default: the clock); days ending before its UTC midnight are closed.

    Returns:
        One row per day of the period (None figures on days without measured calls).
    """
    start, end = to_utc(since), to_utc(until)
    days = utc_days(start, end)
    clock = to_utc(now) if now is not None else datetime.now(UTC)
    today = datetime(clock.year, clock.month, clock.day, tzinfo=UTC)
    closed = [d for d in days if _midnight(d) >= start and _midnight(d) + timedelta(days=1) <= min(end, today)]
    scope = user_id if user_id is not None else ALL_USERS_SCOPE

    def compute(c: sa.Connection) -> tuple[dict[str, DayFigures], Computed]:
        figures = _cached_days(c, scope, user_id, closed)
        fresh: Computed = {}
        todo = [d for d in days if d not in figures]
        # contiguous runs of days still to compute, each read from the ledger in one pass
        runs: list[list[str]] = []
        for d in todo:
            if runs and _midnight(runs[-1][-1]) + timedelta(days=1) == _midnight(d):
                runs[-1].append(d)
            else:
                runs.append([d])
        for run in runs:
            lo = max(start, _midnight(run[0]))
            hi = min(end, _midnight(run[-1]) + timedelta(days=1))
            if run == [today.date().isoformat()]:
                computed = _open_day(c, run[0], user_id, lo, hi)
            else:
                computed = _compute(engine, c, user_id, lo, hi)
            for d in run:
                f, calls = computed.get(d, ((None, None, None, None), 0))
                figures[d] = f
                if d in closed and calls:
                    fresh[d] = (f, calls)
        return figures, fresh

    if conn is None:
        with engine.connect() as own:
            figures, fresh = compute(own)
    else:
        figures, fresh = compute(conn)
    _keep(engine, scope, fresh)
    return [DayLatency(day, *figures[day]) for day in days]
