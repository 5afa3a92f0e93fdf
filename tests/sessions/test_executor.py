"""The turn's statement executors: SQLite's DBAPI path stores and reads exactly what SQLAlchemy does."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from assistant import db
from assistant.sessions.base import PendingTurn, UsageRecord
from assistant.sessions.executor import RawExecutor, RawStatement, SaExecutor, turn_tx
from assistant.sessions.index import SqlIndex
from assistant.sessions.rows import _INSERT_SEND, _INSERT_USAGE, _SELECT_USER_ROW, put_pending, usage_row
from assistant.sessions.sql_store import SqlSessionStore

WHEN = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _usage(call_id: str, session_id: str, *, cost: float | None) -> UsageRecord:
    return UsageRecord(
        call_id=call_id,
        session_id=session_id,
        user_id="u1",
        turn_idx=0,
        provider="bedrock",
        model_id="m",
        started_at=WHEN,
        input_tokens=12,
        output_tokens=7,
        latency_ms=3.5,
        error=None,
        cost_usd=cost,
    )


def _write(ex: Any, engine: Engine, session_id: str, suffix: str) -> None:
    ex.execute(_INSERT_SEND, {"user_id": "u-" + suffix, "sent_at": WHEN})
    ex.executemany(_INSERT_USAGE, [usage_row(_usage("a-" + suffix, session_id, cost=0.25))])
    ex.executemany(_INSERT_USAGE, [usage_row(_usage("b-" + suffix, session_id, cost=None))])
    pending = PendingTurn(session_id, "u1", 0, "question", "failed", "me", WHEN, WHEN, "storage", "no", False)
    put_pending(ex, engine.dialect.name, pending)


def _stored(path: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


USAGE = (
    "SELECT user_id, turn_idx, provider, model_id, started_at, input_tokens, output_tokens, latency_ms, error,"
    " cost_usd, price_version FROM usage WHERE session_id = ? ORDER BY call_id"
)
PENDING = (
    "SELECT user_id, turn_idx, text, status, owner, started_at, heartbeat_at, error_category, error_message,"
    " retryable FROM pending_turns WHERE session_id = ?"
)


def test_sqlite_fast_path_stores_the_values_sqlalchemy_stores(sqlite_engine: Engine) -> None:
    store = SqlSessionStore(sqlite_engine)
    raw_sid = store.create_session("u1", model="offline").id
    sa_sid = store.create_session("u1", model="offline").id
    with turn_tx(sqlite_engine) as ex:
        assert isinstance(ex, RawExecutor), "SQLite takes the DBAPI path"
        _write(ex, sqlite_engine, raw_sid, "raw")
    with db.write_tx(sqlite_engine) as conn:
        _write(SaExecutor(conn), sqlite_engine, sa_sid, "sa")
    path = str(sqlite_engine.url.database)
    send = "SELECT sent_at FROM send_log WHERE user_id = ?"
    assert _stored(path, send, "u-raw") == _stored(path, send, "u-sa") == [("2026-03-01 09:30:15.123456",)]
    raw_usage = _stored(path, USAGE, raw_sid)
    assert raw_usage == _stored(path, USAGE, sa_sid) and len(raw_usage) == 2
    assert raw_usage[1][-2] is None, "an unknown cost stays NULL"
    raw_pending = _stored(path, PENDING, raw_sid)
    assert raw_pending == _stored(path, PENDING, sa_sid) and raw_pending[0][-1] == 0, "booleans, datetimes alike"


def test_rows_read_on_the_fast_path_match_sqlalchemys(sqlite_engine: Engine) -> None:
    store = SqlSessionStore(sqlite_engine)
    meta = store.create_session("u1", model="offline", user_email="a@example.com")
    params = {"sid": meta.id, "uid": "u1"}
    with turn_tx(sqlite_engine) as ex:
        raw = ex.first(_SELECT_USER_ROW, params)
        missing = ex.first(_SELECT_USER_ROW, {"sid": "nope", "uid": "u1"})
    with sqlite_engine.connect() as conn:
        expected = conn.execute(_SELECT_USER_ROW, params).one()
    assert missing is None
    assert {k: getattr(raw, k) for k in expected._mapping} == dict(expected._mapping)
    assert isinstance(raw.created_at, datetime) and raw.cost_unknown in (0, False)


def test_a_failure_inside_the_transaction_writes_nothing(sqlite_engine: Engine) -> None:
    with pytest.raises(RuntimeError), turn_tx(sqlite_engine) as ex:
        ex.execute(_INSERT_SEND, {"user_id": "u-rolled-back", "sent_at": WHEN})
        raise RuntimeError("the limits refused")
    with turn_tx(sqlite_engine) as ex:  # the pooled connection is not left inside a transaction
        ex.execute(_INSERT_SEND, {"user_id": "u-kept", "sent_at": WHEN + timedelta(seconds=1)})
    with sqlite_engine.connect() as conn:
        users = conn.execute(select(db.send_log.c.user_id)).scalars().all()
    assert "u-rolled-back" not in users and "u-kept" in users


def test_a_lost_race_on_the_fast_path_is_a_conflict(sqlite_engine: Engine) -> None:
    from assistant.sessions.base import SessionConflictError

    store = SqlSessionStore(sqlite_engine)
    sid = store.create_session("u1", model="offline").id
    with db.write_tx(sqlite_engine) as conn:
        conn.execute(insert(db.usage).values(**usage_row(_usage("dup", sid, cost=0.1))))
    index = SqlIndex(sqlite_engine)
    with pytest.raises(SessionConflictError), index.turn_tx() as ex:
        ex.executemany(_INSERT_USAGE, [usage_row(_usage("dup", sid, cost=0.1))])


def test_a_statement_needing_python_defaults_is_refused(sqlite_engine: Engine) -> None:
    with pytest.raises(ValueError, match="Python-side column defaults"):
        RawStatement(insert(db.sessions), sqlite_engine.dialect, ["id", "user_id"])
