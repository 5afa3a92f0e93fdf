"""S3SessionStore over moto S3 with the index on SQLite and Postgres.

Conditional writes are moto's real behaviour: moto 5.2 checks ``If-Match`` and
``If-None-Match: *`` on PutObject and answers 412 PreconditionFailed. Requests are counted
with botocore ``before-send`` hooks; faults are injected through botocore hooks too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import OperationalError

from assistant import db
from assistant.chat import ChatService, Done, ErrorEvent
from assistant.config import load_settings
from assistant.factory import get_prices
from assistant.models.offline import OfflineModel
from assistant.sessions import s3_index, s3_store
from assistant.sessions.base import (
    SessionConflictError,
    SessionDamagedError,
    SessionNotFoundError,
    SessionQuery,
    SessionReadOnlyError,
    StorageUnavailableError,
    TurnCommit,
    TurnRecord,
    UsageRecord,
    utcnow,
)
from assistant.sessions.s3_store import S3SessionStore, object_key
from assistant.sessions.sql_store import SqlSessionStore
from tests.fixtures.s3 import BUCKET, RequestCounter, make_client

MakeStore = Callable[..., S3SessionStore]


def _commit(idx: int, first: int, n_msgs: int = 2, *, session_id: str = "", user: str = "u1") -> TurnCommit:
    now = utcnow()
    msgs = [{"role": "user", "content": [{"text": f"Question {idx}"}]}]
    msgs += [{"role": "assistant", "content": [{"text": f"Answer {idx}.{k}"}]} for k in range(n_msgs - 1)]
    turn = TurnRecord(
        idx=idx,
        user_text=f"Question {idx}",
        started_at=now,
        ended_at=now,
        status="ok",
        first_message_idx=first,
        end_message_idx=first + n_msgs,
        model="offline",
        input_tokens=10,
        output_tokens=5,
        cost_usd=0.001,
    )
    usage = [
        UsageRecord(
            call_id=f"{session_id}-{idx}-{first}",
            session_id=session_id,
            user_id=user,
            turn_idx=idx,
            provider="bedrock",
            model_id="m",
            started_at=now,
            input_tokens=10,
            output_tokens=5,
            cost_usd=0.001,
        )
    ]
    return TurnCommit(messages=msgs, turn=turn, agent_snapshot={"data": {"messages": msgs}}, usage=usage)


def _chat(store: S3SessionStore) -> ChatService:
    settings = load_settings(database_url=str(store.engine.url))
    return ChatService(
        settings,
        store,
        prices=get_prices(settings),
        model_factory=lambda n: OfflineModel(chunk_delay_s=0, first_token_delay_s=0),
    )


def _object(store: S3SessionStore, user_id: str, session_id: str) -> dict[str, Any]:
    raw = make_client().get_object(Bucket=BUCKET, Key=object_key(user_id, session_id))["Body"].read()
    data: dict[str, Any] = json.loads(raw)
    return data


def _count(engine: Engine, table: Any, **where: Any) -> int:
    stmt = select(func.count()).select_from(table)
    for name, value in where.items():
        stmt = stmt.where(table.c[name] == value)
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def _search_rows(engine: Engine, session_id: str) -> dict[int, str]:
    """The session's search index rows: ``{turn_idx: text}`` (title row at -1)."""
    c = db.session_text.c
    with engine.connect() as conn:
        return {
            int(r[0]): str(r[1]) for r in conn.execute(select(c.turn_idx, c.text).where(c.session_id == session_id))
        }


def _all_search_rows(conn: Any) -> set[tuple[str, int, str]]:
    c = db.session_text.c
    return {(str(r[0]), int(r[1]), str(r[2])) for r in conn.execute(select(c.session_id, c.turn_idx, c.text))}


def _index_row(engine: Engine, session_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(db.sessions).where(db.sessions.c.id == session_id)).one()


