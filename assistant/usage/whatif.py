"""What-if pricing: the period's recorded tokens priced on every model of the price table (an estimate)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import usage
from assistant.sessions.base import to_utc
from assistant.usage.periods import ledger_conditions
from assistant.usage.pricing import PriceTable


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
        ``(label, estimated_cost_usd)`` per model, cheapest first (table order on ties); a label
        that several entries share names the provider, e.g. "Claude Sonnet 4.5 (Bedrock)".
    """
    stmt = sa.select(
        sa.func.coalesce(sa.func.sum(usage.c.input_tokens), 0),
        sa.func.coalesce(sa.func.sum(usage.c.output_tokens), 0),
        sa.func.coalesce(sa.func.sum(usage.c.cache_read_tokens), 0),
        sa.func.coalesce(sa.func.sum(usage.c.cache_write_tokens), 0),
    ).where(*ledger_conditions(user_scope, since, until))
    with engine.connect() as conn:
        tin, tout, tcr, tcw = (int(v) for v in conn.execute(stmt).one())
    at = to_utc(until) - timedelta(microseconds=1)
    models = table.models(at, include_free=include_free)
    # a label several providers share names its provider (PriceTable.shown_label): the chart drew
    # Claude on Bedrock and on Anthropic's API as one bar twice as long as its figure
    estimates = [WhatIfEstimate(table.shown_label(p), p.cost(tin, tout, tcr, tcw)) for p in models]
    return sorted(estimates, key=lambda e: e.estimated_cost_usd)
