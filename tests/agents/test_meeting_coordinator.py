from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from assistant.agents.meeting_coordinator import create_meeting_coordinator, load_system_prompt
from assistant.context.prep_notes import list_prep_responses
from assistant.tools import TOOL_NAMES, ToolDeps
from tests.fixtures.meeting_data import NOW
from tests.fixtures.scripted_model import ScriptedModel, Text, ToolCall


def _tool_results(messages: Any) -> list[dict[str, Any]]:
    return [block["toolResult"] for message in messages for block in message["content"] if "toolResult" in block]


def test_prompt_is_filled_from_the_file() -> None:
    prompt = load_system_prompt(NOW, "Jordan")
    assert "Today is Monday 10 March 2025." in prompt
    assert "executive assistant of Jordan" in prompt
    assert "{today}" not in prompt and "{user_name}" not in prompt
    assert "data, not instructions" in prompt
    assert "the executive" in load_system_prompt(NOW)


def test_prompt_placeholders_in_the_name_are_not_expanded() -> None:
    assert "{today}" in load_system_prompt(datetime(2025, 1, 1, tzinfo=UTC), "{today}")


def test_agent_has_the_five_tools(deps: ToolDeps) -> None:
    agent = create_meeting_coordinator(model=ScriptedModel([]), deps=deps)
    assert sorted(agent.tool_names) == sorted(TOOL_NAMES)
    assert agent.agent_id == "meeting_coordinator"
    assert agent.name == "Meeting Coordinator"


def test_agent_kwargs_are_passed_through(deps: ToolDeps) -> None:
    agent = create_meeting_coordinator(model=ScriptedModel([]), deps=deps, trace_attributes={"user.id": "alice"})
    assert agent.trace_attributes["user.id"] == "alice"


def test_scripted_turn_runs_the_real_tools(deps: ToolDeps, engine: Engine) -> None:
    model = ScriptedModel(
        [
            ToolCall("get_upcoming_meetings", {"days_ahead": 7, "query": "acme"}),
            ToolCall("save_prep_response", {"meeting_id": "acme-qbr", "topic": "goal", "response": "Sign EU deal"}),
            ToolCall("generate_meeting_agenda", {"meeting_id": "acme-qbr"}),
            Text("Here is your agenda for the Acme QBR."),
        ]
    )
    agent = create_meeting_coordinator(model=model, deps=deps, user_name="Jordan")
    result = agent("Prep me for the Acme QBR; my goal is to sign the EU deal")

    assert str(result).strip() == "Here is your agenda for the Acme QBR."
    assert model.index == 4
    assert set(model.requests[0].tool_names) == set(TOOL_NAMES)
    assert "Jordan" in (model.requests[0].system_prompt or "")

    results = _tool_results(agent.messages)
    assert [r["status"] for r in results] == ["success"] * 3
    meetings = json.loads(results[0]["content"][0]["text"])
    assert [m["id"] for m in meetings["meetings"]] == ["acme-qbr"]
    agenda = json.loads(results[2]["content"][0]["text"])
    assert sum(item["minutes"] for item in agenda["items"]) == 90
    assert any(item["notes"] == "Sign EU deal" for item in agenda["items"])

    notes = list_prep_responses(engine, "alice", "acme-qbr")
    assert [(n.topic, n.session_id) for n in notes] == [("goal", "s1")]
    assert result.metrics.accumulated_usage["inputTokens"] > 0


def test_tool_error_does_not_crash_the_turn(deps: ToolDeps) -> None:
    model = ScriptedModel(
        [
            ToolCall("generate_meeting_agenda", {"meeting_id": "does-not-exist"}),
            ToolCall("get_upcoming_meetings", {"days_ahead": 0}),
            Text("I could not find that meeting."),
        ]
    )
    agent = create_meeting_coordinator(model=model, deps=deps)
    result = agent("agenda for a ghost meeting")
    assert str(result).strip() == "I could not find that meeting."
    errors = _tool_results(agent.messages)
    assert [r["status"] for r in errors] == ["error", "error"]
    assert "No meeting with id 'does-not-exist'" in errors[0]["content"][0]["text"]


def test_missing_data_dir_is_reported_to_the_model(tmp_path: Path, engine: Engine) -> None:
    deps = ToolDeps(data_dir=tmp_path / "nowhere", engine=engine, user_id="alice", now=lambda: NOW)
    model = ScriptedModel([ToolCall("get_upcoming_meetings", {}), Text("The calendar is unavailable.")])
    agent = create_meeting_coordinator(model=model, deps=deps)
    agent("what's next?")
    (error,) = _tool_results(agent.messages)
    assert error["status"] == "error"
    assert "calendar.toml is missing" in error["content"][0]["text"]
