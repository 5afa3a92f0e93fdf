"""The S3 side of the S3 session store (``sessions/s3_objects.py``): keys, conditional writes, the cache, refusals.

Over moto S3 (its real ``If-Match`` / ``If-None-Match`` checks), the index on SQLite and Postgres.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from assistant.sessions.base import SessionConflictError, SessionNotFoundError, StorageUnavailableError
from assistant.sessions.s3_objects import (
    DAMAGED_MESSAGE,
    MISSING_MESSAGE,
    DamagedObjectError,
    SessionObjects,
    StoredObject,
    object_key,
    validate_session_id,
)
from assistant.sessions.s3_store import S3SessionStore
from tests.fixtures.index_rows import turn_commit
from tests.fixtures.s3 import BUCKET, RequestCounter, make_client

MakeStore = Callable[..., S3SessionStore]


def test_documents_kept_in_memory_are_bounded_by_their_size(any_engine, make_s3_store: MakeStore) -> None:
    """256 long sessions opened on a server held ~500 MB: the cache also stops at a byte bound."""
    writer = make_s3_store(any_engine)
    ids = []
    for i in range(6):
        meta = writer.create_session("u1", model="offline")
        commit = turn_commit(0, 0, session_id=meta.id)
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


def test_create_never_overwrites_an_existing_object(any_engine, make_s3_store: MakeStore) -> None:
    first = make_s3_store(any_engine)
    meta = first.create_session("u1", model="offline")
    first.commit_turn(meta.id, "u1", expected_version=0, commit=turn_commit(0, 0, session_id=meta.id))
    with pytest.raises(SessionConflictError):
        make_s3_store(any_engine).create_session("u1", model="offline", session_id=meta.id)
    assert len(first.load(meta.id, "u1").turns) == 1


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
    after = store.commit_turn(meta.id, "u1", expected_version=0, commit=turn_commit(0, 0, session_id=meta.id))
    assert after.version == 1
    assert len(make_s3_store(any_engine).load(meta.id, "u1").turns) == 1
    store.commit_turn(meta.id, "u1", expected_version=1, commit=turn_commit(1, 2, session_id=meta.id))


def test_delete_refused_by_the_bucket_policy_says_so_and_keeps_the_session(
    any_engine, make_s3_store: MakeStore
) -> None:
    """The role DEPLOYMENT.md granted had no s3:DeleteObject: every Delete read "Session storage is
    unavailable ... Try again in a moment", which never helps."""
    store = make_s3_store(any_engine)
    meta = store.create_session("u1", model="offline")
    store.commit_turn(meta.id, "u1", expected_version=0, commit=turn_commit(0, 0, session_id=meta.id))

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


def test_each_user_has_one_key_prefix_no_user_id_can_leave() -> None:
    assert object_key("alice@example.com", "s1") == "sessions/alice%40example.com/s1.json"
    assert object_key("a/../b:c", "s1") == "sessions/a%2F..%2Fb%3Ac/s1.json"
    assert object_key("x" * 255, "s1").startswith("sessions/" + "x" * 255 + "/")
    for bad_user in ("", "x" * 256):
        with pytest.raises(ValueError, match=r"^A user id must be 1 to 255 characters long\.$"):
            object_key(bad_user, "s1")


@pytest.mark.parametrize("session_id", ["../other", "a/b", "", "s1\x00", "s" * 65, ".hidden", "s 1"])
def test_an_id_that_cannot_name_a_session_is_not_found(session_id: str) -> None:
    with pytest.raises(SessionNotFoundError, match=r"^That session was not found\.$"):
        validate_session_id(session_id)
    with pytest.raises(SessionNotFoundError):
        object_key("u1", session_id)


def _entry(size: int) -> StoredObject:
    return StoredObject(etag='"e"', version=1, body={}, size=size)


def test_the_cache_keeps_the_most_recently_used_within_its_count_and_bytes() -> None:
    objects = SessionObjects(client=None, bucket=BUCKET, cache_size=2, cache_bytes=100)
    objects.cache_put("a", _entry(10))
    objects.cache_put("b", _entry(10))
    assert objects.cache_get("a") is not None  # now "b" is the least recently used
    objects.cache_put("c", _entry(10))
    assert (objects.cache_get("b"), objects.cached_bytes()) == (None, 20)
    objects.cache_put("big", _entry(95))  # past the byte bound: only the newest stays
    assert [s for s in "ac" if objects.cache_get(s)] == [] and objects.cache_get("big") is not None
    objects.cache_put("big", _entry(5))  # replaced, not counted twice
    assert objects.cached_bytes() == 5
    objects.cache_drop("big")
    objects.cache_drop("never-cached")
    assert objects.cached_bytes() == 0


