"""SqlSessionStore on SQLite and Postgres: transcripts, conflicts, concurrency, expiry, damage."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from assistant import db
from assistant.sessions.base import (
    SessionConflictError,
    SessionDamagedError,
    SessionNotFoundError,
    SessionQuery,
    SessionReadOnlyError,
    TurnCommit,
    UsageRecord,
    utcnow,
)
from assistant.sessions.sql_store import SqlSessionStore
from tests.fixtures.index_rows import turn_commit as _commit


def test_transcript_kept_in_full_beyond_any_window(any_engine) -> None:
    store = SqlSessionStore(any_engine)
    meta = store.create_session("u1", model="offline")
    version = meta.version
    for i in range(120):
        meta = store.commit_turn(meta.id, "u1", expected_version=version, commit=_commit(i, 2 * i, session_id=meta.id))
        version = meta.version
    doc = store.load(meta.id, "u1")
    assert len(doc.messages) == 240
    assert [t.idx for t in doc.turns] == list(range(120))
    assert doc.messages[0]["content"][0]["text"] == "Question 0"
    assert doc.messages[-1]["content"][0]["text"] == "Answer 119.0"
    assert doc.meta.turn_count == 120 and doc.meta.message_count == 240
    assert doc.meta.cost_usd == pytest.approx(0.12)


def test_other_users_session_is_not_found(any_engine) -> None:
    store = SqlSessionStore(any_engine)
    meta = store.create_session("alice", model="offline")
    with pytest.raises(SessionNotFoundError):
        store.get_meta(meta.id, "mallory")
    with pytest.raises(SessionNotFoundError):
        store.load(meta.id, "mallory")
    with pytest.raises(SessionNotFoundError):
        store.commit_turn(meta.id, "mallory", expected_version=0, commit=_commit(0, 0, session_id=meta.id))
    with pytest.raises(SessionNotFoundError):
        store.delete(meta.id, "mallory")
    assert store.get_meta(meta.id, None).user_id == "alice"  # admin read
    assert store.list_sessions(SessionQuery(user_id="mallory")) == ([], 0)


def test_second_writer_with_stale_version_is_refused_and_nothing_overwritten(any_engine) -> None:
    store = SqlSessionStore(any_engine)
    meta = store.create_session("u1", model="offline")
    store.commit_turn(meta.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=meta.id))
    with pytest.raises(SessionConflictError):
        store.commit_turn(meta.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=meta.id + "x"))
    doc = store.load(meta.id, "u1")
    assert len(doc.messages) == 2 and len(doc.turns) == 1
    with any_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.usage)).scalar_one() == 1


@pytest.mark.timeout(240)
def test_concurrent_appends_never_duplicate_or_leave_gaps(any_engine) -> None:
    store = SqlSessionStore(any_engine)
    meta = store.create_session("u1", model="offline")
    errors: list[BaseException] = []
    counter = iter(range(10_000))
    lock = threading.Lock()

    def writer() -> None:
        for _ in range(40):
            with lock:
                n = next(counter)
            try:
                store.commit_turn(
                    meta.id, "u1", expected_version=None, commit=_commit(n, 0, 1, session_id=f"{meta.id}-{n}")
                )
            except BaseException as e:
                errors.append(e)

    threads = [threading.Thread(target=writer) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with any_engine.connect() as conn:
        idxs = (
            conn.execute(
                select(db.messages.c.idx).where(db.messages.c.session_id == meta.id).order_by(db.messages.c.idx)
            )
            .scalars()
            .all()
        )
    assert idxs == list(range(640)), "duplicates or gaps in message indexes"
    assert store.get_meta(meta.id, "u1").message_count == 640


def test_idle_sessions_expire_and_become_read_only(any_engine) -> None:
    now = [utcnow()]
    store = SqlSessionStore(any_engine, expiry_hours=24, clock=lambda: now[0])
    meta = store.create_session("u1", model="offline")
    now[0] += timedelta(hours=25)
    assert store.get_meta(meta.id, "u1").state == "expired"
    page, total = store.list_sessions(SessionQuery(user_id="u1", states=("expired",)))
    assert total == 1 and page[0].state == "expired"
    with pytest.raises(SessionReadOnlyError):
        store.commit_turn(meta.id, "u1", expected_version=None, commit=_commit(0, 0, session_id=meta.id))
    assert store.load(meta.id, "u1").meta.state == "expired"  # still browsable


def test_damaged_session_is_reported_and_others_still_open(any_engine) -> None:
    store = SqlSessionStore(any_engine)
    good = store.create_session("u1", model="offline", title="good")
    bad = store.create_session("u1", model="offline", title="bad")
    for m in (good, bad):
        store.commit_turn(m.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=m.id))
    with db.write_tx(any_engine) as conn:
        conn.execute(update(db.messages).where(db.messages.c.session_id == bad.id).values(content="{not json"))
    with pytest.raises(SessionDamagedError, match="damaged"):
        store.load(bad.id, "u1")
    assert len(store.load(good.id, "u1").messages) == 2
    rows, total = store.list_sessions(SessionQuery(user_id="u1"))
    assert total == 2 and {r.title for r in rows} == {"good", "bad"}


def test_rename_delete_feedback_and_search(any_engine) -> None:
    store = SqlSessionStore(any_engine)
    a = store.create_session("u1", model="offline")
    b = store.create_session("u1", model="offline")
    store.commit_turn(a.id, "u1", expected_version=0, commit=_commit(7, 0, session_id=a.id))
    store.rename(a.id, "u1", "  Board   prep\n")
    assert store.get_meta(a.id, "u1").title == "Board prep"
    with pytest.raises(ValueError):
        store.rename(a.id, "u1", "   ")
    store.set_feedback(a.id, "u1", 7, 1)
    assert store.load(a.id, "u1").turns[0].feedback == 1
    rows, total = store.list_sessions(SessionQuery(user_id="u1", text="ANSWER 7"))
    assert total == 1 and rows[0].id == a.id
    rows, total = store.list_sessions(SessionQuery(user_id="u1", text="100%_"))
    assert total == 0
    # a search box past its limit (a client can send more than the box's max_chars): no database error
    rows, total = store.list_sessions(SessionQuery(user_id="u1", text="answer 7" + " x" * 40_000))
    assert total == 0
    rows, total = store.list_sessions(SessionQuery(text="%" * 60_000))
    assert total == 0
    store.delete(b.id, "u1")
    with pytest.raises(SessionNotFoundError):
        store.get_meta(b.id, "u1")
    store.delete(a.id, "u1")
    with any_engine.connect() as conn:  # the money was spent: ledger rows stay
        assert conn.execute(select(func.count()).select_from(db.usage)).scalar_one() == 1


def test_commit_guard_names_the_cause_and_writes_nothing(any_engine) -> None:
    store = SqlSessionStore(any_engine)
    meta = store.create_session("u1", model="offline")
    first = _commit(0, 0, session_id=meta.id)
    first = TurnCommit(first.messages, first.turn, first.agent_snapshot, first.usage, title="Board prep")
    meta = store.commit_turn(meta.id, "u1", expected_version=0, commit=first)
    assert (meta.version, meta.message_count, meta.turn_count, meta.title) == (1, 2, 1, "Board prep")
    assert meta.input_tokens == 10 and meta.cost_usd == pytest.approx(0.001) and not meta.cost_unknown
    with pytest.raises(SessionConflictError):
        store.commit_turn(meta.id, "u1", expected_version=0, commit=_commit(1, 2, session_id=meta.id))
    with pytest.raises(SessionNotFoundError):
        store.commit_turn(meta.id, "u2", expected_version=1, commit=_commit(1, 2, session_id=meta.id))
    unknown = _commit(1, 2, session_id=meta.id)
    unknown.usage[0] = UsageRecord(**{**unknown.usage[0].__dict__, "cost_usd": None, "error": "boom"})
    meta = store.commit_turn(meta.id, "u1", expected_version=None, commit=unknown)
    assert (meta.version, meta.message_count, meta.turn_count, meta.title) == (2, 4, 2, "Board prep")
    assert meta.cost_unknown and meta.errors == 1 and meta.cost_usd == pytest.approx(0.001)
    closed = store.set_state(meta.id, "u1", "completed")
    with pytest.raises(SessionReadOnlyError):
        store.commit_turn(meta.id, "u1", expected_version=closed.version, commit=_commit(2, 4, session_id=meta.id))
    doc = store.load(meta.id, "u1")
    assert [m["content"][0]["text"] for m in doc.messages] == ["Question 0", "Answer 0.0", "Question 1", "Answer 1.0"]
    assert doc.meta.version == closed.version and doc.agent_snapshot == unknown.agent_snapshot
    _, total = store.list_sessions(SessionQuery(user_id="u1", text="board prep"))
    assert total == 1


def test_begin_turn_reads_row_and_window_at_once_and_forgets_old_sends(any_engine) -> None:
    from assistant.sessions.base import SendWindow

    now = utcnow()
    store = SqlSessionStore(any_engine)
    meta = store.create_session("u1", model="offline")
    store.commit_turn(meta.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=meta.id))
    with db.write_tx(any_engine) as conn:
        conn.execute(
            db.send_log.insert(),
            [
                {"user_id": "u1", "sent_at": now - timedelta(hours=3)},
                {"user_id": "u1", "sent_at": now - timedelta(seconds=5)},
                {"user_id": "u2", "sent_at": now - timedelta(hours=3)},
            ],
        )
    seen: list[tuple[int, SendWindow]] = []
    for _ in range(2):
        got = store.begin_turn(
            meta.id,
            "u1",
            text="hello",
            owner="me",
            now=now,
            rate_window=timedelta(minutes=1),
            decide=lambda m, w: seen.append((m.turn_count, w)),
        )
        assert got.turn_count == 1 and got.version == 1
    assert [s[1].recent_sends for s in seen] == [1, 2]
    assert seen[0][1].spent_today_usd == pytest.approx(0.001)
    assert seen[0][1].oldest_recent_send is not None
    assert abs((seen[0][1].oldest_recent_send - (now - timedelta(seconds=5))).total_seconds()) < 1e-3
    with any_engine.connect() as conn:
        kept = conn.execute(select(db.send_log.c.user_id, func.count()).group_by(db.send_log.c.user_id)).all()
        pending = conn.execute(select(func.count()).select_from(db.pending_turns)).scalar_one()
    assert dict(kept) == {"u1": 3, "u2": 1}  # the user's send older than an hour is forgotten, no one else's
    assert pending == 1 and store.pending_turn(meta.id, "u1").text == "hello"
    with pytest.raises(SessionNotFoundError):
        store.begin_turn(
            meta.id, "u2", text="x", owner="me", now=now, rate_window=timedelta(minutes=1), decide=lambda m, w: None
        )


def test_commit_is_local_on_sqlite_only(any_engine) -> None:
    assert SqlSessionStore(any_engine).commit_is_local == db.is_sqlite(any_engine)


def test_reindex_waits_for_a_turn_being_stored(any_engine) -> None:
    """``sessions reindex`` while users chat keeps the search row of a turn stored meanwhile.

    Reindex rewrites a session's search rows from its transcript. On Postgres it read the
    transcript without the session row's lock a turn's commit holds, so a turn committed
    between that read and its rewrite lost its search row (the session no longer found by
    that answer until the next reindex). It now locks the row first and waits.
    """
    store = SqlSessionStore(any_engine)
    sid = store.create_session("u1", model="offline", title="t").id
    store.commit_turn(sid, "u1", expected_version=0, commit=_commit(0, 0, session_id=sid))
    done = threading.Event()
    worker = threading.Thread(target=lambda: (store.reindex(), done.set()))
    with db.write_tx(any_engine) as conn:  # as commit_turn holds it
        conn.execute(select(db.sessions.c.id).where(db.sessions.c.id == sid).with_for_update())
        worker.start()
        assert not done.wait(0.5), "reindex rewrote the rows of a session a commit was writing"
    worker.join(10)
    assert done.is_set()
    found = store.list_sessions(SessionQuery(user_id="u1", text="answer 0.0"))[0]
    assert [m.id for m in found] == [sid]
