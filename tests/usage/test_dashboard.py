"""Dashboard aggregates over the seeded ledger: totals and scope, cost per day, top users, budget, session costs."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from assistant.usage.dashboard import dashboard
from tests.usage.seeded_ledger import D1, D4, LITE, SONNET, UNKNOWN


def test_totals_and_scope(ledger: Engine) -> None:
    admin = dashboard(ledger, since=D1, until=D4, user_id=None)
    assert admin.totals.cost_usd == pytest.approx(1.8)
    assert admin.totals.unknown_cost_calls == 1
    assert admin.totals.calls == 6
    assert admin.totals.users == 2
    assert admin.totals.input_tokens == 6517
    assert admin.totals.cache_read_tokens == 500
    assert admin.totals.cache_write_tokens == 100
    alice = dashboard(ledger, since=D1, until=D4, user_id="alice")
    assert alice.totals.cost_usd == pytest.approx(1.3)
    assert alice.totals.calls == 4
    assert alice.top_users == []  # admins only
    assert dashboard(ledger, since=D1, until=D4, user_id="mallory").totals.calls == 0


def test_cost_per_day_stacked_by_model(ledger: Engine) -> None:
    rows = dashboard(ledger, since=D1, until=D4, user_id=None).cost_by_day
    assert {r.day for r in rows} == {"2026-11-01", "2026-11-02", "2026-11-03"}
    cost = {(r.day, r.model_id): r.cost_usd for r in rows}
    assert cost[("2026-11-01", LITE)] == pytest.approx(0.30)
    assert cost[("2026-11-02", LITE)] == pytest.approx(0.50)
    assert cost[("2026-11-02", SONNET)] == pytest.approx(1.00)
    assert cost[("2026-11-02", UNKNOWN)] == 0.0
    assert cost[("2026-11-03", "offline")] == 0.0
    assert cost[("2026-11-01", SONNET)] == 0.0  # zero-filled
    unknown = {(r.day, r.model_id): r.unknown_cost_calls for r in rows}
    assert unknown[("2026-11-02", UNKNOWN)] == 1
    assert sum(r.cost_usd for r in rows) == pytest.approx(1.8)


def test_top_users_and_budget(ledger: Engine) -> None:
    board = dashboard(ledger, since=D1, until=D4, user_id=None, daily_budget_usd=1.0)
    assert [(u.user_id, round(u.cost_usd, 6)) for u in board.top_users] == [("alice", 1.3), ("bob", 0.5)]
    use = {(b.user_id, b.day): b for b in board.budget_use}
    assert set(use) == {("alice", "2026-11-01"), ("alice", "2026-11-02"), ("bob", "2026-11-02"), ("bob", "2026-11-03")}
    assert use[("alice", "2026-11-01")].spend_usd == pytest.approx(0.3)
    assert use[("alice", "2026-11-02")].fraction == pytest.approx(1.0)
    assert use[("alice", "2026-11-02")].over_budget is True  # spent exactly the budget: sends stop there
    assert use[("alice", "2026-11-02")].unknown_cost_calls == 1
    over = dashboard(ledger, since=D1, until=D4, user_id=None, daily_budget_usd=0.4).budget_use
    assert {(b.user_id, b.day) for b in over if b.over_budget} == {("alice", "2026-11-02"), ("bob", "2026-11-02")}


def test_a_day_spent_exactly_to_the_budget_reads_over_it_as_sends_stop_there(ledger: Engine) -> None:
    """Sends stop when the spend reaches the budget (``>=``) but the dashboard and its CSV said
    over_budget only past it (``>``): a user refused all afternoon read as within budget."""
    from datetime import UTC, datetime

    from assistant.chat.events import LimitExceededError
    from assistant.chat.limits import refuse_over_limits
    from assistant.config import load_settings
    from assistant.sessions.base import SendWindow

    spend = next(
        b.spend_usd
        for b in dashboard(ledger, since=D1, until=D4, user_id="alice", daily_budget_usd=5.0).budget_use
        if b.day == "2026-11-02"
    )
    board = dashboard(ledger, since=D1, until=D4, user_id="alice", daily_budget_usd=spend)
    day = next(b for b in board.budget_use if b.day == "2026-11-02")
    assert day.fraction == 1.0
    with pytest.raises(LimitExceededError, match="budget"):
        refuse_over_limits(
            load_settings(daily_budget_usd=spend),
            SendWindow(spent_today_usd=day.spend_usd, recent_sends=0, oldest_recent_send=None),
            datetime(2026, 11, 2, 18, tzinfo=UTC),
        )
    assert day.over_budget is True
    below = dashboard(ledger, since=D1, until=D4, user_id="alice", daily_budget_usd=spend * 1.01).budget_use
    assert not [b for b in below if b.over_budget]


def test_no_budget_is_never_over_it(ledger: Engine) -> None:
    """DAILY_BUDGET_USD=0 (no budget): every day with any spend was exported as over_budget."""
    none = dashboard(ledger, since=D1, until=D4, user_id=None, daily_budget_usd=0.0).budget_use
    assert none and not [b for b in none if b.over_budget] and all(b.fraction is None for b in none)


def test_session_cost_distribution(ledger: Engine) -> None:
    dist = dashboard(ledger, since=D1, until=D4, user_id=None).session_costs
    assert dist.sessions == 2
    assert dist.unknown_cost_sessions == 1
    assert dist.mean_usd == pytest.approx(0.4)
    assert dist.max_usd == pytest.approx(0.5)
    assert sum(b.sessions for b in dist.buckets) == 2
    assert {(b.low, b.high): b.sessions for b in dist.buckets}[(0.1, 0.5)] == 1
