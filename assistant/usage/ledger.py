"""One user's spend today and one session's ledger rows (the chat's budget check, the session detail)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import usage
from assistant.sessions.base import UsageRecord, parse_utc, to_utc


class TodaySpend(NamedTuple):
    """A user's spend today: the priced calls' dollars, and how many calls had no price (not in ``usd``)."""

    usd: float
    unpriced_calls: int = 0


def spend_today(engine: Engine, user_id: str, now: datetime) -> TodaySpend:
    """What ``user_id`` has spent since the start of the current UTC day, and how many calls had no price.

    Uses ``ix_usage_user_started_cost`` (index-only on both backends).

    Args:
        engine: The database.
        user_id: The user.
        now: The current time (UTC).

    Returns:
        Dollars spent today on priced calls, and the number of today's calls without a price.
    """
    now = to_utc(now)
    start = datetime(now.year, now.month, now.day, tzinfo=UTC)
    stmt = sa.select(
        sa.func.coalesce(sa.func.sum(usage.c.cost_usd), 0.0), sa.func.count().filter(usage.c.cost_usd.is_(None))
    ).where(usage.c.user_id == user_id, usage.c.started_at >= start, usage.c.started_at < start + timedelta(days=1))
    with engine.connect() as conn:
        usd, unpriced = conn.execute(stmt).one()
    return TodaySpend(float(usd), int(unpriced))


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
