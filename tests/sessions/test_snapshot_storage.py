"""assistant/sessions/snapshot_storage.py with a real strands Agent answering through the scripted model.

``capture_snapshot`` takes the agent's session snapshot at the end of a turn; the session
store keeps it as JSON; ``TurnSnapshotStorage`` serves it back to strands'
``SnapshotSessionManager(save_latest_on="trigger")``, which restores a new agent from it.
Whatever strands writes is ignored: only the session store decides what is kept.
"""

from __future__ import annotations

import json
from typing import Any

from strands import Agent, tool
from strands.session import SnapshotSessionManager

from assistant.sessions import jsonutil
from assistant.sessions.snapshot_storage import (
    TRANSCRIPT_TAIL,
    TurnSnapshotStorage,
    capture_snapshot,
    expand_snapshot,
    next_tail,
    stored_form,
)
from tests.fixtures.scripted_model import ScriptedModel, Text, ToolCall, converse_violations

SECRET_BYTES = b"\x00\xffredacted\x01reasoning"
LATEST_KEY = "session_s1/agents/agent_default/snapshot_latest.json"


@tool
def room_for(meeting: str) -> str:
    """Which room a meeting is in.

    Args:
        meeting: The meeting's title.
    """
    return f"{meeting} is in room 4B"


def _agent(
    model: ScriptedModel, storage: TurnSnapshotStorage, session_id: str = "s1"
) -> tuple[Agent, SnapshotSessionManager]:
    manager = SnapshotSessionManager(session_id, storage=storage, save_latest_on="trigger")
    agent = Agent(model=model, tools=[room_for], session_manager=manager, callback_handler=None)
    return agent, manager


def _answered_agent() -> Agent:
    """An agent after one turn: a tool call, then an answer led by redacted reasoning (bytes)."""
    agent, _ = _agent(
        ScriptedModel(
            [
                ToolCall("room_for", {"meeting": "Acme QBR"}),
                Text("The Acme QBR is in room 4B.", redacted_reasoning=SECRET_BYTES),
            ]
        ),
        TurnSnapshotStorage(),
    )
    agent("Where is the Acme QBR?")
    agent.state.set("focus_meeting", "mtg-002")
    return agent


