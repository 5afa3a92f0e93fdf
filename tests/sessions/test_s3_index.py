"""The SQL index kept in step with S3 session documents (``sessions/s3_index.py``), over moto S3 on SQLite and Postgres.

A turn's index write that fails after its PUT is rebuilt from the object; ``reindex`` rebuilds
the whole index from the bucket, idempotently, while users keep chatting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import OperationalError

from assistant import db
from assistant.sessions import s3_index, s3_store
from assistant.sessions.base import SessionNotFoundError, SessionQuery, utcnow
from assistant.sessions.s3_store import S3SessionStore, object_key
from tests.fixtures.index_rows import all_search_rows, count_rows, index_row, search_rows, turn_commit
from tests.fixtures.s3 import BUCKET, make_client

MakeStore = Callable[..., S3SessionStore]


def test_index_failure_after_put_keeps_the_turn_and_next_load_repairs(
    any_engine,
    make_s3_store: MakeStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = make_s3_store(any_engine)
    meta = store.create_session("u1", model="offline")

    def index_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("UPDATE sessions", {}, Exception("database is locked"))

    # a context of its own: monkeypatch.undo() would also undo the fake AWS credentials (aws_env)
    with monkeypatch.context() as down:
        down.setattr(s3_store, "index_turn", index_down)
        down.setattr(s3_index, "upsert_from_doc", index_down)  # the immediate rebuild fails too
        after = store.commit_turn(meta.id, "u1", expected_version=0, commit=turn_commit(0, 0, session_id=meta.id))
    assert after.version == 1 and after.turn_count == 1, "the turn is saved (S3 is the source of truth)"
    assert index_row(any_engine, meta.id).version == 0, "the index lags one version"
    assert count_rows(any_engine, db.usage) == 0
    doc = make_s3_store(any_engine).load(meta.id, "u1")  # any process repairs on load
    assert len(doc.messages) == 2 and doc.meta.version == 1
    row = index_row(any_engine, meta.id)
    assert row.version == 1 and row.turn_count == 1 and row.input_tokens == 10
    assert "answer 0.0" in search_rows(any_engine, meta.id)[0]
    assert count_rows(any_engine, db.usage) == 1, "the turn's ledger rows were restored from the object"
    store.commit_turn(meta.id, "u1", expected_version=1, commit=turn_commit(1, 2, session_id=meta.id))
    assert store.get_meta(meta.id, "u1").turn_count == 2


def test_index_failure_after_put_is_rebuilt_from_the_object_at_once(
    any_engine,
    make_s3_store: MakeStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The turn's model calls are charged (budget) and the index is current without waiting for a load."""
    store = make_s3_store(any_engine)
    meta = store.create_session("u1", model="offline")

    def index_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("UPDATE sessions", {}, Exception("connection dropped"))

    monkeypatch.setattr(s3_store, "index_turn", index_down)
    after = store.commit_turn(meta.id, "u1", expected_version=0, commit=turn_commit(0, 0, session_id=meta.id))
    assert after.version == 1 and after.turn_count == 1 and after.input_tokens == 10
    row = index_row(any_engine, meta.id)
    assert row.version == 1 and row.turn_count == 1
    assert count_rows(any_engine, db.usage) == 1, "the turn's ledger rows are written with the rebuild"
    assert "answer 0.0" in search_rows(any_engine, meta.id)[0]


def test_reindex_rebuilds_a_dropped_index_idempotently(any_engine, make_s3_store: MakeStore) -> None:
    store = make_s3_store(any_engine)
    metas = []
    for user in ("alice@example.com", "google:42"):
        m = store.create_session(user, model="offline")
        for i in range(3):
            m = store.commit_turn(
                m.id, user, expected_version=i, commit=turn_commit(i, 2 * i, session_id=m.id, user=user)
            )
        metas.append(m)
    store.rename(metas[0].id, "alice@example.com", "Board prep")
    store.set_feedback(metas[1].id, "google:42", 1, -1)
    before, total = store.list_sessions(SessionQuery())
    assert total == 2
    with any_engine.connect() as conn:
        search_before = all_search_rows(conn)
    with db.write_tx(any_engine) as conn:  # drop the derived data
        conn.execute(delete(db.sessions))
        conn.execute(delete(db.usage))
    assert store.list_sessions(SessionQuery()) == ([], 0)
    fresh = make_s3_store(any_engine)
    assert fresh.reindex() == 2
    after, total = fresh.list_sessions(SessionQuery())
    assert total == 2 and after == before
    with any_engine.connect() as conn:
        assert all_search_rows(conn) == search_before
    assert count_rows(any_engine, db.usage) == 6
    assert fresh.reindex() == 2, "running it again changes nothing"
    assert fresh.list_sessions(SessionQuery())[0] == before and count_rows(any_engine, db.usage) == 6
    assert fresh.load(metas[1].id, "google:42").turns[1].feedback == -1
    # an index row whose object is gone is marked damaged; a garbage object is skipped
    make_client().delete_object(Bucket=BUCKET, Key=object_key("google:42", metas[1].id))
    make_client().put_object(Bucket=BUCKET, Key="sessions/x/not-a-session.json", Body=b"garbage")
    assert fresh.reindex() == 1
    assert fresh.get_meta(metas[1].id, None).damaged