def _stored_document(any_engine: Any, make_s3_store: MakeStore) -> tuple[S3SessionStore, str, str]:
    store = make_s3_store(any_engine)
    meta = store.create_session("u1", model="offline")
    store.commit_turn(meta.id, "u1", expected_version=0, commit=turn_commit(0, 0, session_id=meta.id))
    return store, meta.id, object_key("u1", meta.id)


def test_a_stored_document_reads_back_with_its_etag_version_and_size(any_engine: Any, make_s3_store: MakeStore) -> None:
    _store, session_id, key = _stored_document(any_engine, make_s3_store)
    got = SessionObjects(make_client(), BUCKET).get(key, session_id)
    head = make_client().head_object(Bucket=BUCKET, Key=key)
    assert (got.etag, got.version, got.size) == (head["ETag"], 1, head["ContentLength"])
    assert [m["role"] for m in got.body["messages"]] == ["user", "assistant"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda body: b"\x00{not json",
        lambda body: b"[1, 2]",
        lambda body: json.dumps({**body, "schema": 999}).encode(),
        lambda body: json.dumps({**body, "meta": {**body["meta"], "id": "another"}}).encode(),
        lambda body: json.dumps({**body, "turns": "not a list"}).encode(),
        lambda body: json.dumps({**body, "meta": {k: v for k, v in body["meta"].items() if k != "version"}}).encode(),
        lambda body: json.dumps({**body, "meta": {**body["meta"], "created_at": "yesterday"}}).encode(),
    ],
    ids=["bytes", "not-an-object", "schema", "other-session", "turns", "no-version", "bad-date"],
)
def test_an_unreadable_object_is_damaged_for_that_session(
    any_engine: Any, make_s3_store: MakeStore, damage: Callable[[dict[str, Any]], bytes]
) -> None:
    _store, session_id, key = _stored_document(any_engine, make_s3_store)
    raw = make_client()
    body = json.loads(raw.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    raw.put_object(Bucket=BUCKET, Key=key, Body=damage(body))
    with pytest.raises(DamagedObjectError) as damaged:
        SessionObjects(raw, BUCKET).get(key, session_id)
    assert damaged.value.reason == "object unreadable"
    assert str(damaged.value) == DAMAGED_MESSAGE


def test_a_missing_object_is_damaged_as_missing(any_engine: Any, make_s3_store: MakeStore) -> None:
    _store, session_id, key = _stored_document(any_engine, make_s3_store)
    make_client().delete_object(Bucket=BUCKET, Key=key)
    objects = SessionObjects(make_client(), BUCKET)
    with pytest.raises(DamagedObjectError) as missing:
        objects.get(key, session_id)
    assert (missing.value.reason, str(missing.value)) == ("object missing", MISSING_MESSAGE)
    assert objects.is_missing(key)


def test_a_write_on_a_stale_etag_is_a_conflict_and_overwrites_nothing(
    any_engine: Any, make_s3_store: MakeStore
) -> None:
    _store, session_id, key = _stored_document(any_engine, make_s3_store)
    objects = SessionObjects(make_client(), BUCKET)
    current = objects.get(key, session_id)
    changed = {**current.body, "title": "Changed"}
    with pytest.raises(SessionConflictError):
        objects.put(key, session_id, changed, if_match='"0123456789abcdef0123456789abcdef"')
    with pytest.raises(SessionConflictError):
        objects.put(key, session_id, changed, create=True)
    assert objects.get(key, session_id).etag == current.etag
    written = objects.put(key, session_id, changed, if_match=current.etag)
    assert written.etag != current.etag and objects.get(key, session_id).body["title"] == "Changed"


def test_only_session_documents_are_listed(any_engine: Any, make_s3_store: MakeStore) -> None:
    _store, _session_id, key = _stored_document(any_engine, make_s3_store)
    raw = make_client()
    raw.put_object(Bucket=BUCKET, Key="sessions/u1/notes.txt", Body=b"x")
    raw.put_object(Bucket=BUCKET, Key="elsewhere/s2.json", Body=b"{}")
    assert list(SessionObjects(raw, BUCKET).iter_keys()) == [key]