def _as_stored(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot as a session store gives it back: written with jsonutil, read as JSON."""
    loaded: dict[str, Any] = json.loads(jsonutil.dumps(snapshot))
    return loaded


def _reasoning_bytes(messages: list[Any]) -> list[Any]:
    return [b["reasoningContent"]["redactedContent"] for m in messages for b in m["content"] if "reasoningContent" in b]


def test_capture_is_strands_own_session_snapshot_without_copying_the_conversation() -> None:
    agent = _answered_agent()

    snapshot = capture_snapshot(agent)

    expected = agent.take_snapshot(preset="session").to_dict()
    assert {k: v for k, v in snapshot.items() if k != "created_at"} == {
        k: v for k, v in expected.items() if k != "created_at"
    }
    assert snapshot["data"]["messages"] is agent.messages  # by reference: the store serialises it once
    assert _reasoning_bytes(snapshot["data"]["messages"]) == [SECRET_BYTES]


def test_a_new_agent_restores_the_stored_snapshot_bytes_included() -> None:
    agent = _answered_agent()
    stored = _as_stored(capture_snapshot(agent))
    assert "__bytes_encoded__" in json.dumps(stored)  # bytes are stored strands' way, not as a repr

    model = ScriptedModel(["Both are in room 4B."])
    restored, _ = _agent(model, TurnSnapshotStorage(stored))

    assert restored.messages == agent.messages
    assert _reasoning_bytes(restored.messages) == [SECRET_BYTES]
    assert restored.state.get("focus_meeting") == "mtg-002"
    restored("And board prep?")
    assert model.violations == []
    sent = model.requests[0].messages
    assert len(sent) == len(agent.messages) + 1
    assert any("reasoningContent" in b for m in sent for b in m["content"])
    assert converse_violations([*restored.messages, {"role": "user", "content": [{"text": "next"}]}]) == []


def test_the_snapshot_dict_is_accepted_before_it_is_stored_too() -> None:
    agent = _answered_agent()

    restored, _ = _agent(ScriptedModel([]), TurnSnapshotStorage(capture_snapshot(agent)))

    assert restored.messages == agent.messages


class _WritesSeen(TurnSnapshotStorage):
    """The real storage, noting the keys strands asked to write."""

    def __init__(self, committed: dict[str, Any] | None = None) -> None:
        super().__init__(committed)
        self.written: list[str] = []

    async def write(self, key: str, data: bytes) -> None:
        self.written.append(key)
        await super().write(key, data)


def test_strands_writes_are_ignored_so_the_committed_snapshot_stays() -> None:
    first = _answered_agent()
    storage = _WritesSeen(_as_stored(capture_snapshot(first)))
    # a guardrail redaction makes strands write snapshot_latest even under save_latest_on="trigger"
    model = ScriptedModel([Text("I can't help with that.", redact_user="[redacted]")])
    agent, manager = _agent(model, storage)
    agent("Tell me the board's private numbers")
    manager.sync_agent(agent)
    assert len(agent.messages) == len(first.messages) + 2
    assert storage.written and all(key.endswith("snapshot_latest.json") for key in storage.written)

    again, _ = _agent(ScriptedModel([]), storage)

    assert again.messages == first.messages


def test_without_a_snapshot_a_new_agent_starts_empty() -> None:
    agent, _ = _agent(ScriptedModel(["Hello."]), TurnSnapshotStorage())

    assert agent.messages == []
    agent("Hi")
    assert [m["role"] for m in agent.messages] == ["user", "assistant"]


def test_reset_switches_the_snapshot_served_to_the_next_agent() -> None:
    first = _answered_agent()
    storage = TurnSnapshotStorage()
    storage.reset(_as_stored(capture_snapshot(first)))

    resumed, _ = _agent(ScriptedModel([]), storage)
    assert resumed.messages == first.messages

    storage.reset(None)
    fresh, _ = _agent(ScriptedModel([]), storage)
    assert fresh.messages == []


async def test_storage_protocol_serves_only_snapshot_latest() -> None:
    snapshot = _as_stored(capture_snapshot(_answered_agent()))
    storage = TurnSnapshotStorage(snapshot)
    served = await storage.read(LATEST_KEY)
    assert served is not None and json.loads(served) == snapshot

    await storage.write(LATEST_KEY, b'{"overwritten": true}')
    await storage.delete(LATEST_KEY)

    assert await storage.read(LATEST_KEY) == served
    assert await storage.read("session_s1/agents/agent_default/snapshots/0001.json") is None
    assert await storage.list("session_s1/") == []
    assert await storage.search("room 4B") == []
    assert await TurnSnapshotStorage().read(LATEST_KEY) is None


def _stored_messages(agent: Agent) -> list[dict[str, Any]]:
    """The agent's messages as the transcript stores them (written with jsonutil, read as JSON)."""
    stored: list[dict[str, Any]] = json.loads(jsonutil.dumps(agent.messages))
    return stored


def test_a_snapshot_whose_conversation_is_the_transcript_refers_to_it_and_reads_back_whole() -> None:
    agent = _answered_agent()
    transcript = _stored_messages(agent)
    # what a resumed agent's slot holds: the stored messages, bytes decoded as strands decodes them
    compact = _as_stored(capture_snapshot(agent, stored_form(transcript)))
    assert compact["data"]["messages"] == []
    assert compact["app_data"] == {TRANSCRIPT_TAIL: len(agent.messages)}
    assert len(jsonutil.dumps(compact)) < len(jsonutil.dumps(capture_snapshot(agent))) / 2
    whole = expand_snapshot(compact, transcript)
    assert whole is not None and whole["data"]["messages"] == transcript and whole["app_data"] == {}
    assert compact["data"]["messages"] == [], "the stored snapshot itself is not changed"
    # a new agent restored from it has the whole conversation back, the bytes as bytes
    model = ScriptedModel([Text("Room 4B, as I said.")])
    restored, _ = _agent(model, TurnSnapshotStorage(whole))
    assert len(restored.messages) == len(agent.messages)
    assert _reasoning_bytes(restored.messages) == [SECRET_BYTES]
    assert restored.state.get("focus_meeting") == "mtg-002"
    restored("And who is coming?")
    assert model.violations == [] and len(model.requests[-1].messages) == len(agent.messages) + 1


def test_a_history_edited_in_place_is_stored_whole_not_referred_to() -> None:
    agent = _answered_agent()
    tail = next_tail([], [dict(m) for m in agent.messages], kept=len(agent.messages))
    assert tail is not None and len(tail) == len(agent.messages)
    # strands cuts an oversized tool result down in place to fit the context: the transcript keeps the original
    result = next(b["toolResult"] for m in agent.messages for b in m["content"] if "toolResult" in b)
    result["content"] = [{"text": "The tool result was too large!"}]
    snapshot = capture_snapshot(agent, tail)
    assert TRANSCRIPT_TAIL not in snapshot["app_data"]
    assert snapshot["data"]["messages"] is agent.messages  # stored whole, as the agent has it
    # fewer stored messages than the agent holds: not the transcript's tail either
    assert TRANSCRIPT_TAIL not in capture_snapshot(agent, tail[1:] if tail else None)["app_data"]
    assert TRANSCRIPT_TAIL not in capture_snapshot(agent, None)["app_data"]


def test_a_snapshot_written_before_or_referring_to_more_than_is_stored_reads_as_it_can() -> None:
    agent = _answered_agent()
    old = _as_stored(capture_snapshot(agent))  # holds its messages, as every snapshot did before
    assert expand_snapshot(old, []) is old
    assert expand_snapshot(None, []) is None
    compact = _as_stored(capture_snapshot(agent, stored_form(agent.messages)))  # type: ignore[arg-type]
    short = _stored_messages(agent)[2:]
    expanded = expand_snapshot(compact, short)
    assert expanded is not None and expanded["data"]["messages"] == short  # damaged: what is stored, not an error
