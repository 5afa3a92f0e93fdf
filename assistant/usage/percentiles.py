"""Latency and time-to-first-token percentiles per UTC day, exact on both databases.

Percentiles are linear-interpolated (as SQL ``percentile_cont``): PostgreSQL computes them in
SQL, SQLite streams the period's values once in index order and each day is sorted in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import usage
from assistant.sessions.base import to_utc
from assistant.usage.periods import day_expr, day_str, ledger_conditions, utc_days

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


def _percentiles_postgres(engine: Engine, conn: sa.Connection, conds: list[Any]) -> dict[str, DayFigures]:
    """Per-day p50/p95 of latency and TTFT with ``percentile_cont`` (one sort per metric, in C)."""
    day = day_expr(engine, usage.c.started_at)
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
    out: dict[str, DayFigures] = {}
    for d, lat, ttft in conn.execute(stmt):
        lat = lat or [None, None]
        ttft = ttft or [None, None]
        out[day_str(d)] = (lat[0], lat[1], ttft[0], ttft[1])
    return out


_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite (UTC wall clock)


def _sqlite_ts(value: datetime) -> str:
    return to_utc(value).replace(tzinfo=None).strftime(_SQLITE_TS)


def _percentiles_ordered_scan(
    conn: sa.Connection, user_id: str | None, since: datetime, until: datetime
) -> dict[str, DayFigures]:
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
    out: dict[str, DayFigures] = {}
    pos = 0
    for day, n in counts:
        chunk = stream[pos : pos + n]
        pos += n
        if not chunk:
            continue
        lat = sorted([r[0] for r in chunk if r[0] is not None])
        ttft = sorted([r[1] for r in chunk if r[1] is not None])
        out[day] = (
            sorted_percentile(lat, 0.5),
            sorted_percentile(lat, 0.95),
            sorted_percentile(ttft, 0.5),
            sorted_percentile(ttft, 0.95),
        )
    return out


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

    def compute(c: sa.Connection) -> dict[str, DayFigures]:
        if engine.dialect.name == "postgresql":
            return _percentiles_postgres(engine, c, ledger_conditions(user_id, since, until))
        if engine.dialect.name == "sqlite":
            return _percentiles_ordered_scan(c, user_id, since, until)
        raise NotImplementedError(f"latency percentiles need SQLite or PostgreSQL, not {engine.dialect.name}")

    if conn is None:
        with engine.connect() as own:
            figures = compute(own)
    else:
        figures = compute(conn)
    empty: DayFigures = (None, None, None, None)
    return [DayLatency(day, *figures.get(day, empty)) for day in utc_days(since, until)]