# --------------------------------------------------------------------------- round trip
def test_round_trip_120_turns_complete_and_index_matches_sql_store(any_engine, make_s3_store: MakeStore) -> None:
    store = make_s3_store(any_engine)
    sql = SqlSessionStore(any_engine)
    meta = store.create_session("google:123@example.com", model="offline")
    twin = sql.create_session("google:123@example.com", model="offline")
    for i in range(120):
        meta = store.commit_turn(
            meta.id, meta.user_id, expected_version=meta.version, commit=_commit(i, 2 * i, session_id=meta.id)
        )
        twin = sql.commit_turn(
            twin.id, twin.user_id, expected_version=twin.version, commit=_commit(i, 2 * i, session_id=twin.id)
        )
    fresh = make_s3_store(any_engine)  # another process: nothing cached
    doc = fresh.load(meta.id, meta.user_id)
    assert len(doc.messages) == 240
    assert [t.idx for t in doc.turns] == list(range(120))
    assert doc.messages[0]["content"][0]["text"] == "Question 0"
    assert doc.messages[-1]["content"][0]["text"] == "Answer 119.0"
    assert doc.agent_snapshot == _commit(119, 238, session_id=meta.id).agent_snapshot
    assert doc.meta.turn_count == 120 and doc.meta.message_count == 240 and doc.meta.version == 120
    assert doc.meta.cost_usd == pytest.approx(0.12)
    # the object is the documented one; the row is an index row
    body = _object(store, meta.user_id, meta.id)
    assert body["schema"] == 1 and body["meta"]["id"] == meta.id and body["meta"]["version"] == 120
    assert len(body["turns"]) == 120 and body["turns"][0]["usage"][0]["call_id"] == f"{meta.id}-0-0"
    row, twin_row = _index_row(any_engine, meta.id), _index_row(any_engine, twin.id)
    assert row.storage == "s3" and row.agent_snapshot is None and twin_row.storage == "sql"
    for col in ("message_count", "turn_count", "input_tokens", "output_tokens", "errors", "title"):
        assert getattr(row, col) == getattr(twin_row, col), col
    assert _search_rows(any_engine, meta.id) == _search_rows(any_engine, twin.id)
    assert row.cost_usd == pytest.approx(twin_row.cost_usd)
    assert _count(any_engine, db.messages, session_id=meta.id) == 0
    assert _count(any_engine, db.turns, session_id=meta.id) == 0
    assert _count(any_engine, db.usage, session_id=meta.id) == 120


def test_other_users_session_is_not_found_and_ids_are_checked(any_engine, make_s3_store: MakeStore) -> None:
    store = make_s3_store(any_engine)
    meta = store.create_session("alice@example.com", model="offline")
    assert object_key("alice@example.com", meta.id) == f"sessions/alice%40example.com/{meta.id}.json"
    assert object_key("a/../b:c", "s1") == "sessions/a%2F..%2Fb%3Ac/s1.json"
    for call in (
        lambda: store.get_meta(meta.id, "mallory"),
        lambda: store.load(meta.id, "mallory"),
        lambda: store.commit_turn(meta.id, "mallory", expected_version=0, commit=_commit(0, 0, session_id=meta.id)),
        lambda: store.rename(meta.id, "mallory", "mine"),
        lambda: store.set_feedback(meta.id, "mallory", 0, 1),
        lambda: store.delete(meta.id, "mallory"),
        lambda: store.load("../" + meta.id, "alice@example.com"),
        lambda: store.load("", "alice@example.com"),
    ):
        with pytest.raises(SessionNotFoundError):
            call()
    assert store.get_meta(meta.id, None).user_id == "alice@example.com"  # admin read
    assert store.load(meta.id, None).meta.id == meta.id
    assert store.list_sessions(SessionQuery(user_id="mallory")) == ([], 0)
    assert _object(store, "alice@example.com", meta.id)["meta"]["version"] == 0


def test_rename_state_feedback_delete(any_engine, make_s3_store: MakeStore) -> None:
    store = make_s3_store(any_engine)
    counter = RequestCounter(store.client)
    a = store.create_session("u1", model="offline")
    b = store.create_session("u1", model="offline")
    store.commit_turn(a.id, "u1", expected_version=0, commit=_commit(7, 0, session_id=a.id))
    counter.reset()
    assert store.rename(a.id, "u1", "  Board   prep\n").title == "Board prep"
    store.set_feedback(a.id, "u1", 7, 1)
    with pytest.raises(SessionNotFoundError):
        store.set_feedback(a.id, "u1", 99, 1)
    with pytest.raises(ValueError):
        store.rename(a.id, "u1", "   ")
    assert counter.counts == {"PutObject": 2}, "rename and feedback are one PUT each; refusals write nothing"
    assert store.load(a.id, "u1").turns[0].feedback == 1
    assert make_s3_store(any_engine).load(a.id, "u1").turns[0].feedback == 1  # stored, not just cached
    rows, total = store.list_sessions(SessionQuery(user_id="u1", text="ANSWER 7"))
    assert total == 1 and rows[0].id == a.id and rows[0].title == "Board prep"
    done = store.set_state(a.id, "u1", "completed")
    assert done.read_only and _object(store, "u1", a.id)["meta"]["state"] == "completed"
    with pytest.raises(SessionReadOnlyError):
        store.commit_turn(a.id, "u1", expected_version=None, commit=_commit(8, 2, session_id=a.id))
    store.delete(b.id, "u1")
    store.delete(a.id, "u1")
    with pytest.raises(SessionNotFoundError):
        store.get_meta(a.id, "u1")
    assert make_client().list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
    assert _count(any_engine, db.usage) == 1, "the money was spent: ledger rows stay"


