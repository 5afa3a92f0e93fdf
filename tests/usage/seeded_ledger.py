"""A seeded usage ledger with known sums, shared by the usage query tests (fixture ``ledger`` in conftest.py).

Eight calls over three UTC days (plus one just before and one just after the period
``[D1, D4)``), three users, a priced, an unknown-priced and the offline model, and the
sessions they belong to.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from tests.fixtures.db import insert_sessions, insert_usage

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


def seed(engine: Engine) -> Engine:
    """Write :data:`CALLS` (as Bedrock calls) and :data:`SESSIONS` to a migrated database."""
    insert_usage(engine, [{"provider": "bedrock", **c} for c in CALLS])
    insert_sessions(engine, SESSIONS)
    return engine
