"""Conversations in strands' message shapes for the offline model's reading and composing tests."""

from __future__ import annotations

from typing import Any

from strands.types.content import Messages
from strands.types.tools import ToolSpec

from assistant.models.offline.names import AGENDA_TOOL, BUDGET_TOOL, MEETINGS_TOOL, ROCKS_TOOL, SAVE_TOOL

SPECS: list[ToolSpec] = [
    {"name": name, "description": "", "inputSchema": {"json": {}}}
    for name in (MEETINGS_TOOL, BUDGET_TOOL, SAVE_TOOL, AGENDA_TOOL, ROCKS_TOOL)
]


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text}]}


def assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"text": text}]}


def call(name: str, tool_input: Any, use_id: str = "t1") -> dict[str, Any]:
    return {"role": "assistant", "content": [{"toolUse": {"toolUseId": use_id, "name": name, "input": tool_input}}]}


def result(answer: Any, use_id: str = "t1", status: str = "success") -> dict[str, Any]:
    content = [{"json": answer}] if isinstance(answer, dict) else [{"text": str(answer)}]
    return {"role": "user", "content": [{"toolResult": {"toolUseId": use_id, "status": status, "content": content}}]}


def turn(asked: str, name: str, answer: Any, tool_input: Any = None, status: str = "success") -> Messages:
    """One turn: the question, one tool call and its result."""
    return [user(asked), call(name, tool_input or {}), result(answer, status=status)]  # type: ignore[list-item]
