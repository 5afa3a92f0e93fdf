"""The rows of one page of the sessions table (``sessions/page_rows.py``), with call figures from the ledger.

On SQLite and PostgreSQL, rows written as the stores write them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from assistant.sessions.page_rows import load_rows, percentile
from tests.fixtures.db import insert_sessions, insert_usage

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def test_percentile_matches_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == pytest.approx(2.5)
    assert percentile([10.0, 1.0, 3.0], 0.95) == pytest.approx(3.0 + 7.0 * 0.9)


def test_a_percentile_of_unordered_values_interpolates_between_them() -> None:
    assert percentile([30.0, 10.0, 20.0], 0.0) == 10.0
    assert percentile([30.0, 10.0, 20.0], 1.0) == 30.0
    assert percentile([30.0, 10.0, 20.0], 0.25) == pytest.approx(15.0)


def _seed(engine: Engine) -> None:
    insert_sessions(
        engine,
        [
            {
                "id": "busy",
                "user_id": "alice",
                "user_email": "alice@example.com",
                "title": "Board prep",
                "created_at": T0 - timedelta(days=2),
                "updated_at": T0,
                "model": "bedrock:us.amazon.nova-lite-v1:0",
                "turn_count": 2,
                "cost_usd": 0.25,
                "errors": 1,
            },
            {"id": "unpriced", "user_id": "alice", "title": "Local", "cost_usd": 1.5, "cost_unknown": True},
            {
                "id": "quiet",
                "user_id": "bob",
                "title": "Nothing yet",
                "model": "offline",
                "damaged": "object missing",
                "continued_from": "busy",
            },
        ],
    )
    insert_usage(
        engine,
        [
            {
                "session_id": "busy",
                "user_id": "alice",
                "started_at": T0 - timedelta(minutes=3),
                "model_id": "us.amazon.nova-lite-v1:0",
                "latency_ms": 1000.0,
                "ttft_ms": 100.0,
                "call_id": "c1",
            },
            {
                "session_id": "busy",
                "user_id": "alice",
                "started_at": T0 - timedelta(minutes=2),
                "model_id": "us.amazon.nova-pro-v1:0",
                "latency_ms": 3000.0,
                "ttft_ms": 300.0,
                "call_id": "c2",
            },
            {
                "session_id": "busy",
                "user_id": "alice",
                "started_at": T0 - timedelta(minutes=1),
                "model_id": "us.amazon.nova-lite-v1:0",
                "latency_ms": None,
                "ttft_ms": None,
                "call_id": "c3",
                "error": "ThrottlingException",
            },
            {"session_id": "unpriced", "user_id": "alice", "started_at": T0, "model_id": "local", "cost_usd": None},
        ],
    )


def test_rows_come_in_the_order_asked_with_figures_from_their_own_calls(query_engine: Engine) -> None:
    _seed(query_engine)
    with query_engine.connect() as conn:
        rows = load_rows(conn, ["quiet", "busy", "unpriced"])
    assert [r.id for r in rows] == ["quiet", "busy", "unpriced"]
    quiet, busy, unpriced = rows
    assert (busy.calls, busy.models) == (3, ("us.amazon.nova-lite-v1:0", "us.amazon.nova-pro-v1:0"))
    assert busy.avg_latency_ms == pytest.approx(2000.0)  # the failed call measured nothing
    assert (busy.ttft_p50_ms, busy.ttft_p95_ms) == (pytest.approx(200.0), pytest.approx(290.0))
    assert (busy.cost_usd, busy.errors, busy.user_email) == (pytest.approx(0.25), 1, "alice@example.com")
    assert busy.started == T0 - timedelta(days=2) and busy.last_activity == T0 and busy.started.tzinfo is not None
    assert (unpriced.cost_usd, unpriced.known_cost_usd) == (None, pytest.approx(1.5))  # a lower bound, not a total
    assert (quiet.calls, quiet.models, quiet.avg_latency_ms, quiet.ttft_p50_ms) == (0, ("offline",), None, None)
    assert quiet.damaged and quiet.continued_from == "busy" and not busy.damaged


def test_a_session_deleted_between_the_two_reads_is_left_out(query_engine: Engine) -> None:
    _seed(query_engine)
    with query_engine.connect() as conn:
        assert [r.id for r in load_rows(conn, ["gone", "busy"])] == ["busy"]
        assert load_rows(conn, []) == []
