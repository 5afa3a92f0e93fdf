"""A finished turn as one store write, and a failed one as what the user is told."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Literal

from strands import Agent
from strands.types.exceptions import StorageError

from assistant.chat.display import DEFAULT_TITLE, derive_title
from assistant.chat.recorder import TurnRecorder, close_history, user_text
from assistant.models.errors import error_category
from assistant.sessions.base import (
    SessionConflictError,
    SessionError,
    SessionMeta,
    StorageUnavailableError,
    TurnCommit,
    TurnRecord,
    UsageRecord,
)
from assistant.sessions.snapshot_storage import capture_snapshot

CONFLICT_LOST_MESSAGE = (
    "Another tab or window added to this session while this answer was being written, so this answer "
    "was not saved. Your question is kept: send it again to ask it after the latest answer."
)
NOT_STORED_ERROR = "not stored: the session changed elsewhere during the answer"
STORAGE_MESSAGE = "Your message could not be saved because storage is unavailable. Nothing was lost; try again."
CUT_OFF_CALL_ERROR = "AnswerCutOffError: the stream was cut off before the message was done"
"""A cut-off call's error in the ledger (it failed; its usage report never came)."""
CUT_OFF_MESSAGE = "The model's answer was cut off before it finished, so it was not saved. Press Retry."
EMPTY_ANSWER_MESSAGE = (
    "The model sent back an empty answer, so nothing was saved. Press Retry; if it happens again, "
    "rephrase the question."
)


class AnswerCutOffError(Exception):
    """The model's stream ended without finishing its message (an assistant message with no content)."""


class EmptyAnswerError(AnswerCutOffError):
    """The model finished its message (messageStop) without any content: no text, no tool call."""


STOPPED_BY_USER = "Stopped by the user."
INTERRUPTED_BY_PAGE = (
    "Interrupted before it finished (the page was closed or reloaded, or lost its connection). "
    "Send the question again for a full answer."
)


def build_commit(
    agent: Agent,
    meta: SessionMeta,
    prompt: str,
    rec: TurnRecorder,
    usage: list[UsageRecord],
    *,
    model: str,
    started_at: datetime,
    ended_at: datetime,
    stop_reason: str,
    stopped_by_user: bool = True,
    transcript_tail: list[dict[str, Any]] | None = None,
) -> TurnCommit:
    """Everything one finished (or stopped) turn writes: messages, turn record, snapshot, ledger rows, title.

    Args:
        agent: The session's agent after the turn (its history is closed if a stop left it open).
        meta: The session as the turn began.
        prompt: The question as sent.
        rec: What strands reported during the turn.
        usage: The priced model calls.
        model: The registry name of the model that answered.
        started_at: When the turn began.
        ended_at: When it ended.
        stop_reason: strands' stop reason ("end_turn", "cancelled", "limit_*" ...).
        stopped_by_user: For a cancelled turn, whether the user asked to stop it (Stop); else
            its reader went away (the page was closed or reloaded) and the note says so.
        transcript_tail: The stored transcript's last messages before this turn, as stored, when
            known (the session's slot keeps them): the snapshot then refers to the messages it
            shares with the transcript instead of holding them again.

    Returns:
        The commit for :meth:`SessionStore.commit_turn`.
    """
    close_history(agent, rec)
    # metadata (usage, latency) goes to the ledger, not the transcript
    messages = [{k: v for k, v in m.items() if k != "metadata"} for m in rec.messages]
    snapshot = capture_snapshot(agent, None if transcript_tail is None else transcript_tail + messages)
    # what strands kept of the question (a guardrail may have redacted it) is what is stored
    if messages and messages[0].get("role") == "user":
        prompt = user_text(messages[0])
    status: Literal["ok", "stopped"] = "ok"
    error = None
    if stop_reason != "cancelled":
        _refuse_unfinished(messages, rec, stop_reason)
    if stop_reason == "cancelled":
        status, error = "stopped", STOPPED_BY_USER if stopped_by_user else INTERRUPTED_BY_PAGE
    elif stop_reason.startswith("limit_"):
        status, error = "stopped", "The answer hit the assistant's step limit and was cut short."
    costs = [u.cost_usd for u in usage]
    turn = TurnRecord(
        idx=meta.turn_count,
        user_text=prompt,
        started_at=started_at,
        ended_at=ended_at,
        status=status,
        first_message_idx=meta.message_count,
        end_message_idx=meta.message_count + len(messages),
        model=model,
        input_tokens=sum(u.input_tokens for u in usage),
        output_tokens=sum(u.output_tokens for u in usage),
        cache_read_tokens=sum(u.cache_read_tokens for u in usage),
        cache_write_tokens=sum(u.cache_write_tokens for u in usage),
        cost_usd=None if any(c is None for c in costs) else round(sum(c or 0.0 for c in costs), 8),
        ttft_ms=round((rec.first_text - rec.started) * 1000, 2) if rec.first_text else None,
        latency_ms=round((time.perf_counter() - rec.started) * 1000, 2),
        model_calls=len(usage),
        tool_steps=tuple(rec.tool_steps),
        error=error,
    )
    title = derive_title(prompt) if meta.turn_count == 0 and meta.title == DEFAULT_TITLE else None
    return TurnCommit(messages=messages, turn=turn, agent_snapshot=snapshot, usage=usage, title=title)


def _refuse_unfinished(messages: list[dict[str, object]], rec: TurnRecorder, stop_reason: str) -> None:
    """Raise when the model did not finish a message, or finished one with nothing in it: never an answer."""
    cut = [c for c in rec.calls if c.ended is not None and c.error is None and not c.message_stop]
    if cut:
        # the stream ended before the model said its message was done (no messageStop; strands
        # calls such a message "end_turn", empty or not)
        for call in cut:  # a failed call in the ledger, as the user is told
            call.error = CUT_OFF_CALL_ERROR
        raise AnswerCutOffError(f"the model's stream ended early (stop reason {stop_reason!r})")
    if any(m["role"] == "assistant" and not m.get("content") for m in messages):
        if rec.calls and not rec.calls[-1].streamed:
            raise EmptyAnswerError(f"the model finished an empty message (stop reason {stop_reason!r})")
        # text arrived but no block was closed: a stream cut off, which strands still ends with
        # messageStop when the SDK's stream just stops (OpenAI without its finish_reason)
        if rec.calls and rec.calls[-1].error is None:
            rec.calls[-1].error = CUT_OFF_CALL_ERROR
        raise AnswerCutOffError(f"the model's stream ended early (stop reason {stop_reason!r})")


def classify_failure(exc: BaseException) -> tuple[str, str, bool]:
    """What the user is told about a failed turn: ``(category, message, retryable)``.

    A lost race is retryable (the question is kept; sending it again asks it after the
    winning answer); storage faults are retryable; other session errors are not; model
    errors are classified by :func:`assistant.models.errors.error_category`.
    """
    if isinstance(exc, SessionConflictError):
        return "conflict", CONFLICT_LOST_MESSAGE, True
    if isinstance(exc, EmptyAnswerError):
        return "model_error", EMPTY_ANSWER_MESSAGE, True
    if isinstance(exc, AnswerCutOffError):
        return "model_error", CUT_OFF_MESSAGE, True
    if isinstance(exc, (StorageUnavailableError, StorageError)):
        return "storage", STORAGE_MESSAGE, True
    if isinstance(exc, SessionError):
        return "session", str(exc), False
    return error_category(exc)
