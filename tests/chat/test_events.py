"""What a turn streams to its caller (``chat/events.py``): the events a page or the CLI draws, and the refusals."""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from assistant.chat.events import (
    ChatEvent,
    ChatInputError,
    Done,
    ErrorEvent,
    LimitExceededError,
    ModelChoiceError,
    TextDelta,
    ToolFinished,
    ToolStarted,
    UsageEvent,
)
from tests.fixtures.chat import make_service
from tests.fixtures.scripted_model import Fail, ScriptedModel, Text, ToolCall

EVENT_TYPES = typing.get_args(ChatEvent)


def test_each_event_type_has_its_own_kind_and_cannot_be_changed_once_sent() -> None:
    kinds = [t.__dataclass_fields__["kind"].default for t in EVENT_TYPES]
    assert len(set(kinds)) == len(kinds) == 6  # callers dispatch on ``kind``
    delta = TextDelta("Board")
    with pytest.raises(dataclasses.FrozenInstanceError):
        delta.text = "changed"  # type: ignore[misc]


def test_a_turn_streams_its_text_tools_and_usage_and_ends_with_one_done(sqlite_engine: Engine) -> None:
    model = ScriptedModel([ToolCall("get_big_rocks_status", {}, tool_use_id="t1"), Text("Two rocks are **on track**.")])
    service = make_service(sqlite_engine, model=lambda _name: model)
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", "How are my big rocks?")
    assert all(isinstance(e, EVENT_TYPES) for e in events)
    assert isinstance(events[-1], Done) and not any(isinstance(e, Done | ErrorEvent) for e in events[:-1])
    started = [e for e in events if isinstance(e, ToolStarted)]
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [(e.tool_use_id, e.name) for e in started] == [("t1", "get_big_rocks_status")]
    assert [(e.tool_use_id, e.status) for e in finished] == [("t1", "success")]
    assert events.index(started[0]) < events.index(finished[0])
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Two rocks are **on track**."
    assert len([e for e in events if isinstance(e, UsageEvent)]) == events[-1].turn.model_calls == 2
    assert events[-1].meta.turn_count == 1


def test_a_failed_turn_ends_with_one_error_event_and_no_done(sqlite_engine: Engine) -> None:
    model = ScriptedModel([Fail(RuntimeError("provider exploded"))])
    service = make_service(sqlite_engine, model=lambda _name: model)
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", "How are my big rocks?")
    assert isinstance(events[-1], ErrorEvent)
    assert not any(isinstance(e, Done | ErrorEvent) for e in events[:-1])
    assert events[-1].message and "provider exploded" not in events[-1].message  # never the raw exception


def test_a_limit_refusal_says_when_it_frees_up_and_keeps_a_reason_without_the_clock() -> None:
    at = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    plain = LimitExceededError("Daily budget reached; try again after 00:00 UTC.")
    assert (str(plain), plain.reason, plain.retry_at) == (plain.reason, str(plain), None)
    timed = LimitExceededError("Too many messages; try again at 09:30 UTC.", at, reason="Too many messages.")
    assert (timed.retry_at, timed.reason) == (at, "Too many messages.")
    assert "09:30 UTC" in str(timed)


def test_a_refused_model_is_a_refused_input() -> None:
    # the CLI and the chat page show any ChatInputError as a message, never a traceback
    assert issubclass(ModelChoiceError, ChatInputError) and issubclass(ChatInputError, ValueError)
