"""Everything the cost dashboard shows for a period and a user scope, in four indexed queries.

Totals, cost per UTC day and model, top users (all-users scope only), spend against the daily
budget (from the rollups), latency percentiles per day, and the distribution of cost per
session (from the ``session_cost_daily`` histogram, :mod:`assistant.usage.session_costs`).
Unknown prices are counted, never summed as $0.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from assistant.sessions.base import to_utc
from assistant.usage.percentiles import DayLatency, latency_by_day
from assistant.usage.periods import utc_days
from assistant.usage.rollups import UsageGroup, usage_groups
from assistant.usage.session_costs import (
    SessionCostDistribution,
    session_cost_distribution,
)

logger = logging.getLogger(__name__)


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
        groups: Output of :func:`~assistant.usage.rollups.usage_groups`.

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
        groups: Output of :func:`~assistant.usage.rollups.usage_groups`.
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
    for day in utc_days(since, until):
        for model in models:
            a = acc.get((day, model), [0.0, 0, 0, 0])
            out.append(DayModelCost(day, model, float(a[0]), int(a[1]), int(a[2]), int(a[3])))
    return out


def top_users(groups: list[UsageGroup], limit: int = 10) -> list[UserCost]:
    """Users by spend, highest first (ties by user id).

    Args:
        groups: Output of :func:`~assistant.usage.rollups.usage_groups` (all users).
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
        groups: Output of :func:`~assistant.usage.rollups.usage_groups`.
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
                # at the budget, as sends stop (chat.limits.refuse_over_limits: spent >= budget); 0 = none
                over_budget=daily_budget_usd > 0 and spend >= daily_budget_usd,
                unknown_cost_calls=int(unknown),
            )
        )
    return out


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