# --------------------------------------------------------------------------- request budget
def test_one_request_per_turn_and_per_resume_with_chat_service(any_engine, make_s3_store: MakeStore) -> None:
    store = make_s3_store(any_engine)
    counter = RequestCounter(store.client)
    service = _chat(store)
    meta = service.create_session("u1")
    assert counter.counts == {"PutObject": 1}, "create is one PUT (If-None-Match: *)"
    for i, text in enumerate(["What meetings do I have this week?", "What is my budget?", "Big rocks status?"]):
        counter.reset()
        events = service.run_turn(meta.id, "u1", text)
        assert isinstance(events[-1], Done), events[-1]
        assert counter.counts == {"PutObject": 1}, f"turn {i}: {counter.counts}"
    counter.reset()
    for _ in range(5):  # the chat page reruns: load + list, nothing changed
        service.open_session(meta.id, "u1")
        service.get_session(meta.id, "u1")
        service.list_sessions("u1")
    assert counter.total == 0, "cached documents and index reads cost no S3 request"

    # a new process resumes: one GET, then one PUT per turn
    store2 = make_s3_store(any_engine)
    counter2 = RequestCounter(store2.client)
    service2 = _chat(store2)
    assert len(service2.open_session(meta.id, "u1").turns) == 3
    assert counter2.counts == {"GetObject": 1}
    counter2.reset()
    events = service2.run_turn(meta.id, "u1", "Prepare an agenda for the first one")
    assert isinstance(events[-1], Done)
    assert counter2.counts == {"PutObject": 1}
    # a resume straight from send (no page load first) is one GET + the turn's PUT
    store3 = make_s3_store(any_engine)
    counter3 = RequestCounter(store3.client)
    assert isinstance(_chat(store3).run_turn(meta.id, "u1", "What is my budget?")[-1], Done)
    assert counter3.counts == {"GetObject": 1, "PutObject": 1}
    # the first process sees the others' turns with one GET (its cached version is stale)
    counter.reset()
    assert len(service.open_session(meta.id, "u1").turns) == 5
    assert counter.counts == {"GetObject": 1}


