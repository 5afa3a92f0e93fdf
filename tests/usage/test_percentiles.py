"""Latency and TTFT percentiles per UTC day over the seeded ledger, the same on SQLite and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import usage_latency_daily
from assistant.usage import percentiles
from assistant.usage.percentiles import latency_by_day, sorted_percentile
from tests.fixtures.db import insert_usage
from tests.usage.seeded_ledger import D1, D2, D3, D4


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


def test_sorted_percentile_interpolates_like_percentile_cont() -> None:
    assert sorted_percentile([], 0.5) is None
    assert sorted_percentile([7.0], 0.95) == 7.0
    assert sorted_percentile([100.0, 200.0], 0.5) == 150.0
    assert sorted_percentile([100.0, 200.0, 300.0, 400.0, 1000.0], 0.95) == pytest.approx(880.0)


def test_closed_days_are_kept_and_recomputed_when_a_late_call_lands(ledger: Engine) -> None:
    first = {d.day: d for d in latency_by_day(ledger, since=D1, until=D4, user_id=None)}
    with ledger.connect() as conn:
        kept = conn.execute(sa.select(usage_latency_daily.c.day, usage_latency_daily.c.scope)).all()
    assert {(str(day), scope) for day, scope in kept} == {("2026-11-01", "*"), ("2026-11-02", "*"), ("2026-11-03", "*")}
    again = {d.day: d for d in latency_by_day(ledger, since=D1, until=D4, user_id=None)}
    assert again == first  # read back from usage_latency_daily
    # a late ledger row for a closed day (a turn that ran over midnight): the day is recomputed
    insert_usage(ledger, [dict(call_id="late", session_id="a1", user_id="alice", started_at=D1 + timedelta(hours=23),
                               latency_ms=10_000.0, ttft_ms=1_000.0)])  # fmt: skip
    late = {d.day: d for d in latency_by_day(ledger, since=D1, until=D4, user_id=None)}
    assert late["2026-11-01"].latency_p50_ms == pytest.approx(200.0)  # 100, 200, 10000
    assert late["2026-11-02"] == first["2026-11-02"]
    # today (and a period ending mid-day) is never kept
    today = {d.day: d for d in latency_by_day(ledger, since=D2, until=D3, user_id="alice", now=D2 + timedelta(hours=8))}
    assert today["2026-11-02"].latency_p95_ms == pytest.approx(395.0)
    with ledger.connect() as conn:
        scopes = {r[0] for r in conn.execute(sa.select(usage_latency_daily.c.scope))}
    assert "alice" not in scopes


TODAY = datetime(2026, 11, 10, tzinfo=UTC)


def test_today_latency_comes_from_its_latest_calls(query_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    now = TODAY + timedelta(hours=20)
    calls = [(TODAY + timedelta(minutes=10 * i), 100.0 * (i + 1), 10.0 * (i + 1)) for i in range(12)]
    insert_usage(
        query_engine,
        [
            dict(session_id=f"s{i}", user_id="alice", started_at=at, latency_ms=lat, ttft_ms=ttft)
            for i, (at, lat, ttft) in enumerate(calls)
        ],
    )
    monkeypatch.setattr(percentiles, "OPEN_DAY_SAMPLE", 5)
    [today] = latency_by_day(query_engine, since=TODAY, until=TODAY + timedelta(days=1), user_id=None, now=now)
    latest = sorted(lat for _at, lat, _t in calls[-5:])
    assert today.latency_p50_ms == pytest.approx(sorted_percentile(latest, 0.5))
    assert today.latency_p95_ms == pytest.approx(sorted_percentile(latest, 0.95))
    assert today.ttft_p50_ms == pytest.approx(sorted_percentile([t / 10 for t in latest], 0.5))
    # once the day has closed it is computed from every call of the day
    [closed] = latency_by_day(
        query_engine, since=TODAY, until=TODAY + timedelta(days=1), user_id=None, now=now + timedelta(days=1)
    )
    every = sorted(lat for _at, lat, _t in calls)
    assert closed.latency_p50_ms == pytest.approx(sorted_percentile(every, 0.5))
