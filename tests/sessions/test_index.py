"""The SQL index both session stores share (``sessions/index.py``): sends, limits' window, pending questions, expiry.

:class:`SqlIndex` on SQLite and PostgreSQL, with a fixed clock, over rows written as the stores write them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from assistant import db
from assistant.sessions.base import (
    UNTITLED,
    PendingTurn,
    SendWindow,
    SessionMeta,
    SessionNotFoundError,
    SessionQuery,
    UsageRecord,
)
from assistant.sessions.index import SqlIndex
from tests.fixtures.db import insert_sessions, insert_usage

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


class Refused(Exception):
    """What a limit's ``decide`` raises."""


def _index(engine: Engine) -> SqlIndex:
    insert_sessions(
        engine,
        [
            {"id": "new", "user_id": "u1", "title": UNTITLED, "created_at": NOW, "updated_at": NOW},
            {
                "id": "named",
                "user_id": "u1",
                "title": "Board prep",
                "turn_count": 1,
                "created_at": NOW,
                "updated_at": NOW,
            },
            {"id": "idle", "user_id": "u1", "title": "Old", "updated_at": NOW - timedelta(hours=25)},
            {"id": "theirs", "user_id": "u2", "title": "Other", "updated_at": NOW - timedelta(hours=25)},
        ],
    )
    return SqlIndex(engine, expiry_hours=24, clock=lambda: NOW)


def _sends(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(db.send_log)).scalar_one())


def _begin(index: SqlIndex, session_id: str = "new", user_id: str = "u1", **kw: object) -> SessionMeta:
    kw.setdefault("decide", lambda meta, window: 0.05)
    return index.begin_turn(
        session_id,
        user_id,
        text="What is on today?",
        owner="host:1:me",
        now=NOW,
        rate_window=MINUTE,
        **kw,  # type: ignore[arg-type]
    )


def test_a_send_is_counted_kept_as_the_pending_question_and_names_a_new_session(query_engine: Engine) -> None:
    index = _index(query_engine)
    meta = _begin(index, first_title="What is on today?")
    assert meta.id == "new" and meta.title == UNTITLED  # as read: the turn's commit titles the document
    assert index.get_meta("new", "u1").title == "What is on today?"
    pending = index.pending_turn("new", "u1")
    assert pending is not None and (pending.status, pending.text, pending.turn_idx) == (
        "running",
        "What is on today?",
        0,
    )
    window = index.send_window("u1", now=NOW, rate_window=MINUTE)
    assert (window.recent_sends, window.oldest_recent_send, window.answers_running) == (1, NOW, 1)
    assert window.held_usd == pytest.approx(0.05)  # held against the budget while it runs
    _begin(index, "named", first_title="Not this")
    assert index.get_meta("named", "u1").title == "Board prep"  # a named session keeps its name


def test_a_refused_send_writes_nothing(query_engine: Engine) -> None:
    index = _index(query_engine)
    seen: list[SendWindow] = []

    def refuse(meta: SessionMeta, window: SendWindow) -> float | None:
        seen.append(window)
        raise Refused

    with pytest.raises(Refused):
        _begin(index, decide=refuse, first_title="Named anyway?")
    assert seen == [SendWindow(0.0, 0, None, 0.0, 0)]
    assert _sends(query_engine) == 0 and index.pending_turn("new", "u1") is None
    assert index.get_meta("new", "u1").title == UNTITLED


def test_a_send_to_another_users_session_is_not_found_and_not_counted(query_engine: Engine) -> None:
    index = _index(query_engine)
    with pytest.raises(SessionNotFoundError, match=r"^That session was not found\.$"):
        _begin(index, "theirs", "u1")
    with pytest.raises(SessionNotFoundError):
        _begin(index, "no-such-session", "u1")
    assert _sends(query_engine) == 0


