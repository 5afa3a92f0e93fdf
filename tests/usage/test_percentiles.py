"""Latency and TTFT percentiles per UTC day over the seeded ledger, the same on SQLite and Postgres."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from assistant.usage.percentiles import latency_by_day, sorted_percentile
from tests.usage.seeded_ledger import D1, D3, D4


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
