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

from assistant import db
from assistant.chat import ChatService, Done, ErrorEvent
from assistant.config import load_settings
from assistant.factory import get_prices
from assistant.models.offline import OfflineModel
from assistant.sessions.base import (
    SessionConflictError,
    SessionDamagedError,
    SessionNotFoundError,
    SessionQuery,
    SessionReadOnlyError,
    StorageUnavailableError,
)
from assistant.sessions.s3_store import S3SessionStore, object_key
from assistant.sessions.sql_store import SqlSessionStore
from tests.fixtures.index_rows import count_rows, index_row, search_rows, turn_commit
from tests.fixtures.s3 import BUCKET, RequestCounter, make_client

MakeStore = Callable[..., S3SessionStore]


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


# --------------------------------------------------------------------------- round trip
def test_round_trip_120_turns_complete_and_index_matches_sql_store(any_engine, make_s3_store: MakeStore) -> None:
    store = make_s3_store(any_engine)
    sql = SqlSessionStore(any_engine)
    meta = store.create_session("google:123@example.com", model="offline")
    twin = sql.create_session("google:123@example.com", model="offline")
    for i in range(120):
        meta = store.commit_turn(
            meta.id, meta.user_id, expected_version=meta.version, commit=turn_commit(i, 2 * i, session_id=meta.id)
        )
        twin = sql.commit_turn(
            twin.id, twin.user_id, expected_version=twin.version, commit=turn_commit(i, 2 * i, session_id=twin.id)
        )
    fresh = make_s3_store(any_engine)  # another process: nothing cached
    doc = fresh.load(meta.id, meta.user_id)
    assert len(doc.messages) == 240
    assert [t.idx for t in doc.turns] == list(range(120))
    assert doc.messages[0]["content"][0]["text"] == "Question 0"
    assert doc.messages[-1]["content"][0]["text"] == "Answer 119.0"
    assert doc.agent_snapshot == turn_commit(119, 238, session_id=meta.id).agent_snapshot
    assert doc.meta.turn_count == 120 and doc.meta.message_count == 240 and doc.meta.version == 120
    assert doc.meta.cost_usd == pytest.approx(0.12)
    # the object is the documented one; the row is an index row
    body = _object(store, meta.user_id, meta.id)
    assert body["schema"] == 1 and body["meta"]["id"] == meta.id and body["meta"]["version"] == 120
    assert len(body["turns"]) == 120 and body["turns"][0]["usage"][0]["call_id"] == f"{meta.id}-0-0"
    row, twin_row = index_row(any_engine, meta.id), index_row(any_engine, twin.id)
    assert row.storage == "s3" and row.agent_snapshot is None and twin_row.storage == "sql"
    for col in ("message_count", "turn_count", "input_tokens", "output_tokens", "errors", "title"):
        assert getattr(row, col) == getattr(twin_row, col), col
    assert search_rows(any_engine, meta.id) == search_rows(any_engine, twin.id)
    assert row.cost_usd == pytest.approx(twin_row.cost_usd)
    assert count_rows(any_engine, db.messages, session_id=meta.id) == 0
    assert count_rows(any_engine, db.turns, session_id=meta.id) == 0
    assert count_rows(any_engine, db.usage, session_id=meta.id) == 120


