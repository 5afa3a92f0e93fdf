"""The stored transcript as the chat page draws it: turns of text and tool steps, titles, tool summaries."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from assistant.sessions.base import UNTITLED, SessionDocument, ToolStep, TurnRecord
from assistant.tool_errors import readable_tool_error

DEFAULT_TITLE = UNTITLED
TOOL_RESULT_PREVIEW_CHARS = 280
STOPPED_EARLY = "(Stopped before the answer started.)"
STOPPED_DURING_TOOL = "(Stopped while a tool was running.)"
# Notes the service writes into the history so it stays one that Converse accepts; the turn's
# "stopped" status says the same thing to the reader, so the pages do not draw them.
STOP_NOTES = frozenset({STOPPED_EARLY, STOPPED_DURING_TOOL})


@dataclass(frozen=True)
class DisplayTurn:
    """One user message and the answer to it, ready to draw."""

    turn: TurnRecord
    user_text: str
    parts: list[tuple[str, Any]]  # ("text", str) | ("tool", ToolStep), in order

    @property
    def answer_text(self) -> str:
        """All answer text of the turn."""
        return "".join(str(p) for k, p in self.parts if k == "text")


def build_display_turns(doc: SessionDocument) -> list[DisplayTurn]:
    """Turn a stored transcript into drawable turns (text and tool steps in order)."""
    out: list[DisplayTurn] = []
    for turn in doc.turns:
        msgs = doc.messages[turn.first_message_idx : turn.end_message_idx]
        steps = {s.tool_use_id: s for s in turn.tool_steps}
        parts: list[tuple[str, Any]] = []
        user_text = turn.user_text
        for m in msgs:
            if m.get("role") != "assistant":
                continue
            for block in m.get("content", []):
                if block.get("text") in STOP_NOTES:
                    continue  # the turn's "stopped" note says it
                if block.get("text"):
                    if parts and parts[-1][0] == "text":
                        parts[-1] = ("text", parts[-1][1] + "\n\n" + block["text"])
                    else:
                        parts.append(("text", block["text"]))
                elif "toolUse" in block:
                    parts.append(("tool", tool_step(block["toolUse"], steps, msgs)))
        out.append(DisplayTurn(turn=turn, user_text=user_text, parts=parts))
    return out


def tool_step(tool_use: dict[str, Any], steps: dict[str, ToolStep], messages: list[dict[str, Any]]) -> ToolStep:
    """The step of one toolUse block: as recorded while it ran, else as the transcript's toolResult says.

    A tool that never ran (the answer was stopped while the model was still writing the call)
    has no recorded step; its result in the transcript is the cancellation ("error"). It was
    drawn and exported as a success with no result.

    Args:
        tool_use: The ``toolUse`` block of an assistant message.
        steps: The turn's recorded steps by ``toolUseId``.
        messages: The turn's messages (where the ``toolResult`` is).

    Returns:
        The step to draw or export.
    """
    tool_use_id = str(tool_use.get("toolUseId", ""))
    recorded = steps.get(tool_use_id)
    if recorded is not None:
        return recorded
    step = ToolStep(
        tool_use_id=tool_use_id, name=str(tool_use.get("name", "")), input=dict(tool_use.get("input") or {})
    )
    for m in messages:
        for block in m.get("content", []) if m.get("role") == "user" else ():
            result = block.get("toolResult") if isinstance(block, dict) else None
            if isinstance(result, dict) and str(result.get("toolUseId", "")) == tool_use_id:
                status: Literal["success", "error"] = "error" if result.get("status") == "error" else "success"
                return ToolStep(step.tool_use_id, step.name, step.input, status, summarize_tool_result(result))
    return step


def derive_title(text: str, limit: int = 80) -> str:
    """A session title from the first user message (first line, cut at a word boundary)."""
    line = " ".join(text.strip().split())
    if len(line) <= limit:
        return line or DEFAULT_TITLE
    cut = line[:limit].rsplit(" ", 1)[0]
    return (cut or line[:limit]).rstrip(",.;:") + "…"


def summarize_tool_result(result: dict[str, Any]) -> str:
    """A short, human summary of a strands ToolResult."""
    texts = []
    for block in result.get("content", []):
        if "text" in block:
            texts.append(str(block["text"]))
        elif "json" in block:
            texts.append(json.dumps(block["json"]))
    raw = "\n".join(texts).strip()
    with contextlib.suppress(ValueError, TypeError):
        data = json.loads(raw)
        if isinstance(data, dict) and isinstance(data.get("summary"), str):
            return str(data["summary"])
    raw = readable_tool_error(raw)
    return raw if len(raw) <= TOOL_RESULT_PREVIEW_CHARS else raw[: TOOL_RESULT_PREVIEW_CHARS - 1] + "…"
