"""Reading the conversation: what the user asked this turn and what the tools answered."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from strands.types.content import Messages
from strands.types.tools import ToolSpec

from assistant.models.offline.names import MEETINGS_TOOL


@dataclass
class ToolOutcome:
    """One tool result in the conversation, with the call that asked for it.

    Attributes:
        name: Tool name ("" when the call is not in the conversation).
        input: The tool's input.
        ok: True when the tool succeeded and answered a JSON object.
        data: That JSON object, else None.
        text: The result's text, as the tool returned it.
    """

    name: str
    input: dict[str, Any]
    ok: bool
    data: dict[str, Any] | None
    text: str


@dataclass
class Context:
    """What the model knows about the conversation for the current call."""

    user_text: str
    turn_outcomes: list[ToolOutcome]
    rounds: int
    all_meeting_lists: list[list[dict[str, Any]]]
    previous_answer: str
    available: set[str] = field(default_factory=set)
    today: date | None = None  # the user's date, as the system prompt gives it


# The Meeting Coordinator's prompt: "Today is Saturday 05 December 2026."
_TODAY = re.compile(r"\bToday is (\w+ \d{1,2} \w+ \d{4})\b")


def _today_of(system_prompt: str | None) -> date | None:
    match = _TODAY.search(system_prompt or "")
    try:
        return datetime.strptime(match.group(1), "%A %d %B %Y").date() if match else None
    except ValueError:
        return None


def _text_of(content: Iterable[Any]) -> str:
    return "\n".join(str(block["text"]) for block in content if isinstance(block, dict) and "text" in block)


def result_text(tool_result: dict[str, Any]) -> str:
    """The text of a tool result: its text blocks, and its JSON blocks serialised, one per line.

    Args:
        tool_result: A strands ``toolResult``.

    Returns:
        The text.
    """
    parts: list[str] = []
    for item in tool_result.get("content", []) or []:
        if "text" in item:
            parts.append(str(item["text"]))
        elif "json" in item:
            parts.append(json.dumps(item["json"]))
    return "\n".join(parts)


@lru_cache(maxsize=1024)
def _parse_json(text: str) -> dict[str, Any] | None:
    """A tool result's JSON object (None if it is not one).

    Every model call reads the whole conversation again, so each earlier tool result was parsed
    again on every call: a third of the model's time by a session's 30th turn. A result is
    parsed once per process now; what it returns is only read, never changed.
    """
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_context(messages: Messages, tool_specs: list[ToolSpec] | None, system_prompt: str | None = None) -> Context:
    """Read what this call needs from the conversation.

    Args:
        messages: The conversation so far.
        tool_specs: Tools the agent offers.
        system_prompt: The system prompt (today's date is read from it).

    Returns:
        The latest user text, this turn's tool outcomes and rounds, every meeting list seen,
        the previous answer and the tool names available.
    """
    available = {spec["name"] for spec in tool_specs or []}
    uses: dict[str, tuple[str, dict[str, Any]]] = {}
    outcomes: list[tuple[int, ToolOutcome]] = []
    last_user_text_at = -1
    user_text = ""
    for position, message in enumerate(messages):
        content = message.get("content", [])
        for block in content:
            if "toolUse" in block:
                tool_use = block["toolUse"]
                raw_input = tool_use.get("input", {})
                uses[tool_use["toolUseId"]] = (tool_use["name"], raw_input if isinstance(raw_input, dict) else {})
            if "toolResult" in block:
                tool_result = block["toolResult"]
                name, tool_input = uses.get(tool_result.get("toolUseId", ""), ("", {}))
                text = result_text(dict(tool_result))
                ok = tool_result.get("status", "success") != "error"
                data = _parse_json(text) if ok else None
                outcomes.append((position, ToolOutcome(name, tool_input, ok and data is not None, data, text)))
        if message.get("role") == "user":
            text = _text_of(content).strip()
            if text and not any("toolResult" in block for block in content):
                last_user_text_at = position
                user_text = text

    previous_answer = ""
    rounds = 0
    for position, message in enumerate(messages):
        if message.get("role") != "assistant":
            continue
        if position < last_user_text_at:
            text = _text_of(message.get("content", []))
            if text.strip():
                previous_answer = text
        elif any("toolUse" in block for block in message.get("content", [])):
            rounds += 1

    meeting_lists = [
        list(outcome.data.get("meetings") or [])
        for _, outcome in outcomes
        if outcome.name == MEETINGS_TOOL and outcome.data and isinstance(outcome.data.get("meetings"), list)
    ]
    return Context(
        user_text=user_text,
        turn_outcomes=[outcome for position, outcome in outcomes if position > last_user_text_at],
        rounds=rounds,
        all_meeting_lists=[[m for m in lst if isinstance(m, dict)] for lst in meeting_lists],
        previous_answer=previous_answer,
        available=available,
        today=_today_of(system_prompt),
    )