def test_documents_kept_in_memory_are_bounded_by_their_size(any_engine, make_s3_store: MakeStore) -> None:
    """256 long sessions opened on a server held ~500 MB: the cache also stops at a byte bound."""
    writer = make_s3_store(any_engine)
    ids = []
    for i in range(6):
        meta = writer.create_session("u1", model="offline")
        commit = _commit(0, 0, session_id=meta.id)
        commit.messages[1]["content"][0]["text"] = f"Answer {i} " + "x" * 20_000  # a long answer
        writer.commit_turn(meta.id, "u1", expected_version=None, commit=commit)
        ids.append(meta.id)
    one = make_client().head_object(Bucket=BUCKET, Key=object_key("u1", ids[0]))["ContentLength"]
    store = make_s3_store(any_engine, cache_bytes=3 * one + one // 2)  # room for three
    counter = RequestCounter(store.client)
    for sid in ids:
        assert "x" * 100 in store.load(sid, "u1").messages[1]["content"][0]["text"]
    assert store.objects.cached_bytes() <= 3 * one + one // 2
    counter.reset()
    for sid in ids[-3:]:  # the three most recent are served from memory
        store.load(sid, "u1")
    assert counter.total == 0
    assert store.load(ids[0], "u1").messages[1]["content"][0]["text"].startswith("Answer 0 ")  # read again
    assert counter.counts == {"GetObject": 1}
    assert store.objects.cached_bytes() <= 3 * one + one // 2

    tiny = make_s3_store(any_engine, cache_bytes=10)  # smaller than any document: the latest is kept
    tiny.load(ids[0], "u1")
    counter = RequestCounter(tiny.client)
    tiny.load(ids[0], "u1")
    assert counter.total == 0


# --------------------------------------------------------------------------- faults
def test_failed_put_mid_turn_then_retry_stores_the_turn_once(any_engine, make_s3_store: MakeStore) -> None:
    store = make_s3_store(any_engine)
    service = _chat(store)
    meta = service.create_session("u1")
    assert isinstance(service.run_turn(meta.id, "u1", "What is my budget?")[-1], Done)
    failing = {"on": True}

    def network_down(request: Any, **kwargs: Any) -> None:
        if failing["on"]:
            raise EndpointConnectionError(endpoint_url=request.url)

    store.client.meta.events.register("before-send.s3.PutObject", network_down)
    events = service.run_turn(meta.id, "u1", "What meetings do I have this week?")
    err = events[-1]
    assert isinstance(err, ErrorEvent) and err.category == "storage" and err.retryable
    assert "try again" in err.message.lower()
    assert len(_object(store, "u1", meta.id)["turns"]) == 1, "nothing of the failed turn reached S3"
    row = _index_row(any_engine, meta.id)
    assert row.turn_count == 1 and row.version == 1, "nothing of the failed turn reached the index"
    failing["on"] = False
    events = service.run_turn(meta.id, "u1", "What meetings do I have this week?")
    assert isinstance(events[-1], Done)
    doc = make_s3_store(any_engine).load(meta.id, "u1")
    texts = [b["text"] for m in doc.messages if m["role"] == "user" for b in m["content"] if "text" in b]
    assert texts == ["What is my budget?", "What meetings do I have this week?"], "no duplicate user message"
    assert [t.idx for t in doc.turns] == [0, 1]
    assert doc.meta.message_count == len(doc.messages) and doc.meta.version == 2


def test_put_failure_raises_storage_unavailable_and_writes_nothing(any_engine, make_s3_store: MakeStore) -> None:
    store = make_s3_store(any_engine)
    meta = store.create_session("u1", model="offline")

    def throttled(**kwargs: Any) -> Any:
        # a non-None before-call answer replaces the request: S3 never sees this PUT
        from botocore.awsrequest import AWSResponse

        error = {"Code": "SlowDown", "Message": "Please reduce your request rate."}
        return AWSResponse("https://s3.amazonaws.com", 503, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 503},
        }

    store.client.meta.events.register("before-call.s3.PutObject", throttled)
    with pytest.raises(StorageUnavailableError, match="not saved"):
        store.commit_turn(meta.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=meta.id))
    assert _index_row(any_engine, meta.id).version == 0
    assert _count(any_engine, db.usage) == 0
    store.client.meta.events.unregister("before-call.s3.PutObject", throttled)
    store.commit_turn(meta.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=meta.id))
    assert len(store.load(meta.id, "u1").messages) == 2


def test_two_writers_second_gets_conflict_and_first_turn_is_intact(any_engine, make_s3_store: MakeStore) -> None:
    first = make_s3_store(any_engine)
    second = make_s3_store(any_engine)  # another process: own client, own cache
    meta = first.create_session("u1", model="offline")
    assert second.load(meta.id, "u1").meta.version == 0

    # 1) the index already shows the other write: refused before any S3 request
    first.commit_turn(meta.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=meta.id))
    counter = RequestCounter(second.client)
    with pytest.raises(SessionConflictError, match="changed elsewhere"):
        second.commit_turn(meta.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=meta.id + "x"))
    assert counter.total == 0

    # 2) a true race: both pass the index check, the other PUT lands first -> S3 answers 412
    second.load(meta.id, "u1")  # both hold version 1 and its ETag
    raced = {"done": False}

    def other_tab_commits_first(**kwargs: Any) -> None:
        if not raced["done"]:
            raced["done"] = True
            first.commit_turn(meta.id, "u1", expected_version=1, commit=_commit(1, 2, session_id=meta.id))

    second.client.meta.events.register("before-call.s3.PutObject", other_tab_commits_first)
    counter.reset()
    with pytest.raises(SessionConflictError, match="Reload it to continue"):
        second.commit_turn(meta.id, "u1", expected_version=1, commit=_commit(1, 2, session_id=meta.id + "x"))
    assert counter.counts["PutObject"] == 1, "the losing PUT was sent and refused by S3 (If-Match)"
    body = _object(first, "u1", meta.id)
    assert [t["usage"][0]["call_id"] for t in body["turns"]] == [f"{meta.id}-0-0", f"{meta.id}-1-2"]
    assert body["meta"]["version"] == 2
    assert _index_row(any_engine, meta.id).version == 2
    assert _count(any_engine, db.usage) == 2, "the refused writer added no ledger rows"
    # the loser reloads (one GET: its cached copy was dropped) and can continue
    counter.reset()
    doc = second.load(meta.id, "u1")
    assert counter.counts == {"GetObject": 1} and len(doc.turns) == 2
    second.commit_turn(meta.id, "u1", expected_version=2, commit=_commit(2, 4, session_id=meta.id))
    assert first.load(meta.id, "u1").meta.turn_count == 3


