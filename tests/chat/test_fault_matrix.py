"""The fault matrix (issue 14): each row a real fault on the real parts, and what the user notices.

Every row ends the same way, on every store the fault applies to (SQLite, Postgres, S3 on moto
over a Postgres index): the session opens (``open_session``), shows what happened (the failed
question with its category and message, or the answer), and accepts Retry exactly once (the
question stored once, nothing pending, and every request the model saw, including one from a
new process after the retry, is one Bedrock's Converse API accepts).

Faults come through the real seams only: the scripted model raises the SDKs' own exceptions
(built by :mod:`assistant.models.faults`, the ``faulty:`` model's) or streams malformed events;
S3 runs behind an HTTP proxy that answers 503 or sleeps past the client's read timeout; SQLite is
locked by a second connection holding ``BEGIN IMMEDIATE``; a Postgres backend is killed with
``pg_terminate_backend`` from a second connection while its transaction commits; a restart is a
new ChatService over a new store while the old one's question is still "running".

The table in docs/RELIABILITY.md lists each row with its test. Rerun: ``pytest tests/chat/test_fault_matrix.py``.
"""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

import boto3
import pytest
from botocore.config import Config
from sqlalchemy import Engine, create_engine, event, text

from assistant.chat import ChatService, Done, ErrorEvent
from assistant.chat.pending import INTERRUPTED_MESSAGE, UNRECORDED_MESSAGE, new_owner
from assistant.chat.turn import CONFLICT_LOST_MESSAGE, CUT_OFF_MESSAGE, STORAGE_MESSAGE
from assistant.models.faults import FaultInjectingModel, make_fault_error
from assistant.sessions.base import PendingTurn, SessionDocument, StorageUnavailableError, utcnow
from assistant.sessions.s3_store import AnsweredAfterAllError
from tests.fixtures.chat import make_service
from tests.fixtures.db import postgres_url
from tests.fixtures.s3 import REGION
from tests.fixtures.scripted_model import Fail, Raw, ScriptedModel, Step, Text, ToolCall, converse_violations
from tests.fixtures.stores import MakeStore

pytestmark = pytest.mark.timeout(30)

USER = "u1"
HELLO = "Hello"
QUESTION = "What meetings do I have this week?"
ANSWER = "You have six meetings this week."
NEXT = "And my budget?"


# --------------------------------------------------------------------------- helpers
def _service(engine: Engine, store: Any, model: Any, **overrides: Any) -> ChatService:
    return make_service(engine, model=lambda _name: model, store=store, **overrides)


def _user_texts(doc: SessionDocument) -> list[str]:
    return [b["text"] for m in doc.messages if m["role"] == "user" for b in m["content"] if "text" in b]


def _started(service: ChatService) -> str:
    """A session with one answered turn (the fault hits a session that has history)."""
    sid = service.create_session(USER).id
    assert isinstance(service.run_turn(sid, USER, HELLO)[-1], Done)
    return sid


def _error(events: list[Any], category: str) -> ErrorEvent:
    err = events[-1]
    assert isinstance(err, ErrorEvent), err
    assert err.category == category and err.retryable, err
    return err


def _shows_failed(service: ChatService, sid: str, category: str, message: str | None = None) -> PendingTurn:
    """The session opens and shows the question as failed, with Retry, and not as a turn."""
    doc = service.open_session(sid, USER)
    assert QUESTION not in [t.user_text for t in doc.turns], "a failed question is never a transcript turn"
    assert QUESTION not in _user_texts(doc)
    pending = service.pending_turn(sid, USER)
    assert pending is not None, "the question is kept"
    assert pending.text == QUESTION and pending.status == "failed" and pending.retryable
    assert pending.error_category == category, pending
    if message is not None:
        assert pending.error_message == message
    return pending


def _retry_once(service: ChatService, sid: str, model: ScriptedModel, make_store: MakeStore, engine: Engine) -> None:
    """Retry answers; the question is stored once; a new process's next request is one Converse accepts."""
    done = service.run_turn(sid, USER, QUESTION)[-1]
    assert isinstance(done, Done), done
    _stored_once(sid, make_store, engine)
    assert service.pending_turn(sid, USER) is None
    other = _service(engine, make_store(), model)  # a new process: nothing cached
    assert isinstance(other.run_turn(sid, USER, NEXT)[-1], Done)
    assert model.violations == [], model.violations
    assert converse_violations(model.requests[-1].messages) == []


