"""Sums per UTC day, user and model: whole days from the usage_daily rollup, edge days from the ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from assistant.db import usage, usage_daily
from assistant.usage.dashboard import dashboard
from assistant.usage.rollups import rebuild_usage_daily, usage_groups
from tests.usage.seeded_ledger import CALLS, D1, D3, D4


def test_groups_respect_half_open_period(ledger: Engine) -> None:
    groups = usage_groups(ledger, since=D1, until=D4, user_id=None)
    assert "carol" not in {g.user_id for g in groups}
    groups = usage_groups(ledger, since=D1 - timedelta(seconds=1), until=D4 + timedelta(seconds=1), user_id="carol")
    assert sorted(g.day for g in groups) == ["2026-10-31", "2026-11-04"]


def test_daily_rollup_follows_every_ledger_write(ledger: Engine) -> None:
    # whole days come from usage_daily (kept by triggers), edge days from the ledger
    with ledger.begin() as conn:
        conn.execute(usage.delete().where(usage.c.call_id == "c3"))
        conn.execute(usage.update().where(usage.c.call_id == "c5").values(cost_usd=None))
    board = dashboard(ledger, since=D1, until=D4, user_id=None)
    assert board.totals.calls == 5
    assert board.totals.cost_usd == pytest.approx(0.3)
    assert board.totals.unknown_cost_calls == 2
    kept = [c for c in CALLS if c["call_id"] != "c3"]
    for since, until in ((D1 + timedelta(hours=12), D3 + timedelta(hours=2)), (D1 - timedelta(hours=1), D4)):
        groups = usage_groups(ledger, since=since, until=until, user_id=None)
        inside = [c for c in kept if since <= c["started_at"] < until]  # type: ignore[operator]
        assert sum(g.calls for g in groups) == len(inside)
        assert sum(g.input_tokens for g in groups) == sum(int(c["input_tokens"]) for c in inside)  # type: ignore[call-overload]


def test_rebuilt_rollup_gives_the_same_sums(ledger: Engine) -> None:
    # a bulk load that bypassed the triggers: the rollup is emptied, then rebuilt from the ledger
    period = {"since": D1 - timedelta(days=1), "until": D4 + timedelta(days=1), "user_id": None}
    before = usage_groups(ledger, **period)
    with ledger.begin() as conn:
        conn.execute(usage_daily.delete())
    assert usage_groups(ledger, **period) == []
    with ledger.begin() as conn:
        assert rebuild_usage_daily(conn) == len(before)
    after = usage_groups(ledger, **period)
    assert [(g.day, g.user_id, g.model_id, g.calls, g.input_tokens) for g in after] == [
        (g.day, g.user_id, g.model_id, g.calls, g.input_tokens) for g in before
    ]
    assert sum(g.cost_usd for g in after) == pytest.approx(sum(g.cost_usd for g in before))