def test_create_never_overwrites_an_existing_object(any_engine, make_s3_store: MakeStore) -> None:
    first = make_s3_store(any_engine)
    meta = first.create_session("u1", model="offline")
    first.commit_turn(meta.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=meta.id))
    with pytest.raises(SessionConflictError):
        make_s3_store(any_engine).create_session("u1", model="offline", session_id=meta.id)
    assert len(first.load(meta.id, "u1").turns) == 1


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
        after = store.commit_turn(meta.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=meta.id))
    assert after.version == 1 and after.turn_count == 1, "the turn is saved (S3 is the source of truth)"
    assert _index_row(any_engine, meta.id).version == 0, "the index lags one version"
    assert _count(any_engine, db.usage) == 0
    doc = make_s3_store(any_engine).load(meta.id, "u1")  # any process repairs on load
    assert len(doc.messages) == 2 and doc.meta.version == 1
    row = _index_row(any_engine, meta.id)
    assert row.version == 1 and row.turn_count == 1 and row.input_tokens == 10
    assert "answer 0.0" in _search_rows(any_engine, meta.id)[0]
    assert _count(any_engine, db.usage) == 1, "the turn's ledger rows were restored from the object"
    store.commit_turn(meta.id, "u1", expected_version=1, commit=_commit(1, 2, session_id=meta.id))
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
    after = store.commit_turn(meta.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=meta.id))
    assert after.version == 1 and after.turn_count == 1 and after.input_tokens == 10
    row = _index_row(any_engine, meta.id)
    assert row.version == 1 and row.turn_count == 1
    assert _count(any_engine, db.usage) == 1, "the turn's ledger rows are written with the rebuild"
    assert "answer 0.0" in _search_rows(any_engine, meta.id)[0]


def test_retried_put_whose_first_attempt_landed_is_not_a_conflict(any_engine, make_s3_store: MakeStore) -> None:
    from botocore.exceptions import ReadTimeoutError

    store = make_s3_store(any_engine, max_attempts=3)
    meta = store.create_session("u1", model="offline")
    raw = make_client()
    lost = {"done": False}
    sent: dict[str, Any] = {}

    def remember_params(params: dict[str, Any], **kwargs: Any) -> None:
        sent.update(params)

    def response_lost(request: Any, **kwargs: Any) -> None:
        # the first attempt reaches S3, its response does not reach us; botocore retries
        if not lost["done"]:
            lost["done"] = True
            raw.put_object(**{k: sent[k] for k in ("Bucket", "Key", "Body", "IfMatch", "Metadata")})
            raise ReadTimeoutError(endpoint_url=request.url)

    store.client.meta.events.register("before-parameter-build.s3.PutObject", remember_params)
    store.client.meta.events.register("before-send.s3.PutObject", response_lost)
    after = store.commit_turn(meta.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=meta.id))
    assert after.version == 1
    assert len(make_s3_store(any_engine).load(meta.id, "u1").turns) == 1
    store.commit_turn(meta.id, "u1", expected_version=1, commit=_commit(1, 2, session_id=meta.id))


