"""Dashboard aggregates, budget, what-if and CSV over a seeded ledger with known sums (SQLite and Postgres)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from assistant.db import usage
from assistant.usage.pricing import PriceTable
from assistant.usage.queries import (
    CSV_COLUMNS,
    costs_csv,
    dashboard,
    latency_by_day,
    session_usage,
    spend_today,
    usage_groups,
    what_if,
)
from tests.fixtures.db import insert_sessions, insert_usage, query_engine

__all__ = ["query_engine"]

D1 = datetime(2026, 11, 1, tzinfo=UTC)
D2, D3, D4 = D1 + timedelta(days=1), D1 + timedelta(days=2), D1 + timedelta(days=3)
LITE, SONNET, UNKNOWN = "us.amazon.nova-lite-v1:0", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "x.unknown"

CALLS = [
    dict(call_id="c1", session_id="a1", user_id="alice", model_id=LITE, started_at=D1 + timedelta(hours=10),
         input_tokens=1000, output_tokens=100, cost_usd=0.10, latency_ms=100.0, ttft_ms=10.0),
    dict(call_id="c2", session_id="a1", user_id="alice", model_id=LITE, started_at=D2 - timedelta(seconds=1),
         input_tokens=2000, output_tokens=200, cache_read_tokens=500, cost_usd=0.20, latency_ms=200.0, ttft_ms=20.0),
    dict(call_id="c3", session_id="a2", user_id="alice", model_id=SONNET, started_at=D2, input_tokens=3000,
         output_tokens=300, cache_write_tokens=100, cost_usd=1.00, latency_ms=300.0, ttft_ms=30.0),
    dict(call_id="c4", session_id="a2", user_id="alice", model_id=UNKNOWN, started_at=D2 + timedelta(hours=5),
         input_tokens=10, output_tokens=1, cost_usd=None, latency_ms=400.0, error="ThrottlingException"),
    dict(call_id="c5", session_id="b1", user_id="bob", model_id=LITE, started_at=D2 + timedelta(hours=6),
         input_tokens=500, output_tokens=50, cost_usd=0.50, latency_ms=1000.0, ttft_ms=100.0),
    dict(call_id="c6", session_id="b1", user_id="bob", model_id="offline", started_at=D3 + timedelta(hours=1),
         input_tokens=7, output_tokens=7, cost_usd=0.0),
    dict(call_id="c7", session_id="old", user_id="carol", model_id=LITE, started_at=D1 - timedelta(seconds=1),
         input_tokens=99, output_tokens=99, cost_usd=5.0, latency_ms=9999.0),
    dict(call_id="c8", session_id="new", user_id="carol", model_id=LITE, started_at=D4, input_tokens=99,
         output_tokens=99, cost_usd=5.0, latency_ms=9999.0),
]  # fmt: skip
SESSIONS = [
    dict(id="a1", user_id="alice", created_at=D1, updated_at=D2 - timedelta(seconds=1), cost_usd=0.30),
    dict(id="a2", user_id="alice", created_at=D2, updated_at=D2 + timedelta(hours=5), cost_usd=1.0, cost_unknown=True),
    dict(id="b1", user_id="bob", created_at=D2, updated_at=D3 + timedelta(hours=1), cost_usd=0.50),
    dict(id="old", user_id="carol", created_at=D1 - timedelta(days=1), updated_at=D1 - timedelta(seconds=1),
         cost_usd=5.0),
]  # fmt: skip


@pytest.fixture
def ledger(query_engine: Engine) -> Engine:
    insert_usage(query_engine, [{"provider": "bedrock", **c} for c in CALLS])
    insert_sessions(query_engine, SESSIONS)
    return query_engine


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
    assert use[("alice", "2026-11-02")].over_budget is False
    assert use[("alice", "2026-11-02")].unknown_cost_calls == 1
    over = dashboard(ledger, since=D1, until=D4, user_id=None, daily_budget_usd=0.4).budget_use
    assert {(b.user_id, b.day) for b in over if b.over_budget} == {("alice", "2026-11-02"), ("bob", "2026-11-02")}


def test_latency_percentiles_per_day(ledger: Engine) -> None:
    days = {d.day: d for d in latency_by_day(ledger, since=D1, until=D4, user_id=None)}
    assert (days["2026-11-01"].latency_p50_ms, days["2026-11-01"].latency_p95_ms) == pytest.approx((150.0, 195.0))
    assert (days["2026-11-01"].ttft_p50_ms, days["2026-11-01"].ttft_p95_ms) == pytest.approx((15.0, 19.5))
    assert (days["2026-11-02"].latency_p50_ms, days["2026-11-02"].latency_p95_ms) == pytest.approx((400.0, 940.0))
    assert (days["2026-11-02"].ttft_p50_ms, days["2026-11-02"].ttft_p95_ms) == pytest.approx((65.0, 96.5))
    assert days["2026-11-03"].latency_p50_ms is None
    alice = {d.day: d for d in latency_by_day(ledger, since=D1, until=D4, user_id="alice")}
    assert alice["2026-11-02"].latency_p95_ms == pytest.approx(395.0)
    # a period starting mid-day only counts that part of the day
    part = {d.day: d for d in latency_by_day(ledger, since=D1 + timedelta(hours=12), until=D3, user_id=None)}
    assert part["2026-11-01"].latency_p50_ms == pytest.approx(200.0)


def test_session_cost_distribution(ledger: Engine) -> None:
    dist = dashboard(ledger, since=D1, until=D4, user_id=None).session_costs
    assert dist.sessions == 2
    assert dist.unknown_cost_sessions == 1
    assert dist.mean_usd == pytest.approx(0.4)
    assert dist.max_usd == pytest.approx(0.5)
    assert sum(b.sessions for b in dist.buckets) == 2
    assert {(b.low, b.high): b.sessions for b in dist.buckets}[(0.1, 0.5)] == 1


def test_spend_today(ledger: Engine) -> None:
    assert spend_today(ledger, "alice", D2 + timedelta(hours=12)) == pytest.approx(1.0)
    assert spend_today(ledger, "alice", D2 - timedelta(milliseconds=1)) == pytest.approx(0.3)
    assert spend_today(ledger, "bob", D2 + timedelta(hours=23)) == pytest.approx(0.5)
    assert spend_today(ledger, "nobody", D2) == 0.0


def test_session_usage_is_scoped(ledger: Engine) -> None:
    calls = session_usage(ledger, "a2")
    assert [c.call_id for c in calls] == ["c3", "c4"]
    assert calls[1].cost_usd is None
    assert calls[0].started_at == D2
    assert calls[0].started_at.tzinfo is not None
    assert session_usage(ledger, "a2", user_id="bob") == []
    assert len(session_usage(ledger, "a2", user_id="alice")) == 2


def test_what_if(ledger: Engine, tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        'version = "w"\n'
        '[[price]]\nmatch = "cheap"\nlabel = "Cheap"\nprovider = "b"\ninput_per_mtok = 1.0\noutput_per_mtok = 2.0\n'
        "cache_read_per_mtok = 0.5\ncache_write_per_mtok = 3.0\neffective_from = 2025-01-01\n"
        '[[price]]\nmatch = "dear"\nlabel = "Dear"\nprovider = "b"\ninput_per_mtok = 10.0\noutput_per_mtok = 10.0\n'
        "effective_from = 2025-01-01\n"
        '[[price]]\nmatch = "^offline"\nlabel = "Offline"\nprovider = "offline"\ninput_per_mtok = 0\n'
        "output_per_mtok = 0\neffective_from = 2020-01-01\n"
        '[[price]]\nmatch = "future"\nlabel = "Future"\nprovider = "b"\ninput_per_mtok = 1\noutput_per_mtok = 1\n'
        "effective_from = 2030-01-01\n",
        encoding="utf-8",
    )
    table = PriceTable.load(path)
    result = what_if(ledger, "alice", D1, D4, table)
    tin, tout, tcr, tcw = 6010, 601, 500, 100
    assert result == [
        ("Cheap", pytest.approx((tin * 1 + tout * 2 + tcr * 0.5 + tcw * 3) / 1e6)),
        ("Dear", pytest.approx((tin + tout) * 10 / 1e6)),
    ]
    assert [e.label for e in what_if(ledger, None, D1, D4, table, include_free=True)] == ["Offline", "Cheap", "Dear"]


def test_costs_csv(ledger: Engine) -> None:
    out = io.StringIO()
    text = costs_csv(ledger, since=date(2026, 11, 1), until=D4, out=out)
    assert out.getvalue() == text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == 5
    by_key = {(r["day"], r["user_id"], r["model_id"]): r for r in rows}
    assert by_key[("2026-11-01", "alice", LITE)]["cost_usd"] == "0.300000"
    assert by_key[("2026-11-01", "alice", LITE)]["calls"] == "2"
    assert by_key[("2026-11-02", "alice", UNKNOWN)]["cost_usd"] == ""
    assert by_key[("2026-11-02", "alice", UNKNOWN)]["unknown_cost_calls"] == "1"
    assert sum(float(r["cost_usd"] or 0) for r in rows) == pytest.approx(1.8)
    only_bob = list(csv.DictReader(io.StringIO(costs_csv(ledger, since=D1, until=D4, user_id="bob"))))
    assert {r["user_id"] for r in only_bob} == {"bob"}


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