def _stored_once(sid: str, make_store: MakeStore, engine: Engine, *, turns: int = 2) -> SessionDocument:
    """What a new process reads: the question once, as a turn and in the transcript."""
    doc = make_store().load(sid, USER)
    assert [t.user_text for t in doc.turns] == [HELLO, QUESTION][:turns], [t.user_text for t in doc.turns]
    assert _user_texts(doc) == [HELLO, QUESTION][:turns]
    assert doc.meta.turn_count == turns and doc.meta.message_count == len(doc.messages)
    follow: Any = [*doc.messages, {"role": "user", "content": [{"text": NEXT}]}]
    assert converse_violations(follow) == []
    return doc


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _owner_of(pid: int) -> str:
    host, _, rest = new_owner().partition(":")
    return f"{host}:{pid}:{rest.partition(':')[2]}"


# --------------------------------------------------------------------------- model faults
MODEL_FAULTS: dict[str, tuple[list[Step], str]] = {
    # strands' ModelThrottledException: strands retries (1 s, 2 s), then gives up
    "throttled": ([Fail(make_fault_error("throttle"))] * 3, "throttled"),
    # botocore ReadTimeoutError from the Bedrock client
    "timeout": ([Fail(make_fault_error("timeout"))], "timeout"),
    # a stream cut after some text: no contentBlockStop, no messageStop
    # (before the fix it was stored as an "ok" turn with an empty answer, Retry never offered)
    "truncated-stream": (
        [
            Raw(
                (
                    {"messageStart": {"role": "assistant"}},
                    {"contentBlockStart": {"start": {}}},
                    {"contentBlockDelta": {"delta": {"text": "You have si"}}},
                )
            )
        ],
        "model_error",
    ),
    # a stream cut after a whole text block but before messageStop (a proxy closing the
    # connection early): strands ends such a message as an ordinary "end_turn"
    "cut-before-message-stop": (
        [
            Raw(
                (
                    {"messageStart": {"role": "assistant"}},
                    {"contentBlockStart": {"start": {}}},
                    {"contentBlockDelta": {"delta": {"text": "You have six meetings this"}}},
                    {"contentBlockStop": {}},
                )
            )
        ],
        "model_error",
    ),
    # an event strands cannot read (a delta without its body)
    "malformed-event": (
        [
            Raw(
                (
                    {"messageStart": {"role": "assistant"}},
                    {"contentBlockStart": {"start": {}}},
                    {"contentBlockDelta": {}},
                )
            )
        ],
        "model_error",
    ),
    # the Bedrock stream breaks (EventStreamError) after a tool call was answered
    "failure-after-a-tool": (
        [ToolCall("get_upcoming_meetings", {"days_ahead": 7}), Fail(make_fault_error("midstream"))],
        "unavailable",
    ),
}


@pytest.mark.parametrize("fault", list(MODEL_FAULTS))
def test_model_fault_then_retry(fault: str, store_engine: Engine, make_store: MakeStore) -> None:
    steps, category = MODEL_FAULTS[fault]
    model = ScriptedModel(
        [Text("Hello! I can prepare you for your meetings."), *steps, Text(ANSWER), Text("On track.")]
    )
    service = _service(store_engine, make_store(), model)
    sid = _started(service)
    events = service.run_turn(sid, USER, QUESTION)
    err = _error(events, category)
    if fault in ("truncated-stream", "cut-before-message-stop"):
        assert err.message == CUT_OFF_MESSAGE
    assert err.message and "Traceback" not in err.message
    _shows_failed(service, sid, category, err.message)
    _stored_once(sid, make_store, store_engine, turns=1)
    _retry_once(service, sid, model, make_store, store_engine)