# --------------------------------------------------------------------------- damage and reindex
def test_damaged_or_missing_object_is_reported_for_that_session_only(any_engine, make_s3_store: MakeStore) -> None:
    store = make_s3_store(any_engine)
    good = store.create_session("u1", model="offline", title="good")
    bad = store.create_session("u1", model="offline", title="bad")
    gone = store.create_session("u1", model="offline", title="gone")
    for m in (good, bad, gone):
        store.commit_turn(m.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=m.id))
    raw = make_client()
    raw.put_object(Bucket=BUCKET, Key=object_key("u1", bad.id), Body=b"\x00{not json")
    raw.delete_object(Bucket=BUCKET, Key=object_key("u1", gone.id))
    fresh = make_s3_store(any_engine)
    with pytest.raises(SessionDamagedError, match="damaged"):
        fresh.load(bad.id, "u1")
    with pytest.raises(SessionDamagedError, match="missing"):
        fresh.load(gone.id, "u1")
    assert len(fresh.load(good.id, "u1").messages) == 2
    rows, total = fresh.list_sessions(SessionQuery(user_id="u1"))
    assert total == 3 and {r.title for r in rows} == {"good", "bad", "gone"}
    assert {r.title for r in rows if r.damaged} == {"bad", "gone"}
    # a chat turn on the damaged session is refused visibly, others work
    service = _chat(fresh)
    with pytest.raises(SessionDamagedError):
        service.run_turn(bad.id, "u1", "What is my budget?")
    other = service.create_session("u1")
    assert isinstance(service.run_turn(other.id, "u1", "What is my budget?")[-1], Done)


def test_reindex_rebuilds_a_dropped_index_idempotently(any_engine, make_s3_store: MakeStore) -> None:
    store = make_s3_store(any_engine)
    metas = []
    for user in ("alice@example.com", "google:42"):
        m = store.create_session(user, model="offline")
        for i in range(3):
            m = store.commit_turn(m.id, user, expected_version=i, commit=_commit(i, 2 * i, session_id=m.id, user=user))
        metas.append(m)
    store.rename(metas[0].id, "alice@example.com", "Board prep")
    store.set_feedback(metas[1].id, "google:42", 1, -1)
    before, total = store.list_sessions(SessionQuery())
    assert total == 2
    with any_engine.connect() as conn:
        search_before = _all_search_rows(conn)
    with db.write_tx(any_engine) as conn:  # drop the derived data
        conn.execute(delete(db.sessions))
        conn.execute(delete(db.usage))
    assert store.list_sessions(SessionQuery()) == ([], 0)
    fresh = make_s3_store(any_engine)
    assert fresh.reindex() == 2
    after, total = fresh.list_sessions(SessionQuery())
    assert total == 2 and after == before
    with any_engine.connect() as conn:
        assert _all_search_rows(conn) == search_before
    assert _count(any_engine, db.usage) == 6
    assert fresh.reindex() == 2, "running it again changes nothing"
    assert fresh.list_sessions(SessionQuery())[0] == before and _count(any_engine, db.usage) == 6
    assert fresh.load(metas[1].id, "google:42").turns[1].feedback == -1
    # an index row whose object is gone is marked damaged; a garbage object is skipped
    make_client().delete_object(Bucket=BUCKET, Key=object_key("google:42", metas[1].id))
    make_client().put_object(Bucket=BUCKET, Key="sessions/x/not-a-session.json", Body=b"garbage")
    assert fresh.reindex() == 1
    assert fresh.get_meta(metas[1].id, None).damaged


def test_cli_style_reindex_counts_rows_restored_after_index_version_drift(any_engine, make_s3_store: MakeStore) -> None:
    store = make_s3_store(any_engine)
    m = store.create_session("u1", model="offline")
    store.commit_turn(m.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=m.id))
    with db.write_tx(any_engine) as conn:  # an index row that drifted (e.g. restored from an old backup)
        conn.execute(update(db.sessions).values(version=0, turn_count=0, message_count=0))
        conn.execute(delete(db.session_text).where(db.session_text.c.turn_idx >= 0))
    assert store.reindex() == 1
    row = _index_row(any_engine, m.id)
    assert (row.version, row.turn_count, row.message_count) == (1, 1, 2) and "question 0" in _search_rows(
        any_engine, m.id
    )[0]


