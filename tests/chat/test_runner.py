"""One turn's lifecycle (``chat/runner.py``): the agent built, the answer streamed, exactly one store write.

:class:`TurnRunner` is driven here as :class:`ChatService` drives it (a begun turn, the session's
slot locked), on SQLite, Postgres and S3 (moto), with a scripted strands model.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import time
from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from assistant import db
from assistant.chat.events import ChatEvent, Done, ErrorEvent, TextDelta
from assistant.chat.runner import TurnRunner
from assistant.chat.slots import AgentSlots
from assistant.sessions.base import SessionStore
from tests.fixtures.chat import make_service
from tests.fixtures.scripted_model import Fail, ScriptedModel, Text
from tests.fixtures.stores import MakeStore

QUESTION = "What is on today?"


class SlowModel(ScriptedModel):
    """Streams its first words, then stalls (by default a model that never finishes in time)."""

    def __init__(self, turns: list[Any], stall_s: float = 30) -> None:
        super().__init__(turns)
        self.stall_s = stall_s

    async def stream(self, *args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
        async for event in super().stream(*args, **kwargs):
            yield event
            if "contentBlockDelta" in event:
                await asyncio.sleep(self.stall_s)


def _runner(engine: Engine, store: SessionStore, model: ScriptedModel, **settings: Any) -> TurnRunner:
    service = make_service(engine, store=store, **settings)
    return TurnRunner(
        service.settings,
        store,
        prices=service.prices,
        model=lambda _name: model,
        clock=service.clock,
        calendar=service.calendar,
        slots=AgentSlots(4),
        zones={},
        owner=service.owner,
    )


def _run(runner: TurnRunner, user: str = "u1") -> tuple[str, list[ChatEvent | None], Any]:
    """Begin a turn on a new session as the service does, run it, and return its events."""
    store = runner.store
    meta = store.create_session(user, model="offline")
    meta = store.begin_turn(
        meta.id,
        user,
        text=QUESTION,
        owner=runner.owner,
        now=runner.clock(),
        rate_window=timedelta(minutes=1),
        decide=lambda _meta, _window: None,
    )
    slot = runner.slots.for_session(meta.id, user)
    slot.lock.acquire()
    sink: queue.SimpleQueue[ChatEvent | None] = queue.SimpleQueue()
    asyncio.run(runner.run(slot, meta, QUESTION, sink))
    events = []
    while not sink.empty():
        events.append(sink.get())
    return meta.id, events, slot


def test_an_answer_ends_with_one_commit_and_the_slot_freed(store_engine: Engine, make_store: MakeStore) -> None:
    store = make_store()
    runner = _runner(store_engine, store, ScriptedModel([Text("Two meetings: board and 1:1.")]))
    session_id, events, slot = _run(runner)
    assert events[-1] is None and isinstance(events[-2], Done)  # None: the stream's end
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Two meetings: board and 1:1."
    done = events[-2]
    assert done.meta.version == store.get_meta(session_id, "u1").version == slot.version
    assert done.meta.turn_count == 1 and done.turn.status == "ok"
    assert store.pending_turn(session_id, "u1") is None  # the question became the turn
    assert not slot.lock.locked() and slot.agent is not None and slot.recorder is None
    doc = store.load(session_id, "u1")
    assert [m["role"] for m in doc.messages] == ["user", "assistant"] and doc.agent_snapshot


def test_a_failed_answer_keeps_the_question_for_retry_bills_the_call_and_drops_the_agent(
    store_engine: Engine, make_store: MakeStore
) -> None:
    store = make_store()
    runner = _runner(store_engine, store, ScriptedModel([Fail(RuntimeError("boom"))]))
    session_id, events, slot = _run(runner)
    assert events[-1] is None and isinstance(events[-2], ErrorEvent) and not any(isinstance(e, Done) for e in events)
    pending = store.pending_turn(session_id, "u1")
    assert pending is not None and (pending.status, pending.text) == ("failed", QUESTION)
    assert pending.error_category == events[-2].category and pending.retryable == events[-2].retryable
    assert store.load(session_id, "u1").messages == []  # nothing half written
    with store_engine.connect() as conn:
        errors = conn.execute(select(db.usage.c.error).where(db.usage.c.session_id == session_id)).scalars().all()
    assert errors and all(errors)
    assert not slot.lock.locked() and slot.agent is None and runner.slots.get(session_id) is None


def test_an_answer_past_the_time_allowed_is_stopped_and_told_as_a_timeout(sqlite_engine: Engine) -> None:
    store = make_service(sqlite_engine).store
    runner = _runner(sqlite_engine, store, SlowModel([Text("Starting to look... and more")]), model_timeout_seconds=1)
    began = time.monotonic()
    session_id, events, slot = _run(runner)
    assert time.monotonic() - began < 15  # not the model's 30 s stall
    error = events[-2]
    assert isinstance(error, ErrorEvent) and error.category == "timeout" and error.retryable
    with sqlite_engine.connect() as conn:
        (row,) = conn.execute(select(db.usage).where(db.usage.c.session_id == session_id)).all()
    assert row.error == "TimeoutError: the model did not finish in time"
    assert row.output_tokens > 0, "what streamed before the stall is billed, so it is counted"
    assert not slot.lock.locked()


def test_a_long_answer_keeps_its_question_shown_as_being_answered(
    store_engine: Engine, make_store: MakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While an answer is written, its process says so every HEARTBEAT_SECONDS: another tab or
    replica shows the question as being answered, never as interrupted with a Retry that would
    send it twice. Each beat is written once (the beats stop with the answer)."""
    monkeypatch.setattr("assistant.chat.runner.HEARTBEAT_SECONDS", 0.1)
    store = make_store()
    beats: list[str] = []
    at: list[float] = []  # when each beat began
    writing: list[float] = []  # how long each beat took to write (S3 on moto: up to ~0.1 s under load)
    write = store.heartbeat_pending

    def counted(session_id: str, owner: str, now: Any) -> None:
        beats.append(session_id)
        at.append(time.monotonic())
        write(session_id, owner, now)
        writing.append(time.monotonic() - at[-1])

    monkeypatch.setattr(store, "heartbeat_pending", counted)
    runner = _runner(store_engine, store, SlowModel([Text("Starting to look... and more")], stall_s=0.3))
    began = time.monotonic()
    session_id, events, slot = _run(runner)
    took = time.monotonic() - began
    assert isinstance(events[-2], Done) and took > 0.5
    assert len(beats) >= 3 and len(beats) <= took / 0.1 + 1 and set(beats) == {session_id}
    # never silent for as long as makes an answering process look gone (PENDING_STALE_AFTER is four
    # beats), however loaded the machine: the count over the whole run (agent built, commit
    # written, when no beat is due) made a loaded CI fail with 7 beats in 1.8 s
    gaps = [later - earlier for earlier, later in itertools.pairwise(at)]
    assert max(gaps) <= 4 * 0.1 + max(writing) + 0.2, gaps
    written = len(beats)
    time.sleep(0.3)
    assert len(beats) == written and not slot.lock.locked()  # the beats stopped with the answer