def test_the_window_counts_this_users_priced_calls_since_midnight_utc(query_engine: Engine) -> None:
    index = _index(query_engine)
    insert_usage(
        query_engine,
        [
            {"session_id": "named", "user_id": "u1", "started_at": NOW - timedelta(hours=1), "cost_usd": 0.5},
            {"session_id": "named", "user_id": "u1", "started_at": NOW, "cost_usd": None},  # unpriced: not spend
            {
                "session_id": "idle",
                "user_id": "u1",
                "started_at": NOW - timedelta(hours=10),
                "cost_usd": 9.0,
            },  # yesterday
            {"session_id": "theirs", "user_id": "u2", "started_at": NOW, "cost_usd": 7.0},
        ],
    )
    assert index.send_window("u1", now=NOW, rate_window=MINUTE).spent_today_usd == pytest.approx(0.5)


def test_a_question_whose_process_went_silent_holds_nothing(query_engine: Engine) -> None:
    index = _index(query_engine)
    silent = NOW - timedelta(minutes=5)
    index.save_pending(PendingTurn("new", "u1", 0, "Hi", "running", "gone:1:x", silent, silent, reserved_usd=3.0))
    window = index.send_window("u1", now=NOW, rate_window=MINUTE)
    assert (window.held_usd, window.answers_running) == (0.0, 0)
    index.heartbeat_pending("new", "someone-else", NOW)  # not its owner: nothing moves
    assert index.send_window("u1", now=NOW, rate_window=MINUTE).answers_running == 0
    index.heartbeat_pending("new", "gone:1:x", NOW)
    assert index.send_window("u1", now=NOW, rate_window=MINUTE).held_usd == pytest.approx(3.0)


def test_a_question_is_pending_until_its_turn_is_stored(query_engine: Engine) -> None:
    index = _index(query_engine)
    index.save_pending(PendingTurn("named", "u1", 0, "Answered already", "failed", "o", NOW, NOW))
    assert index.pending_turn("named", "u1") is None  # turn 0 is stored (turn_count 1)
    index.save_pending(PendingTurn("named", "u1", 1, "Next one", "failed", "o", NOW, NOW, "model_error", "Boom", True))
    kept = index.pending_turn("named", None)
    assert kept is not None and (kept.text, kept.error_message, kept.retryable) == ("Next one", "Boom", True)
    assert index.pending_turn("named", "u2") is None


def test_dismissing_a_question_that_named_its_session_gives_the_title_back(query_engine: Engine) -> None:
    index = _index(query_engine)
    _begin(index, first_title="What is on today?")
    index.clear_pending("new", "u1", untitle="What is on today?")
    assert index.pending_turn("new", "u1") is None and index.get_meta("new", "u1").title == UNTITLED


def test_a_failed_turn_keeps_its_calls_and_question_unless_its_session_is_gone(query_engine: Engine) -> None:
    index = _index(query_engine)
    call = UsageRecord("c1", "new", "u1", 0, "bedrock", "m", NOW, input_tokens=5, cost_usd=None, error="Throttled")
    index.fail_turn([call], PendingTurn("new", "u1", 0, "Hi", "failed", "o", NOW, NOW, "throttled", "Busy", True))
    meta = index.get_meta("new", "u1")
    assert (meta.errors, meta.input_tokens, meta.cost_unknown) == (1, 5, True)
    assert index.pending_turn("new", "u1") is not None
    index.fail_turn([], PendingTurn("deleted", "u1", 0, "Hi", "failed", "o", NOW, NOW))
    with query_engine.connect() as conn:
        assert conn.execute(select(db.pending_turns.c.session_id)).scalars().all() == ["new"]


def _stored_states(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {row.id: row.state for row in conn.execute(select(db.sessions.c.id, db.sessions.c.state))}


def test_idle_sessions_expire_for_one_user_or_everyone(query_engine: Engine) -> None:
    index = _index(query_engine)
    assert index.expire_idle("u1") == 1
    assert _stored_states(query_engine) == {"new": "active", "named": "active", "idle": "expired", "theirs": "active"}
    assert index.expire_idle() == 1 and index.expire_idle() == 0
    assert _stored_states(query_engine)["theirs"] == "expired"
    listed, total = index.list_sessions(SessionQuery(user_id="u1", states=("active",)))
    assert total == 2 and {m.id for m in listed} == {"new", "named"}
