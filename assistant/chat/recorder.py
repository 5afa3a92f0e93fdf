"""What strands reports during one turn (hooks and stream events), kept for the turn's single commit.

The hooks are bound to an :class:`~assistant.chat.slots.AgentSlot` (one live agent per
session) and write into its current :class:`TurnRecorder`: the messages strands added (by
reference: strands edits a message in place when a guardrail redacts it), each model call's
timing and usage, and each tool step.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from strands import Agent
from strands.hooks import (
    AfterModelCallEvent,
    AfterToolCallEvent,
    BeforeModelCallEvent,
    BeforeToolCallEvent,
    HookProvider,
    HookRegistry,
    MessageAddedEvent,
)
from strands.types.exceptions import ModelThrottledException

from assistant.chat.bridge import EventSink
from assistant.chat.display import STOPPED_DURING_TOOL, STOPPED_EARLY, summarize_tool_result
from assistant.chat.events import ChatEvent, TextDelta, ToolFinished, ToolStarted
from assistant.chat.limits import ledger_model_id
from assistant.chat.slots import AgentSlot
from assistant.inputs import ends_with_high_surrogate, strip_control_chars, whole_characters
from assistant.sessions.base import SessionMeta, ToolStep, UsageRecord, utcnow
from assistant.usage.pricing import PriceTable

logger = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4
"""The usual rule of thumb for English text, used only for a call the provider did not report."""


def _text_chars(value: Any) -> int:
    """Characters of text in a message list, a tool spec or a content block (bytes count none)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(len(str(k)) + _text_chars(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return sum(_text_chars(v) for v in value)
    if value is None or isinstance(value, bytes | bytearray):
        return 0
    return len(str(value))


def estimated_usage(agent: Agent, streamed: str) -> dict[str, int]:
    """Tokens of a model call cut short (Stop, or a stream that failed after it began).

    Such a stream never reaches the provider's usage report, which comes last, yet the provider
    bills what it read and what it wrote until then. Recording zero made a stopped turn look
    free; this counts the request (system prompt, history, tool specs) and the text streamed
    at :data:`CHARS_PER_TOKEN` characters a token. Images and documents are not counted.
    """
    sent = (
        len(agent.system_prompt or "")
        + _text_chars(agent.messages)
        + _text_chars(agent.tool_registry.get_all_tool_specs())
    )
    return {
        "input": math.ceil(sent / CHARS_PER_TOKEN),
        "output": math.ceil(len(streamed) / CHARS_PER_TOKEN),
        "cache_read": 0,
        "cache_write": 0,
    }


def time_out_call(agent: Agent, rec: TurnRecorder) -> None:
    """Mark the call the turn's timeout cut off as failed, with its tokens estimated if its stream had begun.

    The timeout cancels the stream: strands ends the call without an exception or a usage report,
    and the ledger kept a call the provider bills as $0 and without an error.
    """
    call = rec.current_call
    if call is None or call.error is not None or call.message_stop:
        return
    call.ended = call.ended or time.perf_counter()
    call.error = "TimeoutError: the model did not finish in time"
    if call.first_token is not None and not any(call.usage.values()):
        call.usage = estimated_usage(agent, rec.current_text)


def _count_cut_off_text(call: _Call, message: Any, streamed: str) -> None:
    """Bill a stream that ended before its message was done for the text it streamed.

    Such a stream never reaches its usage report: Anthropic's opening ``message_start`` says
    1 output token, and the call was billed that for a paragraph already shown.
    """
    if call.message_stop and message.get("content"):
        return  # finished: its reported usage stands
    output = math.ceil(len(streamed) / CHARS_PER_TOKEN)
    if any(call.usage.values()) and call.usage.get("output", 0) < output:
        call.usage["output"] = output


def user_text(message: dict[str, Any]) -> str:
    return "\n".join(str(b["text"]) for b in message.get("content", []) if isinstance(b, dict) and "text" in b)


def close_history(agent: Agent, rec: TurnRecorder) -> None:
    """End a stopped turn's history with an assistant message, as Converse requires.

    A stop while a tool runs leaves strands' history ending with the user-role toolResult
    message; the next question would then be a second user message in a row, which
    Bedrock's Converse API refuses for good. The note added here closes the turn in the
    agent's history and in the transcript alike.
    """
    if agent.messages and agent.messages[-1].get("role") == "user":
        note: dict[str, Any] = {"role": "assistant", "content": [{"text": STOPPED_DURING_TOOL}]}
        agent.messages.append(note)  # type: ignore[arg-type]
        rec.messages.append(note)


@dataclass
class _Call:
    started: float
    started_at: datetime
    first_token: float | None = None
    message_stop: bool = False  # the stream said its message was complete
    streamed: bool = False  # the stream carried some content (text, a tool call's input, reasoning)
    throttled: bool = False  # the call failed as throttled (strands waits, then asks again)
    ended: float | None = None
    usage: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    # its ledger row's key, fixed once: a commit reported failed that landed after all (an S3 PUT
    # past its read timeout) is recorded as a failed attempt and rebuilt from the object with the
    # same rows, never twice
    call_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class TurnRecorder:
    """Collects what strands reports during one turn (hooks and stream events)."""

    events: EventSink[ChatEvent]
    started: float = field(default_factory=time.perf_counter)
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[_Call] = field(default_factory=list)
    tool_started: dict[str, tuple[float, ToolStep]] = field(default_factory=dict)
    tool_steps: list[ToolStep] = field(default_factory=list)
    first_text: float | None = None
    current_text: str = ""  # text streamed for the message being generated
    held: str = ""  # the first half of a UTF-16 pair whose second half is in the next delta

    @property
    def current_call(self) -> _Call | None:
        return self.calls[-1] if self.calls else None

    def text_so_far(self) -> str:
        """The answer's text written so far this turn (each finished message's, then the one being
        written), for a page that shows an answer it is not streaming. Read from other threads."""
        parts = [
            str(block["text"])
            for message in list(self.messages)
            if message.get("role") == "assistant"
            for block in list(message.get("content") or [])
            if isinstance(block, dict) and block.get("text")
        ]
        if self.current_text:
            parts.append(self.current_text)
        return "\n\n".join(parts)


class RecorderHooks(HookProvider):
    """Hook provider bound to one agent; writes into the slot's current recorder."""

    def __init__(self, slot: AgentSlot) -> None:
        self.slot = slot

    def register_hooks(self, registry: HookRegistry, **kwargs: Any) -> None:
        registry.add_callback(MessageAddedEvent, self._message_added)
        registry.add_callback(BeforeModelCallEvent, self._before_model)
        registry.add_callback(AfterModelCallEvent, self._after_model)
        registry.add_callback(BeforeToolCallEvent, self._before_tool)
        registry.add_callback(AfterToolCallEvent, self._after_tool)

    def _message_added(self, event: MessageAddedEvent) -> None:
        rec = self.slot.recorder
        if rec is not None:
            # Kept by reference: strands edits a message in place after adding it (a guardrail
            # redacts the user's input), and what it redacted must be what gets stored.
            rec.messages.append(event.message)  # type: ignore[arg-type]
            rec.current_text = ""

    def _before_model(self, event: BeforeModelCallEvent) -> None:
        rec = self.slot.recorder
        if rec is not None:
            rec.calls.append(_Call(started=time.perf_counter(), started_at=utcnow()))

    def _after_model(self, event: AfterModelCallEvent) -> None:
        rec = self.slot.recorder
        call = rec.current_call if rec is not None else None
        if call is None or call.ended is not None:
            return
        call.ended = time.perf_counter()
        if event.exception is not None:
            call.error = strip_control_chars(f"{type(event.exception).__name__}: {event.exception}")[:500]
            call.throttled = isinstance(event.exception, ModelThrottledException)
        if event.stop_response is not None and event.stop_response.stop_reason == "cancelled":
            # strands replaces a cancelled message with this text after the hooks: keep what
            # the user already saw instead of a generic "Cancelled by user".
            event.agent.cancel(message=rec.current_text if rec is not None and rec.current_text else STOPPED_EARLY)
        if event.stop_response is not None:
            meta: dict[str, Any] = dict(event.stop_response.message.get("metadata") or {})
            usage: dict[str, Any] = dict(meta.get("usage") or {})
            call.usage = {
                "input": int(usage.get("inputTokens", 0) or 0),
                "output": int(usage.get("outputTokens", 0) or 0),
                "cache_read": int(usage.get("cacheReadInputTokens", 0) or 0),
                "cache_write": int(usage.get("cacheWriteInputTokens", 0) or 0),
            }
        cut_short = (event.stop_response is not None and event.stop_response.stop_reason == "cancelled") or (
            event.exception is not None and call.first_token is not None
        )
        if (cut_short or event.stop_response is not None) and not any(call.usage.values()):
            answered = rec.current_text if rec is not None else ""
            if not cut_short and event.stop_response is not None:
                # a server that leaves usage out of its stream (an OpenAI-compatible gateway
                # ignoring include_usage): zero would price the call at $0 and skip the budget
                answered = json.dumps(event.stop_response.message.get("content", []), default=str)
                logger.warning("model reported no token usage for a call: tokens estimated from its text")
            call.usage = estimated_usage(event.agent, answered)
        if event.stop_response is not None and rec is not None and rec.current_text:
            _count_cut_off_text(call, event.stop_response.message, rec.current_text)

    def _before_tool(self, event: BeforeToolCallEvent) -> None:
        rec = self.slot.recorder
        if rec is None:
            return
        tu = event.tool_use
        step = ToolStep(
            tool_use_id=str(tu.get("toolUseId", "")),
            name=str(tu.get("name", "")),
            input=dict(tu.get("input") or {}),
            status="running",
        )
        rec.tool_started[step.tool_use_id] = (time.perf_counter(), step)
        rec.events.put_nowait(ToolStarted(step.tool_use_id, step.name, step.input))

    def _after_tool(self, event: AfterToolCallEvent) -> None:
        rec = self.slot.recorder
        if rec is None:
            return
        tool_use_id = str(event.tool_use.get("toolUseId", ""))
        started, step = rec.tool_started.pop(
            tool_use_id,
            (time.perf_counter(), ToolStep(tool_use_id, str(event.tool_use.get("name", "")), {})),
        )
        duration = (time.perf_counter() - started) * 1000
        result = dict(event.result or {})
        status: Literal["success", "error"] = (
            "error" if result.get("status") == "error" or event.exception is not None else "success"
        )
        summary = summarize_tool_result(result)
        done = replace(step, status=status, result=summary, duration_ms=round(duration, 1))
        rec.tool_steps.append(done)
        rec.events.put_nowait(ToolFinished(tool_use_id, done.name, status, summary, done.duration_ms or 0.0))


def _has_content(block_delta: Any) -> bool:
    """Whether a contentBlockDelta carries anything (Ollama's, for one, sends empty text deltas)."""
    delta = block_delta.get("delta") if isinstance(block_delta, dict) else None
    return isinstance(delta, dict) and any(
        any(value.values()) if isinstance(value, dict) else value for value in delta.values()
    )


def on_stream_event(raw: dict[str, Any], rec: TurnRecorder) -> None:
    """Note first-token and first-text times and forward answer text as TextDelta events."""
    chunk = raw.get("event")
    if isinstance(chunk, dict):
        call = rec.current_call
        if call is not None and "contentBlockDelta" in chunk:
            if call.first_token is None:
                call.first_token = time.perf_counter()
            call.streamed = call.streamed or _has_content(chunk["contentBlockDelta"])
        elif call is not None and "messageStop" in chunk:
            call.message_stop = True
        if "contentBlockStop" in chunk and rec.held:  # the second half never came
            _forward_text(rec, "")
    if "data" in raw and isinstance(raw["data"], str) and raw["data"]:
        if rec.first_text is None:
            rec.first_text = time.perf_counter()
        _forward_text(rec, raw["data"])


def _forward_text(rec: TurnRecorder, data: str) -> None:
    """Send streamed text on as whole characters: the page cannot draw a UTF-16 surrogate, and an
    emoji's two escaped halves may come in two deltas (the first is held for the second)."""
    text, rec.held = rec.held + data, ""
    if data and ends_with_high_surrogate(text):
        text, rec.held = text[:-1], text[-1]
    text = whole_characters(text)
    if text:
        rec.current_text += text
        rec.events.put_nowait(TextDelta(text))


def usage_records(model_name: str, prices: PriceTable, meta: SessionMeta, rec: TurnRecorder) -> list[UsageRecord]:
    """One priced ledger row per model call the recorder saw (failed calls included)."""
    provider, model_id = ledger_model_id(model_name)
    out = []
    for call in rec.calls:
        cost, version = prices.cost(
            model_id,
            call.usage.get("input", 0),
            call.usage.get("output", 0),
            call.usage.get("cache_read", 0),
            call.usage.get("cache_write", 0),
            call.started_at,
        )
        ended = call.ended or time.perf_counter()
        out.append(
            UsageRecord(
                call_id=call.call_id,
                session_id=meta.id,
                user_id=meta.user_id,
                turn_idx=meta.turn_count,
                provider=provider,
                model_id=model_id,
                started_at=call.started_at,
                input_tokens=call.usage.get("input", 0),
                output_tokens=call.usage.get("output", 0),
                cache_read_tokens=call.usage.get("cache_read", 0),
                cache_write_tokens=call.usage.get("cache_write", 0),
                latency_ms=round((ended - call.started) * 1000, 2),
                ttft_ms=round((call.first_token - call.started) * 1000, 2) if call.first_token else None,
                error=call.error,
                cost_usd=cost,
                price_version=version,
            )
        )
    return out
