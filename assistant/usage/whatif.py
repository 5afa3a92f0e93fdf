"""What-if pricing: the period's recorded tokens priced on every model of the price table (an estimate)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import usage
from assistant.sessions.base import to_utc
from assistant.usage.periods import ledger_conditions
from assistant.usage.pricing import Price, PriceTable

PROVIDER_NAMES: dict[str, str] = {"bedrock": "Bedrock", "anthropic": "Anthropic", "openai": "OpenAI"}


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
    shared = {label for label, n in Counter(p.label for p in models).items() if n > 1}
    estimates = [WhatIfEstimate(_label(p, shared), p.cost(tin, tout, tcr, tcw)) for p in models]
    return sorted(estimates, key=lambda e: e.estimated_cost_usd)


def _label(price: Price, shared: set[str]) -> str:
    """The model's label, naming its provider when another entry has the same label.

    Claude models are priced both on Bedrock and on Anthropic's API under one label: the chart
    drew the two as one bar twice as long as its figure, the CSV as two rows no one could tell apart.
    """
    if price.label not in shared:
        return price.label
    return f"{price.label} ({PROVIDER_NAMES.get(price.provider, price.provider)})"