def test_other_users_session_is_not_found_and_ids_are_checked(any_engine, make_s3_store: MakeStore) -> None:
    store = make_s3_store(any_engine)
    meta = store.create_session("alice@example.com", model="offline")
    assert object_key("alice@example.com", meta.id) == f"sessions/alice%40example.com/{meta.id}.json"
    assert object_key("a/../b:c", "s1") == "sessions/a%2F..%2Fb%3Ac/s1.json"
    for call in (
        lambda: store.get_meta(meta.id, "mallory"),
        lambda: store.load(meta.id, "mallory"),
        lambda: store.commit_turn(meta.id, "mallory", expected_version=0, commit=turn_commit(0, 0, session_id=meta.id)),
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
    store.commit_turn(a.id, "u1", expected_version=0, commit=turn_commit(7, 0, session_id=a.id))
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
        store.commit_turn(a.id, "u1", expected_version=None, commit=turn_commit(8, 2, session_id=a.id))
    store.delete(b.id, "u1")
    store.delete(a.id, "u1")
    with pytest.raises(SessionNotFoundError):
        store.get_meta(a.id, "u1")
    assert make_client().list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
    assert count_rows(any_engine, db.usage) == 1, "the money was spent: ledger rows stay"


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
    row = index_row(any_engine, meta.id)
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
        store.commit_turn(meta.id, "u1", expected_version=0, commit=turn_commit(0, 0, session_id=meta.id))
    assert index_row(any_engine, meta.id).version == 0
    assert count_rows(any_engine, db.usage) == 0
    store.client.meta.events.unregister("before-call.s3.PutObject", throttled)
    store.commit_turn(meta.id, "u1", expected_version=0, commit=turn_commit(0, 0, session_id=meta.id))
    assert len(store.load(meta.id, "u1").messages) == 2


def test_two_writers_second_gets_conflict_and_first_turn_is_intact(any_engine, make_s3_store: MakeStore) -> None:
    first = make_s3_store(any_engine)
    second = make_s3_store(any_engine)  # another process: own client, own cache
    meta = first.create_session("u1", model="offline")
    assert second.load(meta.id, "u1").meta.version == 0

    # 1) the index already shows the other write: refused before any S3 request
    first.commit_turn(meta.id, "u1", expected_version=0, commit=turn_commit(0, 0, session_id=meta.id))
    counter = RequestCounter(second.client)
    with pytest.raises(SessionConflictError, match="changed elsewhere"):
        second.commit_turn(meta.id, "u1", expected_version=0, commit=turn_commit(0, 0, session_id=meta.id + "x"))
    assert counter.total == 0

    # 2) a true race: both pass the index check, the other PUT lands first -> S3 answers 412
    second.load(meta.id, "u1")  # both hold version 1 and its ETag
    raced = {"done": False}

    def other_tab_commits_first(**kwargs: Any) -> None:
        if not raced["done"]:
            raced["done"] = True
            first.commit_turn(meta.id, "u1", expected_version=1, commit=turn_commit(1, 2, session_id=meta.id))

    second.client.meta.events.register("before-call.s3.PutObject", other_tab_commits_first)
    counter.reset()
    with pytest.raises(SessionConflictError, match="Reload it to continue"):
        second.commit_turn(meta.id, "u1", expected_version=1, commit=turn_commit(1, 2, session_id=meta.id + "x"))
    assert counter.counts["PutObject"] == 1, "the losing PUT was sent and refused by S3 (If-Match)"
    body = _object(first, "u1", meta.id)
    assert [t["usage"][0]["call_id"] for t in body["turns"]] == [f"{meta.id}-0-0", f"{meta.id}-1-2"]
    assert body["meta"]["version"] == 2
    assert index_row(any_engine, meta.id).version == 2
    assert count_rows(any_engine, db.usage) == 2, "the refused writer added no ledger rows"
    # the loser reloads (one GET: its cached copy was dropped) and can continue
    counter.reset()
    doc = second.load(meta.id, "u1")
    assert counter.counts == {"GetObject": 1} and len(doc.turns) == 2
    second.commit_turn(meta.id, "u1", expected_version=2, commit=turn_commit(2, 4, session_id=meta.id))
    assert first.load(meta.id, "u1").meta.turn_count == 3


# --------------------------------------------------------------------------- damage and reindex
def test_damaged_or_missing_object_is_reported_for_that_session_only(any_engine, make_s3_store: MakeStore) -> None:
    store = make_s3_store(any_engine)
    good = store.create_session("u1", model="offline", title="good")
    bad = store.create_session("u1", model="offline", title="bad")
    gone = store.create_session("u1", model="offline", title="gone")
    for m in (good, bad, gone):
        store.commit_turn(m.id, "u1", expected_version=0, commit=turn_commit(0, 0, session_id=m.id))
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
