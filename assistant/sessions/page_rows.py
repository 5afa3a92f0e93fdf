"""The rows of one page of the sessions table, with per-session call figures from the ledger.

Latency and TTFT figures are computed from the usage ledger for the rows of the page only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from assistant.db import sessions, usage
from assistant.sessions.base import parse_utc


@dataclass(frozen=True)
class SessionRow:
    """One row of the sessions table.

    Attributes:
        cost_usd: Total cost, or None when at least one call of the session has an unknown
            price (``known_cost_usd`` then holds the priced part).
        models: Model ids used by the session's calls, in order of first use (the
            session's model when it has no calls yet).
        avg_latency_ms: Mean model-call latency (None without measured calls).
        ttft_p50_ms: Median time to first token over the session's calls.
        ttft_p95_ms: 95th percentile time to first token.
    """

    id: str
    user_id: str
    user_email: str | None
    title: str
    state: str
    created_at: datetime
    updated_at: datetime
    model: str
    turn_count: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    known_cost_usd: float
    errors: int
    calls: int
    models: tuple[str, ...]
    avg_latency_ms: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    continued_from: str | None = None
    damaged: bool = False

    @property
    def started(self) -> datetime:
        """When the session started (alias of ``created_at``)."""
        return self.created_at

    @property
    def last_activity(self) -> datetime:
        """When the session last changed (alias of ``updated_at``)."""
        return self.updated_at


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear-interpolated percentile (same definition as SQL ``percentile_cont``).

    Args:
        values: The sample (any order).
        p: The fraction, 0..1.

    Returns:
        The percentile, or None for an empty sample.
    """
    if not values:
        return None
    ordered = sorted(values)
    pos = p * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def load_rows(conn: sa.Connection, ids: list[str]) -> list[SessionRow]:
    if not ids:
        return []
    cols = [
        sessions.c.id,
        sessions.c.user_id,
        sessions.c.user_email,
        sessions.c.title,
        sessions.c.state,
        sessions.c.created_at,
        sessions.c.updated_at,
        sessions.c.model,
        sessions.c.turn_count,
        sessions.c.input_tokens,
        sessions.c.output_tokens,
        sessions.c.cost_usd,
        sessions.c.cost_unknown,
        sessions.c.errors,
        sessions.c.continued_from,
        sessions.c.damaged.is_not(None).label("is_damaged"),
    ]
    meta = {r.id: r for r in conn.execute(sa.select(*cols).where(sessions.c.id.in_(ids)))}
    calls = conn.execute(
        sa.select(usage.c.session_id, usage.c.model_id, usage.c.latency_ms, usage.c.ttft_ms)
        .where(usage.c.session_id.in_(ids))
        .order_by(usage.c.session_id, usage.c.started_at, usage.c.call_id)
    ).all()
    stats = _call_stats((c.session_id, c.model_id, c.latency_ms, c.ttft_ms) for c in calls)
    rows: list[SessionRow] = []
    for sid in ids:
        r = meta.get(sid)
        if r is None:  # deleted between the two reads
            continue
        n_calls, models, avg_latency, p50, p95 = stats.get(sid, (0, (), None, None, None))
        rows.append(
            SessionRow(
                id=r.id,
                user_id=r.user_id,
                user_email=r.user_email,
                title=r.title,
                state=r.state,
                created_at=parse_utc(r.created_at),
                updated_at=parse_utc(r.updated_at),
                model=r.model,
                turn_count=int(r.turn_count),
                input_tokens=int(r.input_tokens),
                output_tokens=int(r.output_tokens),
                cost_usd=None if r.cost_unknown else float(r.cost_usd),
                known_cost_usd=float(r.cost_usd),
                errors=int(r.errors),
                calls=n_calls,
                models=models or (r.model,),
                avg_latency_ms=avg_latency,
                ttft_p50_ms=p50,
                ttft_p95_ms=p95,
                continued_from=r.continued_from,
                damaged=bool(r.is_damaged),
            )
        )
    return rows


def _call_stats(
    calls: Iterable[tuple[str, str, float | None, float | None]],
) -> dict[str, tuple[int, tuple[str, ...], float | None, float | None, float | None]]:
    grouped: dict[str, tuple[list[str], list[float], list[float], list[int]]] = {}
    for sid, model_id, latency, ttft in calls:
        models, latencies, ttfts, count = grouped.setdefault(sid, ([], [], [], [0]))
        count[0] += 1
        if model_id not in models:
            models.append(model_id)
        if latency is not None:
            latencies.append(float(latency))
        if ttft is not None:
            ttfts.append(float(ttft))
    return {
        sid: (
            count[0],
            tuple(models),
            sum(latencies) / len(latencies) if latencies else None,
            percentile(ttfts, 0.5),
            percentile(ttfts, 0.95),
        )
        for sid, (models, latencies, ttfts, count) in grouped.items()
    }
