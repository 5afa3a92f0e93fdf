"""Every store (SQLite, Postgres, S3 on moto) with what strands really produces.

The turns committed here come from a real strands ``Agent`` answering through the scripted
model: toolUse/toolResult pairs, a redacted-reasoning block holding raw bytes, usage metadata,
and the agent's own snapshot. What a store gives back must restore an agent whose history
Bedrock's Converse API accepts, with the bytes back as bytes, in a new "process".
"""

from __future__ import annotations

import json
from typing import Any

from strands import Agent, tool
from strands.session import SnapshotSessionManager

from assistant.sessions.base import SessionQuery, TurnCommit, TurnRecord, utcnow
from assistant.sessions.snapshot_storage import TurnSnapshotStorage, capture_snapshot
from tests.fixtures.scripted_model import ScriptedModel, Text, ToolCall, converse_violations
from tests.fixtures.stores import MakeStore

SECRET_BYTES = b"\x00\xffopaque\x01thinking"


@tool
def room_for(meeting: str) -> str:
    """Which room a meeting is in.

    Args:
        meeting: The meeting's title.
    """
    return f"{meeting} is in room 4B"


def _agent(model: ScriptedModel, snapshot: dict[str, Any] | None = None, session_id: str = "s") -> Agent:
    storage = TurnSnapshotStorage(snapshot)
    manager = SnapshotSessionManager(session_id, storage=storage, save_latest_on="trigger")
    return Agent(model=model, tools=[room_for], session_manager=manager, callback_handler=None)


def _turn(agent: Agent, question: str, idx: int, first: int) -> TurnCommit:
    before = len(agent.messages)
    agent(question)
    messages = [{"role": m["role"], "content": m["content"]} for m in agent.messages[before:]]
    now = utcnow()
    record = TurnRecord(
        idx=idx,
        user_text=question,
        started_at=now,
        ended_at=now,
        status="ok",
        first_message_idx=first,
        end_message_idx=first + len(messages),
        model="scripted",
    )
    return TurnCommit(messages=messages, turn=record, agent_snapshot=capture_snapshot(agent), usage=[])


def _script() -> list[Any]:
    return [
        ToolCall("room_for", {"meeting": "Acme QBR"}),
        Text("The Acme QBR is in room 4B.", redacted_reasoning=SECRET_BYTES),
        ToolCall("room_for", {"meeting": "Board prep"}),
        Text("Board prep is in room 4B too."),
    ]


def test_real_agent_turns_round_trip_and_restore_on_every_store(make_store: MakeStore) -> None:
    store = make_store()
    meta = store.create_session("u1", model="scripted")
    model = ScriptedModel(_script())
    agent = _agent(model, session_id=meta.id)
    first = _turn(agent, "Where is the Acme QBR?", 0, 0)
    store.commit_turn(meta.id, "u1", expected_version=0, commit=first)
    # the live agent goes on after the commit: the stored turn must not follow it
    second = _turn(agent, "And board prep?", 1, len(first.messages))
    doc_after_first = make_store().load(meta.id, "u1")
    assert len(doc_after_first.messages) == len(first.messages) == 4
    store.commit_turn(meta.id, "u1", expected_version=1, commit=second)
    # actions after an answer holding bytes, in this process and in another one
    store.rename(meta.id, "u1", "Rooms")
    store.set_feedback(meta.id, "u1", 0, -1)
    other = make_store()
    other.set_feedback(meta.id, "u1", 1, 1)
    doc = other.load(meta.id, "u1")
    assert [t.feedback for t in doc.turns] == [-1, 1] and doc.meta.title == "Rooms"
    assert len(doc.messages) == 8
    tool_uses = [b["toolUse"]["toolUseId"] for m in doc.messages for b in m["content"] if "toolUse" in b]
    tool_results = [b["toolResult"]["toolUseId"] for m in doc.messages for b in m["content"] if "toolResult" in b]
    assert tool_uses == tool_results and len(tool_uses) == 2
    json.dumps(doc.messages)  # what a page or an export gets is plain JSON
    # a new process restores the agent strands' way: bytes are bytes again, history is valid
    restored_model = ScriptedModel(["Both are in room 4B."])
    restored = _agent(restored_model, doc.agent_snapshot, session_id=meta.id)
    reasoning = [b for m in restored.messages for b in m["content"] if "reasoningContent" in b]
    assert reasoning and reasoning[0]["reasoningContent"]["redactedContent"] == SECRET_BYTES
    restored("Summarise")
    assert restored_model.violations == []
    assert converse_violations([*restored.messages, {"role": "user", "content": [{"text": "next"}]}]) == []
    assert store.set_state(meta.id, "u1", "completed").state == "completed"
    found, total = make_store().list_sessions(SessionQuery(user_id="u1", text="room 4b"))
    assert total == 1 and found[0].id == meta.id


def test_continued_session_carries_a_snapshot_with_bytes_on_every_store(make_store: MakeStore) -> None:
    store = make_store()
    meta = store.create_session("u1", model="scripted")
    agent = _agent(ScriptedModel(_script()), session_id=meta.id)
    store.commit_turn(meta.id, "u1", expected_version=0, commit=_turn(agent, "Where is the Acme QBR?", 0, 0))
    store.set_state(meta.id, "u1", "completed")
    doc = store.load(meta.id, "u1")
    new = store.create_session("u1", model="scripted", continued_from=meta.id, seed_snapshot=doc.agent_snapshot)
    seeded = make_store().load(new.id, "u1")
    model = ScriptedModel(["Still room 4B."])
    resumed = _agent(model, seeded.agent_snapshot, session_id=new.id)
    resumed("Which room again?")
    assert model.violations == []
    sent = model.requests[0].messages
    assert any("reasoningContent" in b for m in sent for b in m["content"])