def test_reindex_while_a_turn_is_stored_keeps_that_turn(any_engine, make_s3_store: MakeStore) -> None:
    """The docs say reindex may run while users chat: a turn stored between reindex's read of the
    object and its index write stays listed, searchable, and the user's next send is no conflict."""
    store = make_s3_store(any_engine)
    m = store.create_session("u1", model="offline")
    store.commit_turn(m.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=m.id))
    writer = make_s3_store(any_engine)  # the replica the user chats on
    writer.load(m.id, "u1")
    client = make_client()
    stored: list[int] = []

    def turn_stored_meanwhile(**kwargs: Any) -> None:
        if not stored:
            stored.append(
                writer.commit_turn(m.id, "u1", expected_version=1, commit=_commit(1, 2, session_id=m.id)).version
            )

    client.meta.events.register("after-call.s3.GetObject", turn_stored_meanwhile)
    assert make_s3_store(any_engine, client=client).reindex() == 1
    assert stored == [2]
    row = _index_row(any_engine, m.id)
    assert (row.version, row.turn_count, row.message_count) == (2, 2, 4)
    assert "question 1" in _search_rows(any_engine, m.id)[1]
    meta = writer.commit_turn(m.id, "u1", expected_version=None, commit=_commit(2, 4, session_id=m.id))
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


def test_delete_refused_by_the_bucket_policy_says_so_and_keeps_the_session(
    any_engine, make_s3_store: MakeStore
) -> None:
    """The role DEPLOYMENT.md granted had no s3:DeleteObject: every Delete read "Session storage is
    unavailable ... Try again in a moment", which never helps."""
    store = make_s3_store(any_engine)
    meta = store.create_session("u1", model="offline")
    store.commit_turn(meta.id, "u1", expected_version=0, commit=_commit(0, 0, session_id=meta.id))

    def access_denied(**kwargs: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        error = {"Code": "AccessDenied", "Message": "Access Denied"}
        return AWSResponse("https://s3.amazonaws.com", 403, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }

    store.client.meta.events.register("before-call.s3.DeleteObject", access_denied)
    with pytest.raises(StorageUnavailableError) as refused:
        store.delete(meta.id, "u1")
    assert str(refused.value) == (
        "This deployment's storage does not allow deleting sessions, so nothing was deleted. "
        "Ask your administrator to allow it."
    )
    assert len(make_s3_store(any_engine).load(meta.id, "u1").turns) == 1
    store.client.meta.events.unregister("before-call.s3.DeleteObject", access_denied)
    store.delete(meta.id, "u1")
    with pytest.raises(SessionNotFoundError):
        store.get_meta(meta.id, "u1")


def test_the_documented_iam_policy_grants_every_s3_action_the_store_uses() -> None:
    """DEPLOYMENT.md's least-privilege role left out s3:DeleteObject, which Delete needs."""
    from pathlib import Path

    policy_text = (Path(__file__).resolve().parents[2] / "docs" / "DEPLOYMENT.md").read_text(encoding="utf-8")
    policy = json.loads(policy_text.split("The role needs exactly:\n\n```json\n", 1)[1].split("```", 1)[0])
    objects = next(s for s in policy["Statement"] if s["Sid"] == "SessionObjects")
    assert set(objects["Action"]) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}


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


def test_a_read_refused_by_the_bucket_policy_says_so_not_try_again(any_engine, make_s3_store: MakeStore) -> None:
    """A role without s3:ListBucket (DEPLOYMENT.md allows dropping it from the web role) gets 403,
    not 404, for a missing object; a KMS key the role may not use gets 403 too. Both read
    "Session storage is unavailable ... Try again in a moment", which never helps."""
    store = make_s3_store(any_engine)
    meta = store.create_session("u1", model="offline")

    def access_denied(**kwargs: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        error = {"Code": "AccessDenied", "Message": "Access Denied"}
        return AWSResponse("https://s3.amazonaws.com", 403, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }

    reader = make_s3_store(any_engine)  # another process: nothing cached
    reader.client.meta.events.register("before-call.s3.GetObject", access_denied)
    with pytest.raises(StorageUnavailableError) as refused:
        reader.load(meta.id, "u1")
    assert str(refused.value) == (
        "Storage refused to read this session (access denied), so it cannot be opened; its stored "
        "conversation may be missing. Other sessions are unaffected; ask your administrator."
    )
    assert reader.get_meta(meta.id, "u1").damaged is None, "not marked: it may be readable again"
    reader.client.meta.events.unregister("before-call.s3.GetObject", access_denied)
    assert reader.load(meta.id, "u1").meta.id == meta.id
