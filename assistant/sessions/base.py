"""Session types and the SessionStore interface shared by the SQL and S3 backends.

A session is: a metadata row (:class:`SessionMeta`), the full transcript (every user,
assistant and tool message as strands ``Message`` dicts, never trimmed by the
conversation window), per-turn records (:class:`TurnRecord`: tokens, cost, latency,
tool steps, feedback) and the strands agent snapshot needed to resume.

Writes happen once per turn through :meth:`SessionStore.commit_turn`, guarded by the
session's ``version`` (optimistic concurrency): a writer holding a stale version gets
:class:`SessionConflictError` and nothing is written.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine

SessionState = Literal["active", "completed", "expired"]
TurnStatus = Literal["ok", "stopped", "error"]
UNTITLED = "New session"
"""A session's title until its first question names it (see :meth:`SessionStore.begin_turn`)."""
PENDING_STALE_AFTER = timedelta(seconds=20)
"""A "running" question without a heartbeat for this long: the process answering it is gone."""


def utcnow() -> datetime:
    """Timezone-aware now in UTC (all stored times are UTC)."""
    return datetime.now(UTC)


def assume_utc(value: datetime) -> datetime:
    """``value`` made aware: a naive one (as databases return stored UTC times) gets UTC; an aware one is kept."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC: a naive one is taken as UTC, an aware one is converted to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_utc(value: Any) -> datetime:
    """A database timestamp (a datetime, or an ISO string on SQLite) as an aware UTC datetime (see :func:`to_utc`)."""
    if isinstance(value, datetime):
        return to_utc(value)
    return to_utc(datetime.fromisoformat(str(value)))


class SessionError(Exception):
    """Base class of session storage errors."""


class SessionNotFoundError(SessionError):
    """No such session for this user (also raised for another user's session id)."""


class SessionConflictError(SessionError):
    """The session changed elsewhere (another tab or replica); reload before writing."""


class SessionReadOnlyError(SessionError):
    """The session is completed or expired; continue it in a new session instead."""


class SessionDamagedError(SessionError):
    """The stored data of this one session cannot be read; other sessions are unaffected."""


class StorageUnavailableError(SessionError):
    """The storage backend failed (network, disk, permissions); the write did not happen."""


@dataclass(frozen=True)
class ToolStep:
    """One tool call made during a turn, as shown in the chat page."""

    tool_use_id: str
    name: str
    input: dict[str, Any]
    status: Literal["success", "error", "running"] = "success"
    result: str = ""
    duration_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "tool_use_id": self.tool_use_id,
            "name": self.name,
            "input": self.input,
            "status": self.status,
            "result": self.result,
            "duration_ms": self.duration_ms,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToolStep:
        """Inverse of :meth:`to_dict`."""
        return cls(
            tool_use_id=str(data.get("tool_use_id", "")),
            name=str(data.get("name", "")),
            input=dict(data.get("input") or {}),
            status=data.get("status", "success"),
            result=str(data.get("result", "")),
            duration_ms=data.get("duration_ms"),
        )


@dataclass(frozen=True)
class TurnRecord:
    """Per-turn facts: what the user asked, what it cost, how it went.

    ``first_message_idx``/``end_message_idx`` delimit the turn's messages in the transcript
    (half-open range).
    """

    idx: int
    user_text: str
    started_at: datetime
    ended_at: datetime
    status: TurnStatus
    first_message_idx: int
    end_message_idx: int
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = 0.0
    ttft_ms: float | None = None
    latency_ms: float | None = None
    model_calls: int = 0
    tool_steps: tuple[ToolStep, ...] = ()
    feedback: int | None = None  # +1 / -1 / None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "idx": self.idx,
            "user_text": self.user_text,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "status": self.status,
            "first_message_idx": self.first_message_idx,
            "end_message_idx": self.end_message_idx,
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cost_usd": self.cost_usd,
            "ttft_ms": self.ttft_ms,
            "latency_ms": self.latency_ms,
            "model_calls": self.model_calls,
            "tool_steps": [step.to_dict() for step in self.tool_steps],
            "feedback": self.feedback,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TurnRecord:
        """Inverse of :meth:`to_dict`."""
        return cls(
            idx=int(data["idx"]),
            user_text=str(data.get("user_text", "")),
            started_at=_parse_dt(data["started_at"]),
            ended_at=_parse_dt(data["ended_at"]),
            status=data.get("status", "ok"),
            first_message_idx=int(data.get("first_message_idx", 0)),
            end_message_idx=int(data.get("end_message_idx", 0)),
            model=str(data.get("model", "")),
            input_tokens=int(data.get("input_tokens", 0)),
            output_tokens=int(data.get("output_tokens", 0)),
            cache_read_tokens=int(data.get("cache_read_tokens", 0)),
            cache_write_tokens=int(data.get("cache_write_tokens", 0)),
            cost_usd=data.get("cost_usd"),
            ttft_ms=data.get("ttft_ms"),
            latency_ms=data.get("latency_ms"),
            model_calls=int(data.get("model_calls", 0)),
            tool_steps=tuple(ToolStep.from_dict(s) for s in data.get("tool_steps") or []),
            feedback=data.get("feedback"),
            error=data.get("error"),
        )


@dataclass(frozen=True)
class UsageRecord:
    """One model call, as written to the usage ledger (failed calls included)."""

    call_id: str
    session_id: str
    user_id: str
    turn_idx: int
    provider: str
    model_id: str
    started_at: datetime
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    latency_ms: float | None = None
    ttft_ms: float | None = None
    error: str | None = None
    cost_usd: float | None = 0.0  # None = unknown price, never silently 0
    price_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form as kept in a session document (session and user are the document's)."""
        return {
            "call_id": self.call_id,
            "turn_idx": self.turn_idx,
            "provider": self.provider,
            "model_id": self.model_id,
            "started_at": self.started_at.isoformat(),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "latency_ms": self.latency_ms,
            "ttft_ms": self.ttft_ms,
            "error": self.error,
            "cost_usd": self.cost_usd,
            "price_version": self.price_version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], session_id: str, user_id: str) -> UsageRecord:
        """Inverse of :meth:`to_dict`, for the session and user the document belongs to."""
        return cls(
            call_id=str(data["call_id"]),
            session_id=session_id,
            user_id=user_id,
            turn_idx=int(data.get("turn_idx", 0)),
            provider=str(data.get("provider", "")),
            model_id=str(data.get("model_id", "")),
            started_at=_parse_dt(data["started_at"]),
            input_tokens=int(data.get("input_tokens", 0)),
            output_tokens=int(data.get("output_tokens", 0)),
            cache_read_tokens=int(data.get("cache_read_tokens", 0)),
            cache_write_tokens=int(data.get("cache_write_tokens", 0)),
            latency_ms=data.get("latency_ms"),
            ttft_ms=data.get("ttft_ms"),
            error=data.get("error"),
            cost_usd=data.get("cost_usd"),
            price_version=data.get("price_version"),
        )


@dataclass(frozen=True)
class SessionMeta:
    """The index row of a session (what lists and the sidebar show)."""

    id: str
    user_id: str
    title: str
    state: SessionState
    created_at: datetime
    updated_at: datetime
    model: str
    version: int = 0
    message_count: int = 0
    turn_count: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cost_unknown: bool = False
    errors: int = 0
    continued_from: str | None = None
    damaged: str | None = None
    user_email: str | None = None

    @property
    def read_only(self) -> bool:
        """Completed and expired sessions cannot take new turns."""
        return self.state != "active"


@dataclass
class SessionDocument:
    """Everything needed to show and resume one session (one read)."""

    meta: SessionMeta
    messages: list[dict[str, Any]] = field(default_factory=list)
    turns: list[TurnRecord] = field(default_factory=list)
    agent_snapshot: dict[str, Any] | None = None


@dataclass(frozen=True)
class TurnCommit:
    """The writes of one finished (or stopped) turn, applied atomically."""

    messages: list[dict[str, Any]]
    turn: TurnRecord
    agent_snapshot: dict[str, Any]
    usage: list[UsageRecord]
    title: str | None = None


@dataclass(frozen=True)
class PendingTurn:
    """A question written before the model was called and not yet stored as a turn.

    ``status`` is "running" while a process answers it (``heartbeat_at`` moves while it
    does) and "failed" when the answer failed or lost a race; the text is kept for Retry.
    """

    session_id: str
    user_id: str
    turn_idx: int
    text: str
    status: Literal["running", "failed"]
    owner: str
    started_at: datetime
    heartbeat_at: datetime
    error_category: str | None = None
    error_message: str | None = None
    retryable: bool = True
    reserved_usd: float = 0.0  # held against the daily budget while it runs (0 once failed)


@dataclass(frozen=True)
class SendWindow:
    """What a user's limits are decided on, read inside the transaction that counts a send.

    Attributes:
        spent_today_usd: Cost of the user's model calls since 00:00 UTC (priced calls only).
        recent_sends: The user's accepted sends within the rate window.
        oldest_recent_send: When the oldest of those was sent (None when there are none).
        held_usd: What the user's answers still being written are expected to cost (their
            questions' ``reserved_usd``; a question whose process is gone holds nothing).
        answers_running: How many such answers there are.
    """

    spent_today_usd: float
    recent_sends: int
    oldest_recent_send: datetime | None
    held_usd: float = 0.0
    answers_running: int = 0


@dataclass(frozen=True)
class SessionQuery:
    """Filters for listing sessions (server-side paging)."""

    user_id: str | None = None  # None = all users (admins only; callers enforce the role)
    text: str | None = None
    states: tuple[SessionState, ...] = ()
    models: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "updated_at"
    descending: bool = True
    limit: int = 50
    offset: int = 0


def _parse_dt(value: Any) -> datetime:
    if isinstance(value, datetime):
        return assume_utc(value)
    return assume_utc(datetime.fromisoformat(str(value)))


class SessionStore(abc.ABC):
    """Persistence of sessions; implemented by the SQL and the S3 (+ SQL index) backends.

    Every method taking ``user_id`` scopes to that user: a session of another user raises
    :class:`SessionNotFoundError`. ``user_id=None`` means an admin read (never a write).
    """

    expiry_hours: float = 24.0

    @property
    @abc.abstractmethod
    def engine(self) -> Engine:
        """The SQL database of the session index and the usage ledger (usage queries and tools read it)."""

    @abc.abstractmethod
    def create_session(
        self,
        user_id: str,
        *,
        model: str,
        title: str = UNTITLED,
        user_email: str | None = None,
        continued_from: str | None = None,
        seed_snapshot: dict[str, Any] | None = None,
    ) -> SessionMeta:
        """Create an empty active session (optionally carrying another session's context)."""

    @abc.abstractmethod
    def get_meta(self, session_id: str, user_id: str | None) -> SessionMeta:
        """Read one session's index row (applies expiry)."""

    @abc.abstractmethod
    def load(self, session_id: str, user_id: str | None) -> SessionDocument:
        """Read the whole session: transcript, turns and agent snapshot (one read)."""

    @abc.abstractmethod
    def commit_turn(self, session_id: str, user_id: str, *, expected_version: int, commit: TurnCommit) -> SessionMeta:
        """Append a turn atomically; raises SessionConflictError when the version moved."""

    @abc.abstractmethod
    def record_usage(self, records: list[UsageRecord]) -> None:
        """Write ledger rows outside a commit (failed or abandoned turns)."""

    @abc.abstractmethod
    def list_sessions(self, query: SessionQuery) -> tuple[list[SessionMeta], int]:
        """One page of sessions matching the query, and the total number of matches."""

    @abc.abstractmethod
    def expire_idle(self, user_id: str | None = None) -> int:
        """Mark active sessions idle longer than the expiry as expired; return how many."""

    @abc.abstractmethod
    def rename(self, session_id: str, user_id: str, title: str) -> SessionMeta:
        """Change a session's title."""

    @abc.abstractmethod
    def delete(self, session_id: str, user_id: str) -> None:
        """Delete a session and its transcript (its ledger rows stay: money was spent)."""

    @abc.abstractmethod
    def set_state(self, session_id: str, user_id: str, state: SessionState) -> SessionMeta:
        """Complete (or expire) a session."""

    @abc.abstractmethod
    def set_feedback(self, session_id: str, user_id: str, turn_idx: int, value: int | None) -> None:
        """Store thumbs up (+1) / down (-1) / cleared (None) for one turn."""

    @abc.abstractmethod
    def reindex(self) -> int:
        """Rebuild the derived index rows (search text; on S3 the whole index) from the stored sessions.

        Returns:
            The number of sessions reindexed.
        """

    @abc.abstractmethod
    def begin_turn(
        self,
        session_id: str,
        user_id: str,
        *,
        text: str,
        owner: str,
        now: datetime,
        rate_window: timedelta,
        decide: Callable[[SessionMeta, SendWindow], float | None],
        first_title: str | None = None,
    ) -> SessionMeta:
        """Everything before the model is called, in one transaction.

        Reads the session's row and the user's :class:`SendWindow`; ``decide`` raises to refuse
        (read-only session, budget, rate) and then nothing is written. Otherwise it returns what
        the answer is expected to cost (held against the budget while the question is
        "running"; None holds nothing), the send is
        counted in the rate window and ``text`` becomes the session's pending question; a
        session still :data:`UNTITLED` with no turn is titled ``first_title`` (its first
        question names it at once, even if that question then fails).

        Returns:
            The session's metadata as read (expiry applied).
        """

    @abc.abstractmethod
    def send_window(self, user_id: str, *, now: datetime, rate_window: timedelta) -> SendWindow:
        """The user's :class:`SendWindow` now, read without counting a send (a pre-check)."""

    @abc.abstractmethod
    def fail_turn(self, usage: list[UsageRecord], pending: PendingTurn) -> None:
        """Record a failed turn in one write: its model calls in the ledger, its question kept as failed."""

    @abc.abstractmethod
    def save_pending(self, pending: PendingTurn) -> None:
        """Record the question of a turn about to be answered (replaces the session's previous one)."""

    @abc.abstractmethod
    def pending_turn(self, session_id: str, user_id: str | None) -> PendingTurn | None:
        """The session's question not yet stored as a turn, if any (stale rows are ignored)."""

    @abc.abstractmethod
    def heartbeat_pending(self, session_id: str, owner: str, now: datetime) -> None:
        """Say that ``owner`` is still answering the session's pending question."""

    @abc.abstractmethod
    def clear_pending(self, session_id: str, user_id: str, *, untitle: str | None = None) -> None:
        """Forget the session's pending question (the user dismissed it); a session with no turn
        still titled ``untitle`` (its dismissed first question's title) is :data:`UNTITLED` again."""