def test_model_hanging_past_the_turn_timeout_then_retry(store_engine: Engine, make_store: MakeStore) -> None:
    model = ScriptedModel([Text("Hello!"), Text(ANSWER), Text(ANSWER), Text("On track.")])
    sid = _started(_service(store_engine, make_store(), model))
    # this process's first call pauses 2 s before every event: past MODEL_TIMEOUT_SECONDS (0.5 s)
    hanging = FaultInjectingModel(model, "slow:2*1")
    service = _service(store_engine, make_store(), hanging, model_timeout_seconds=0.5)
    began = time.monotonic()
    err = _error(service.run_turn(sid, USER, QUESTION), "timeout")
    assert time.monotonic() - began < 2.0, "the turn timeout cut the answer short"
    _shows_failed(service, sid, "timeout", err.message)
    _retry_once(service, sid, model, make_store, store_engine)


# --------------------------------------------------------------------------- another writer
def test_conflict_another_writer_answers_first_then_retry(store_engine: Engine, make_store: MakeStore) -> None:
    """Another replica stores a turn while this one answers: told once, question kept, Retry asks it after."""
    holder: dict[str, Any] = {}
    other_model = ScriptedModel([Text("Your budget is on track.")])
    other = _service(store_engine, make_store(), other_model)

    def other_replica_answers() -> None:
        assert isinstance(other.run_turn(holder["sid"], USER, HELLO)[-1], Done)

    model = ScriptedModel(
        [ToolCall("get_upcoming_meetings", {"days_ahead": 7}, then=other_replica_answers), Text(ANSWER), Text(ANSWER)]
    )
    model.script.append(Text("On track."))
    service = _service(store_engine, make_store(), model)
    holder["sid"] = sid = service.create_session(USER).id
    _error(service.run_turn(sid, USER, QUESTION), "conflict")
    for svc in (service, _service(store_engine, make_store(), model)):  # this process, and after a reload
        _shows_failed(svc, sid, "conflict", CONFLICT_LOST_MESSAGE)
    _retry_once(service, sid, model, make_store, store_engine)
    assert other_model.violations == []


# --------------------------------------------------------------------------- S3 behind a faulty proxy
@dataclass
class _Rule:
    method: str
    kind: str  # "503" or "slow"
    times: int
    seconds: float = 0.0


@dataclass
class S3Proxy:
    """An HTTP endpoint in front of moto's S3 (same process, same buckets) that fails or stalls on cue."""

    url: str
    rules: list[_Rule] = field(default_factory=list)
    hits: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault(self, method: str, kind: str, times: int = 1, seconds: float = 0.0) -> None:
        with self.lock:
            self.rules.append(_Rule(method, kind, times, seconds))

    def take(self, method: str, path: str) -> _Rule | None:
        if "/sessions/" not in path:
            return None
        with self.lock:
            for rule in self.rules:
                if rule.method == method and rule.times > 0:
                    rule.times -= 1
                    self.hits.append(f"{method} {rule.kind}")
                    return rule
        return None

    def client(self, *, attempts: int = 1, read_timeout: float = 0.5) -> Any:
        """A boto3 S3 client through the proxy: the factory's client, with a short read timeout."""
        return boto3.client(
            "s3",
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(
                retries={"total_max_attempts": attempts, "mode": "standard"},
                connect_timeout=1,
                read_timeout=read_timeout,
                s3={"addressing_style": "path"},
            ),
        )


SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