def test_cli_style_reindex_counts_rows_restored_after_index_version_drift(any_engine, make_s3_store: MakeStore) -> None:
    store = make_s3_store(any_engine)
    m = store.create_session("u1", model="offline")
    store.commit_turn(m.id, "u1", expected_version=0, commit=turn_commit(0, 0, session_id=m.id))
    with db.write_tx(any_engine) as conn:  # an index row that drifted (e.g. restored from an old backup)
        conn.execute(update(db.sessions).values(version=0, turn_count=0, message_count=0))
        conn.execute(delete(db.session_text).where(db.session_text.c.turn_idx >= 0))
    assert store.reindex() == 1
    row = index_row(any_engine, m.id)
    assert (row.version, row.turn_count, row.message_count) == (1, 1, 2) and "question 0" in search_rows(
        any_engine, m.id
    )[0]


def test_reindex_while_a_turn_is_stored_keeps_that_turn(any_engine, make_s3_store: MakeStore) -> None:
    """The docs say reindex may run while users chat: a turn stored between reindex's read of the
    object and its index write stays listed, searchable, and the user's next send is no conflict."""
    store = make_s3_store(any_engine)
    m = store.create_session("u1", model="offline")
    store.commit_turn(m.id, "u1", expected_version=0, commit=turn_commit(0, 0, session_id=m.id))
    writer = make_s3_store(any_engine)  # the replica the user chats on
    writer.load(m.id, "u1")
    client = make_client()
    stored: list[int] = []

    def turn_stored_meanwhile(**kwargs: Any) -> None:
        if not stored:
            stored.append(
                writer.commit_turn(m.id, "u1", expected_version=1, commit=turn_commit(1, 2, session_id=m.id)).version
            )

    client.meta.events.register("after-call.s3.GetObject", turn_stored_meanwhile)
    assert make_s3_store(any_engine, client=client).reindex() == 1
    assert stored == [2]
    row = index_row(any_engine, m.id)
    assert (row.version, row.turn_count, row.message_count) == (2, 2, 4)
    assert "question 1" in search_rows(any_engine, m.id)[1]
    meta = writer.commit_turn(m.id, "u1", expected_version=None, commit=turn_commit(2, 4, session_id=m.id))
    assert (meta.version, meta.turn_count) == (3, 3)
    assert len(make_s3_store(any_engine).load(m.id, "u1").turns) == 3


def test_a_session_created_while_reindex_lists_the_bucket_is_not_marked_damaged(
    any_engine, make_s3_store: MakeStore
) -> None:
    """Created after reindex started (its clock read before reindex's) but stored after the
    listing: reindex took it for a row whose object is gone and it was listed as Damaged."""
    started_earlier = utcnow()
    creator = make_s3_store(any_engine, clock=lambda: started_earlier)
    client = make_client()
    created: list[str] = []

    def new_session_meanwhile(**kwargs: Any) -> None:
        if not created:
            created.append(creator.create_session("u1", model="offline").id)

    client.meta.events.register("after-call.s3.ListObjectsV2", new_session_meanwhile)
    assert make_s3_store(any_engine, client=client).reindex() == 0
    assert created and make_s3_store(any_engine).get_meta(created[0], "u1").damaged is None
    # an object really gone is still marked
    make_client().delete_object(Bucket=BUCKET, Key=object_key("u1", created[0]))
    make_s3_store(any_engine).reindex()
    assert make_s3_store(any_engine).get_meta(created[0], "u1").damaged == "object missing"


def test_a_session_deleted_while_reindex_reads_it_stays_deleted(any_engine, make_s3_store: MakeStore) -> None:
    """Deleted by its user between reindex's read of its object and its index write: reindex wrote
    the row back, and the deleted session came back in the list as Damaged."""
    store = make_s3_store(any_engine)
    kept = store.create_session("u1", model="offline", title="Kept")
    gone = store.create_session("u1", model="offline", title="Gone")
    client = make_client()
    keys: list[str] = []

    def user_deletes_it_meanwhile(**kwargs: Any) -> None:
        if gone.id in keys[-1]:
            make_s3_store(any_engine).delete(gone.id, "u1")

    client.meta.events.register("before-parameter-build.s3.GetObject", lambda params, **kw: keys.append(params["Key"]))
    client.meta.events.register("after-call.s3.GetObject", user_deletes_it_meanwhile)
    make_s3_store(any_engine, client=client).reindex()
    listed, total = store.list_sessions(SessionQuery(user_id="u1"))
    assert [m.title for m in listed] == ["Kept"] and total == 1
    with pytest.raises(SessionNotFoundError):
        store.get_meta(gone.id, "u1")
    assert store.get_meta(kept.id, "u1").damaged is None
