"""What a turn streams to its caller (:data:`ChatEvent`), and the refusals raised before anything is written."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from assistant.sessions.base import SessionMeta, TurnRecord


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer's text, in order."""

    text: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class ToolStarted:
    """The agent started a tool call."""

    tool_use_id: str
    name: str
    input: dict[str, Any]
    kind: Literal["tool_started"] = "tool_started"


@dataclass(frozen=True)
class ToolFinished:
    """A tool call finished (``status`` is "success" or "error")."""

    tool_use_id: str
    name: str
    status: str
    summary: str
    duration_ms: float
    kind: Literal["tool_finished"] = "tool_finished"


@dataclass(frozen=True)
class UsageEvent:
    """Token usage and cost of one model call."""

    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    ttft_ms: float | None
    latency_ms: float | None
    kind: Literal["usage"] = "usage"


@dataclass(frozen=True)
class Done:
    """The turn is stored; ``turn`` holds its totals and ``meta`` the session after it."""

    turn: TurnRecord
    meta: SessionMeta
    kind: Literal["done"] = "done"


@dataclass(frozen=True)
class ErrorEvent:
    """The turn failed; nothing of it was stored in the transcript."""

    category: str
    message: str
    retryable: bool
    kind: Literal["error"] = "error"


ChatEvent = TextDelta | ToolStarted | ToolFinished | UsageEvent | Done | ErrorEvent


@dataclass(frozen=True)
class StartedTurn:
    """A send whose answer is being produced: iterate ``events`` to stream it."""

    session: SessionMeta  # the session as the turn began (a new one when none was given)
    text: str  # the message as sent (validated: stripped, control characters removed)
    events: Generator[ChatEvent, None, None]  # close() stops the answer (what was produced is stored)


class ChatInputError(ValueError):
    """The message cannot be sent as it is (empty, too long); nothing was written."""


class ModelChoiceError(ChatInputError):
    """The model asked for is not offered, or not to this user (admin-only); nothing was written."""


class LimitExceededError(Exception):
    """A per-user limit refuses the send; ``retry_at`` says when it frees up."""

    def __init__(self, message: str, retry_at: datetime | None = None, *, reason: str | None = None) -> None:
        """Create the error.

        Args:
            message: Plain sentence shown to the user (CLI), with when it frees up in UTC.
            retry_at: When sending becomes possible again (UTC), if known.
            reason: The message without its UTC clock time, for pages that show ``retry_at``
                in the reader's time zone (default: ``message``).
        """
        super().__init__(message)
        self.retry_at = retry_at
        self.reason = reason or message


BUSY_CHANGE_MESSAGE = (
    "An answer for this session is still being written, in another tab or window. "
    "Try again once it is done, or stop it there."
)


class SessionBusyError(Exception):
    """Another answer for this session is still being written."""


class AlreadyAnsweredError(Exception):
    """A Retry of a failed question that was already sent again (Retry in another tab); nothing was written."""
