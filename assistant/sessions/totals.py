"""The totals above the sessions table: sums over every session a filter matches, not just the page.

From the ``session_totals`` rollup (migration 0009, kept by triggers) for a filter on users,
states and models; summed over the filtered sessions otherwise; for a search, over its matches
(window sums beside the page, or the walked window's matches, extrapolated when it stopped short
of history). Used by :func:`assistant.sessions.queries.list_sessions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from assistant.db import session_totals

if TYPE_CHECKING:
    from assistant.sessions.queries import SessionQueryLike


@dataclass(frozen=True)
class SessionTotals:
    """Sums over the whole filtered set (not just the page).

    Attributes:
        cost_usd: Sum of the priced costs.
        unknown_cost_sessions: Sessions with at least one unpriced call (their unpriced
            part is not in ``cost_usd``).
        approximate: The figures are extrapolated from the newest candidates of a search with
            many matches (``queries.SEARCH_WINDOW``; rounded to three significant digits; show
            them as "about N"); exact otherwise.
        searched: A search of words too short for the text index looked through only this many
            sessions, the first of the list in its order (``queries.SHORT_SEARCH_SESSIONS``), and
            the figures are theirs; None: the whole list was searched (or no search).
    """

    sessions: int
    turns: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    unknown_cost_sessions: int
    errors: int
    approximate: bool = False
    searched: int | None = None


def totals_columns(c: Any) -> list[Any]:
    """Sessions, turns, input and output tokens, cost, sessions of unknown cost and errors, summed."""
    return [
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(c.turn_count), 0),
        sa.func.coalesce(sa.func.sum(c.input_tokens), 0),
        sa.func.coalesce(sa.func.sum(c.output_tokens), 0),
        sa.func.coalesce(sa.func.sum(c.cost_usd), 0.0),
        sa.func.coalesce(sa.func.sum(sa.case((c.cost_unknown, 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(c.errors), 0),
    ]


def totals_over(c: Any) -> list[Any]:
    """:func:`totals_columns` as window sums over every row the query matches (before its LIMIT)."""
    return [
        sa.func.count().over(),
        sa.func.sum(c.turn_count).over(),
        sa.func.sum(c.input_tokens).over(),
        sa.func.sum(c.output_tokens).over(),
        sa.func.sum(c.cost_usd).over(),
        sa.func.sum(sa.case((c.cost_unknown, 1), else_=0)).over(),
        sa.func.sum(c.errors).over(),
    ]


def totals_of(t: Any, scale: float | None = None) -> SessionTotals:
    """The seven sums of :func:`totals_columns` as totals (``scale``: extrapolated, "about N")."""
    if scale is None:
        return SessionTotals(
            sessions=int(t[0]),
            turns=int(t[1]),
            input_tokens=int(t[2]),
            output_tokens=int(t[3]),
            cost_usd=float(t[4]),
            unknown_cost_sessions=int(t[5]),
            errors=int(t[6]),
        )
    return SessionTotals(
        sessions=about(t[0] * scale),
        turns=about(t[1] * scale),
        input_tokens=about(t[2] * scale),
        output_tokens=about(t[3] * scale),
        cost_usd=float(f"{float(t[4]) * scale:.3g}"),
        unknown_cost_sessions=about(t[5] * scale),
        errors=about(t[6] * scale),
        approximate=True,
    )


def about(value: float) -> int:
    """An extrapolated figure rounded to three significant digits (12,345 -> 12,300)."""
    return int(float(f"{value:.3g}"))


def from_rollup(query: SessionQueryLike) -> bool:
    """Whether ``session_totals`` holds the totals of this filter (users, states and models only)."""
    return query.since is None and query.until is None and not getattr(query, "meeting_id", None)


def rollup_totals(conn: sa.Connection, query: SessionQueryLike) -> SessionTotals:
    """Totals of a users/states/models filter from the ``session_totals`` rollup (a few rows per user)."""
    t = session_totals.c
    conds: list[Any] = [t.sessions > 0]
    if query.user_id is not None:
        conds.append(t.user_id == query.user_id)
    if query.states:
        conds.append(t.state.in_(list(query.states)))
    if query.models:
        conds.append(t.model.in_(list(query.models)))
    stmt = sa.select(
        sa.func.coalesce(sa.func.sum(t.sessions), 0),
        sa.func.coalesce(sa.func.sum(t.turns), 0),
        sa.func.coalesce(sa.func.sum(t.input_tokens), 0),
        sa.func.coalesce(sa.func.sum(t.output_tokens), 0),
        sa.func.coalesce(sa.func.sum(t.cost_usd), 0.0),
        sa.func.coalesce(sa.func.sum(t.unknown_cost_sessions), 0),
        sa.func.coalesce(sa.func.sum(t.errors), 0),
    ).where(*conds)
    totals = totals_of(conn.execute(stmt).one())
    if totals.sessions == 0:  # float sums of sessions that moved away leave rounding dust
        return SessionTotals(0, 0, 0, 0, 0.0, 0, 0)
    # and so do those left: a call costs a whole number of 1e-11 dollars (tokens x a price with
    # 5 decimals per 1M), so 12 decimals keep every call's cost and drop the dust
    # (2.8e-17 once priced sessions were deleted, shown as "<$0.00000001" where $0.00 was spent)
    return replace(totals, cost_usd=round(totals.cost_usd, 12) + 0.0)


def hit_sums(hits: Sequence[Any]) -> tuple[float, ...]:
    """:func:`totals_columns` summed over the window's matching candidates."""
    return (
        len(hits),
        sum(h.turn_count for h in hits),
        sum(h.input_tokens for h in hits),
        sum(h.output_tokens for h in hits),
        sum(float(h.cost_usd) for h in hits),
        sum(1 for h in hits if h.cost_unknown),
        sum(h.errors for h in hits),
    )
