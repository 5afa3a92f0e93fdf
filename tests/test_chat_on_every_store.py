"""ChatService turns, faults, stops and session actions on every store (SQLite, Postgres, S3 on moto).

Real strands agents answer through :class:`tests.fixtures.scripted_model.ScriptedModel`, which
refuses any request that Bedrock's Converse API would refuse; the histories hold real
toolUse/toolResult pairs and bytes (redacted reasoning), as Claude on Bedrock produces them.
"""

from __future__ import annotations

import json
from typing import Any

from assistant.chat import ChatService, Done, ErrorEvent, build_display_turns
from assistant.sessions.base import SessionQuery
from tests.fixtures.chat import make_service
from tests.fixtures.scripted_model import Fail, ScriptedModel, Text, ToolCall, converse_violations
from tests.fixtures.stores import MakeStore

QUESTION = "What meetings do I have this week?"


def _service(store_engine: Any, make_store: MakeStore, model: ScriptedModel) -> ChatService:
    return make_service(store_engine, model=lambda _name: model, store=make_store())


def _user_texts(messages: list[dict[str, Any]]) -> list[str]:
    return [b["text"] for m in messages if m["role"] == "user" for b in m["content"] if "text" in b]


def _assert_resumable(messages: list[dict[str, Any]]) -> None:
    """The stored history, followed by a new question, is a request Converse accepts."""
    follow = [*messages, {"role": "user", "content": [{"text": "next question"}]}]
    assert converse_violations(follow) == []


def test_model_failure_after_a_tool_then_retry_stores_one_clean_turn(store_engine, make_store) -> None:
    model = ScriptedModel(
        [
            Text("Hello! I can prepare you for your meetings."),
            ToolCall("get_upcoming_meetings", {"days_ahead": 7}),
            Fail(RuntimeError("the model connection dropped")),
            ToolCall("get_upcoming_meetings", {"days_ahead": 7}),
            Text("You have six meetings this week."),
            Text("Your budget is on track."),
        ]
    )
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    assert isinstance(service.run_turn(meta.id, "u1", "Hello")[-1], Done)
    failed = service.run_turn(meta.id, "u1", QUESTION)
    assert isinstance(failed[-1], ErrorEvent) and failed[-1].retryable
    retried = service.run_turn(meta.id, "u1", QUESTION)
    assert isinstance(retried[-1], Done), retried[-1]
    assert model.violations == [], "the retry must not see the failed attempt's messages"
    doc = service.open_session(meta.id, "u1")
    assert _user_texts(doc.messages) == ["Hello", QUESTION]
    assert [t.user_text for t in doc.turns] == ["Hello", QUESTION]
    _assert_resumable(doc.messages)
    # a new process resumes the stored agent: its request is valid too
    other = _service(store_engine, make_store, model)
    assert isinstance(other.run_turn(meta.id, "u1", "And my budget?")[-1], Done)
    assert model.violations == []


def test_session_actions_after_an_answer_whose_history_holds_bytes(store_engine, make_store) -> None:
    model = ScriptedModel(
        [
            ToolCall("get_upcoming_meetings", {"days_ahead": 7}),
            Text("Six meetings this week.", redacted_reasoning=b"\x00\x01\xffopaque-thinking"),
            Text("Picked up where we left off."),
        ]
    )
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    assert isinstance(service.run_turn(meta.id, "u1", QUESTION)[-1], Done)
    assert service.rename(meta.id, "u1", "Week prep").title == "Week prep"
    service.set_feedback(meta.id, "u1", 0, 1)
    assert service.open_session(meta.id, "u1").turns[0].feedback == 1
    assert service.complete(meta.id, "u1").state == "completed"
    new = service.continue_session(meta.id, "u1")
    assert isinstance(service.run_turn(new.id, "u1", "Continue please")[-1], Done)
    assert model.violations == []
    # the continued agent got the bytes back as bytes (strands' own encoding round-trips)
    sent = model.requests[-1].messages
    assert any("reasoningContent" in b for m in sent for b in m["content"])


def test_stop_during_a_tool_call_leaves_a_history_converse_accepts(store_engine, make_store) -> None:
    holder: dict[str, Any] = {}
    model = ScriptedModel(
        [
            ToolCall("get_upcoming_meetings", {"days_ahead": 7}, then=lambda: holder["stop"]()),
            Text("Your budget is on track."),
        ]
    )
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    holder["stop"] = lambda: service.stop(meta.id)
    stopped = service.run_turn(meta.id, "u1", QUESTION)
    assert isinstance(stopped[-1], Done) and stopped[-1].turn.status == "stopped"
    doc = service.open_session(meta.id, "u1")
    _assert_resumable(doc.messages)
    shown = build_display_turns(doc)[0]
    assert any(kind == "tool" for kind, _ in shown.parts), "the tool step stays visible"
    # the next question goes through, in this process and in a new one
    assert isinstance(service.run_turn(meta.id, "u1", "What is my budget?")[-1], Done)
    assert model.violations == []
    _assert_resumable(service.open_session(meta.id, "u1").messages)


def test_guardrail_redaction_is_what_gets_stored_everywhere(store_engine, make_store) -> None:
    secret = "my card number is 4111 1111 1111 1111"
    model = ScriptedModel([Text("I can't help with that request.", redact_user="[input removed by guardrail]")])
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    done = service.run_turn(meta.id, "u1", secret)[-1]
    assert isinstance(done, Done)
    doc = service.open_session(meta.id, "u1")
    stored = json.dumps([doc.messages, [t.to_dict() for t in doc.turns], doc.meta.title, doc.agent_snapshot])
    assert "4111" not in stored
    assert _user_texts(doc.messages) == ["[input removed by guardrail]"]
    assert "4111" not in done.turn.user_text and "4111" not in done.meta.title
    found, total = service.store.list_sessions(SessionQuery(user_id="u1", text="4111"))
    assert total == 0 and found == []


def test_control_characters_from_the_model_are_stored_and_searchable(store_engine, make_store) -> None:
    model = ScriptedModel([Text("Budget\x00 review is\x07 on track\x1b[0m.")])
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    done = service.run_turn(meta.id, "u1", "How is the budget review?")[-1]
    assert isinstance(done, Done), done
    _, total = service.store.list_sessions(SessionQuery(user_id="u1", text="on track"))
    assert total == 1
    fresh = _service(store_engine, make_store, model)
    assert fresh.open_session(meta.id, "u1").turns[0].status == "ok"