@pytest.fixture
def s3_proxy(s3_mock: None) -> Iterator[S3Proxy]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    moto_app = DomainDispatcherApplication(create_backend_app)
    holder: dict[str, S3Proxy] = {}

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        rule = holder["proxy"].take(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
        if rule is not None and rule.kind == "503":
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            start_response(
                "503 Slow Down", [("Content-Type", "application/xml"), ("Content-Length", str(len(SLOW_DOWN)))]
            )
            return [SLOW_DOWN]
        if rule is not None and rule.kind == "slow":
            time.sleep(rule.seconds)  # then S3 does it all the same: the client has given up by then
        return moto_app(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    holder["proxy"] = proxy = S3Proxy(url=f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield proxy
    finally:
        server.shutdown()
        thread.join(5)


# Rows that apply to some stores only run on those (store_kind overridden, never skipped).
S3_ONLY = pytest.mark.parametrize("store_kind", ["s3"])  # an S3 fault: the SQL stores have no bucket


@S3_ONLY
@pytest.mark.parametrize("attempts", [1, 3], ids=["no-retries", "botocore-retries"])
def test_s3_5xx_on_the_turn_put_then_retry(
    attempts: int, s3_proxy: S3Proxy, store_engine: Engine, make_store: MakeStore
) -> None:
    model = ScriptedModel([Text("Hello!"), Text(ANSWER), Text(ANSWER), Text("On track.")])
    service = _service(store_engine, make_store(client=s3_proxy.client(attempts=attempts)), model)
    sid = _started(service)
    s3_proxy.fault("PUT", "503", times=1)
    events = service.run_turn(sid, USER, QUESTION)
    assert s3_proxy.hits == ["PUT 503"]
    if attempts > 1:  # botocore's own retry: the user notices nothing
        assert isinstance(events[-1], Done), events[-1]
        _stored_once(sid, make_store, store_engine)
        return
    _error(events, "storage")
    _shows_failed(service, sid, "storage", STORAGE_MESSAGE)
    _stored_once(sid, make_store, store_engine, turns=1)
    _retry_once(service, sid, model, make_store, store_engine)


@S3_ONLY
def test_s3_5xx_on_the_get_of_a_resume_then_retry(
    s3_proxy: S3Proxy, store_engine: Engine, make_store: MakeStore
) -> None:
    model = ScriptedModel([Text("Hello!"), Text(ANSWER), Text("On track.")])
    sid = _started(_service(store_engine, make_store(), model))
    # a new process (nothing cached) opens the session while S3 answers 503
    service = _service(store_engine, make_store(client=s3_proxy.client()), model)
    s3_proxy.fault("GET", "503", times=2)
    with pytest.raises(StorageUnavailableError, match="could not be opened"):
        service.open_session(sid, USER)
    _error(service.run_turn(sid, USER, QUESTION), "storage")
    assert s3_proxy.hits == ["GET 503", "GET 503"]
    _shows_failed(service, sid, "storage", STORAGE_MESSAGE)  # S3 answers again: it opens
    _retry_once(service, sid, model, make_store, store_engine)


@S3_ONLY
@pytest.mark.parametrize("attempts", [1, 3], ids=["no-retries", "botocore-retries"])
def test_s3_slow_past_the_read_timeout_then_retry(
    attempts: int, s3_proxy: S3Proxy, store_engine: Engine, make_store: MakeStore
) -> None:
    """The turn's PUT stalls past the client's read timeout; S3 still applies it afterwards."""
    model = ScriptedModel([Text("Hello!"), Text(ANSWER), Text(ANSWER), Text("On track.")])
    service = _service(store_engine, make_store(client=s3_proxy.client(attempts=attempts, read_timeout=0.3)), model)
    sid = _started(service)
    s3_proxy.fault("PUT", "slow", times=1, seconds=0.8)
    events = service.run_turn(sid, USER, QUESTION)
    time.sleep(0.8)  # the stalled PUT lands
    if attempts > 1:
        assert isinstance(events[-1], Done), events[-1]
        _stored_once(sid, make_store, store_engine)
        return
    # told "not saved", while S3 applied the PUT after the client gave up (before the fix, Retry
    # asked again and was refused as "changed in another tab"; a second Retry stored the question twice)
    _error(events, "storage")
    with pytest.raises(AnsweredAfterAllError, match="saved after all"):
        service.start_turn(USER, QUESTION, session_id=sid)  # Retry on the page that showed the error
    assert not service.is_busy(sid)
    for svc in (service, _service(store_engine, make_store(), model)):  # reload, here or elsewhere
        assert [t.user_text for t in svc.open_session(sid, USER).turns] == [HELLO, QUESTION]
        assert svc.pending_turn(sid, USER) is None
    doc = _stored_once(sid, make_store, store_engine)
    # the answer's model call is billed once: it was in the ledger twice (as the attempt reported
    # "not saved", then from the object when the index caught up), doubling the session's tokens
    # and cost on the Sessions page and today's spend against the budget
    meta = make_store().get_meta(sid, USER)
    assert (meta.input_tokens, meta.output_tokens) == (
        sum(t.input_tokens for t in doc.turns),
        sum(t.output_tokens for t in doc.turns),
    )
    assert meta.cost_usd == pytest.approx(sum(t.cost_usd or 0.0 for t in doc.turns))
    assert isinstance(service.run_turn(sid, USER, NEXT)[-1], Done)
    assert model.violations == []


# --------------------------------------------------------------------------- SQLite locked
SQLITE_ONLY = pytest.mark.parametrize("store_kind", ["sqlite"])  # SQLite's database lock


def _short_busy_timeout(engine: Engine, ms: int = 200) -> None:
    """The deployment's busy timeout is 30 s; the test waits 0.2 s for the lock (same code path)."""

    def pragma(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={ms}")

    event.listen(engine, "connect", pragma)
    engine.dispose()


class _Locker:
    """A second connection to the SQLite file holding the write lock (BEGIN IMMEDIATE)."""

    def __init__(self, engine: Engine) -> None:
        self.conn = sqlite3.connect(str(engine.url.database), isolation_level=None, check_same_thread=False)

    def lock(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")


@SQLITE_ONLY
def test_sqlite_locked_at_send_refuses_and_writes_nothing(store_engine: Engine, make_store: MakeStore) -> None:
    _short_busy_timeout(store_engine)
    model = ScriptedModel([Text("Hello!"), Text(ANSWER), Text("On track.")])
    service = _service(store_engine, make_store(), model)
    sid = _started(service)
    locker = _Locker(store_engine)
    locker.lock()
    with pytest.raises(StorageUnavailableError):
        service.start_turn(USER, QUESTION, session_id=sid)
    assert service.open_session(sid, USER).meta.turn_count == 1, "the session opens while locked (WAL readers)"
    assert service.pending_turn(sid, USER) is None and not service.is_busy(sid)
    locker.release()
    _retry_once(service, sid, model, make_store, store_engine)


@SQLITE_ONLY
def test_sqlite_locked_through_the_commit_then_retry(store_engine: Engine, make_store: MakeStore) -> None:
    """Locked after the question was kept, past the busy timeout, through the commit and the failure record."""
    _short_busy_timeout(store_engine)
    locker = _Locker(store_engine)
    model = ScriptedModel(
        [Text("Hello!"), ToolCall("get_upcoming_meetings", {"days_ahead": 7}, then=locker.lock), Text(ANSWER)]
    )
    model.script += [ToolCall("get_upcoming_meetings", {"days_ahead": 7}), Text(ANSWER), Text("On track.")]
    service = _service(store_engine, make_store(), model)
    sid = _started(service)
    _error(service.run_turn(sid, USER, QUESTION), "storage")
    assert service.open_session(sid, USER).meta.turn_count == 1
    locker.release()
    # the failure could not be written either: the question is still "running" in the store, so this
    # process says what happened (before the fix: "the server restarted"), and another process shows
    # it as being answered until its heartbeat is stale, then as interrupted
    _shows_failed(service, sid, "storage", UNRECORDED_MESSAGE)
    elsewhere = _service(store_engine, make_store(), model).pending_turn(sid, USER)
    assert elsewhere is not None and elsewhere.text == QUESTION and elsewhere.status == "running"
    _retry_once(service, sid, model, make_store, store_engine)


# --------------------------------------------------------------------------- Postgres connection faults
POSTGRES_INDEX = pytest.mark.parametrize("store_kind", ["postgres", "s3"])  # a Postgres connection fault


class _Killer:
    """Terminates this engine's Postgres backends from a second connection (pg_terminate_backend)."""

    def __init__(self, engine: Engine) -> None:
        self.admin = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
        self.pids: set[int] = set()
        self.armed = False
        self.killed: list[int] = []
        self._writing_ledger: set[int] = set()
        event.listen(engine, "checkout", self._on_checkout)
        event.listen(engine, "before_cursor_execute", self._on_execute)
        event.listen(engine, "commit", self._on_commit)

    def _on_checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        self.pids.add(dbapi_connection.info.backend_pid)

    def _on_execute(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.armed and statement.lstrip().upper().startswith("INSERT INTO USAGE"):
            self._writing_ledger.add(id(conn))

    def _on_commit(self, conn: Any) -> None:
        # the turn's transaction (it writes the turn's ledger rows) is about to COMMIT: kill its backend
        if self.armed and id(conn) in self._writing_ledger:
            self.armed = False
            self.kill(conn.connection.driver_connection.info.backend_pid)

    def kill(self, *pids: int) -> None:
        with self.admin.connect() as c:
            for pid in pids:
                assert c.execute(text("select pg_terminate_backend(:p)"), {"p": pid}).scalar()
                self.killed.append(pid)

    def close(self) -> None:
        self.admin.dispose()


@pytest.fixture
def killer(store_engine: Engine) -> Iterator[_Killer]:
    k = _Killer(store_engine)
    yield k
    k.close()


@POSTGRES_INDEX
def test_connection_dropped_mid_commit_then_retry(
    killer: _Killer, store_kind: str, store_engine: Engine, make_store: MakeStore
) -> None:
    model = ScriptedModel(
        [
            Text("Hello!"),
            ToolCall("get_upcoming_meetings", {"days_ahead": 7}),
            Text(ANSWER),
            ToolCall("get_upcoming_meetings", {"days_ahead": 7}),
            Text(ANSWER),
            Text("On track."),
        ]
    )
    service = _service(store_engine, make_store(), model)
    sid = _started(service)
    killer.armed = True
    events = service.run_turn(sid, USER, QUESTION)
    assert len(killer.killed) == 1, "the commit's backend was terminated"
    if store_kind == "s3":
        # the PUT had landed (S3 is the source of truth); the index is rebuilt from the object at once
        assert isinstance(events[-1], Done), events[-1]
        _stored_once(sid, make_store, store_engine)
        assert service.pending_turn(sid, USER) is None
        return
    _error(events, "storage")
    _shows_failed(service, sid, "storage", STORAGE_MESSAGE)
    _stored_once(sid, make_store, store_engine, turns=1)
    _retry_once(service, sid, model, make_store, store_engine)


@pytest.mark.parametrize("store_kind", ["postgres"])
def test_commit_applied_but_its_reply_lost_shows_the_answer_once(
    store_engine: Engine, make_store: MakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Postgres applies the turn's COMMIT, then the connection drops before its reply arrives.

    The user was told "could not be saved · Retry" about an answer that was stored; the question
    was kept as failed beside it and its calls went into the ledger a second time, so Retry
    stored the question twice. The service now reads the session after a failed commit: its own
    turn there is the answer, shown as stored.
    """
    import psycopg

    model = ScriptedModel([Text("Hello!"), ToolCall("get_upcoming_meetings", {"days_ahead": 7}), Text(ANSWER)])
    model.script.append(Text("On track."))
    service = _service(store_engine, make_store(), model)
    sid = _started(service)
    real_commit = store_engine.dialect.do_commit
    lost: list[int] = []
    writing_ledger: set[int] = set()  # the turn's transaction writes its ledger rows

    def on_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO USAGE"):
            writing_ledger.add(id(conn.connection.driver_connection))

    def commit_then_lose_the_reply(dbapi_connection: Any) -> None:
        real_commit(dbapi_connection)
        if not lost and id(getattr(dbapi_connection, "driver_connection", dbapi_connection)) in writing_ledger:
            lost.append(1)
            raise psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly")

    with monkeypatch.context() as lossy:  # not monkeypatch.undo(): that would undo aws_env's credentials too
        lossy.setattr(store_engine.dialect, "do_commit", commit_then_lose_the_reply)
        event.listen(store_engine, "before_cursor_execute", on_execute)
        events = service.run_turn(sid, USER, QUESTION)
        event.remove(store_engine, "before_cursor_execute", on_execute)
    assert lost, "the turn's commit lost its reply"
    done = events[-1]
    assert isinstance(done, Done), done
    assert done.meta.turn_count == 2 and done.turn.user_text == QUESTION
    doc = _stored_once(sid, make_store, store_engine)
    assert service.pending_turn(sid, USER) is None, "no failed question beside the answer"
    with store_engine.connect() as c:
        calls = c.execute(text("select count(*) from usage where session_id = :s and turn_idx = 1"), {"s": sid})
        answers = [m for m in doc.messages[doc.turns[1].first_message_idx :] if m["role"] == "assistant"]
        assert calls.scalar_one() == len(answers), "each model call of the turn once in the ledger"
    assert isinstance(service.run_turn(sid, USER, NEXT)[-1], Done)  # the session goes on
    assert model.violations == []


@POSTGRES_INDEX
def test_database_restarted_between_turns(killer: _Killer, store_engine: Engine, make_store: MakeStore) -> None:
    """Every pooled connection is terminated (as a Postgres restart does): the next send just works."""
    model = ScriptedModel([Text("Hello!"), Text(ANSWER), Text("On track.")])
    service = _service(store_engine, make_store(), model)
    sid = _started(service)
    assert killer.pids
    killer.kill(*killer.pids)
    assert service.open_session(sid, USER).meta.turn_count == 1
    done = service.run_turn(sid, USER, QUESTION)[-1]
    assert isinstance(done, Done), done
    _stored_once(sid, make_store, store_engine)
    assert model.violations == []


# --------------------------------------------------------------------------- restarts and crashes
def test_restarted_while_a_question_was_running_then_retry(store_engine: Engine, make_store: MakeStore) -> None:
    """The old process is frozen mid-answer (then gone); the new one shows the question and answers it once."""
    release = threading.Event()

    def frozen() -> None:
        release.wait(10)
        raise ConnectionError("the old process's connection died with it")

    model = ScriptedModel(
        [Text("Hello!"), ToolCall("get_upcoming_meetings", {"days_ahead": 7}, then=frozen), Text(ANSWER)]
    )
    model.script += [Text(ANSWER), Text("On track.")]
    old = _service(store_engine, make_store(), model)
    old.owner = _owner_of(_dead_pid())  # the old process: its pid is gone once it is restarted
    sid = _started(old)
    started = old.start_turn(USER, QUESTION, session_id=sid)
    it = iter(started.events)
    runner = threading.Thread(target=lambda: list(it), daemon=True)
    runner.start()
    try:
        deadline = time.monotonic() + 5
        while model.index < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        new = _service(store_engine, make_store(), model)
        pending = _shows_failed(new, sid, "interrupted", INTERRUPTED_MESSAGE)
        assert pending.owner == old.owner
        new_started_at = time.monotonic()
        _retry_once(new, sid, model, make_store, store_engine)
        assert time.monotonic() - new_started_at < 10
    finally:
        release.set()
        runner.join(10)
    # the old process's late failure does not bring the answered question back
    assert new.pending_turn(sid, USER) is None
    assert [t.user_text for t in new.open_session(sid, USER).turns] == [HELLO, QUESTION, NEXT]


def test_process_killed_mid_turn_then_retry(store_engine: Engine, make_store: MakeStore) -> None:
    """A "running" question whose process is dead (this host, pid gone), heartbeat still fresh."""
    model = ScriptedModel([Text("Hello!"), Text(ANSWER), Text("On track.")])
    service = _service(store_engine, make_store(), model)
    sid = _started(service)
    now = utcnow()
    dead = _owner_of(_dead_pid())
    service.store.save_pending(PendingTurn(sid, USER, 1, QUESTION, "running", dead, now, now))
    for svc in (service, _service(store_engine, make_store(), model)):
        _shows_failed(svc, sid, "interrupted", INTERRUPTED_MESSAGE)
    # a live process (this one) with a fresh heartbeat is still answering: not offered for Retry
    service.store.save_pending(PendingTurn(sid, USER, 1, QUESTION, "running", new_owner(), now, now))
    other = _service(store_engine, make_store(), model)
    shown = other.pending_turn(sid, USER)
    assert shown is not None and shown.status == "running"
    # ... until its heartbeat is older than STALE_AFTER
    stale = now - timedelta(minutes=1)
    service.store.save_pending(PendingTurn(sid, USER, 1, QUESTION, "running", new_owner(), stale, stale))
    _shows_failed(other, sid, "interrupted", INTERRUPTED_MESSAGE)
    _retry_once(service, sid, model, make_store, store_engine)
