"""ChatService: the one API the chat page, the CLI and the benchmarks use.

A turn: validate the message and the user's limits, get (or resume) the session's strands
agent, stream the answer as :data:`ChatEvent` values, then commit the turn once - its
messages, turn record, agent snapshot and ledger rows - in a single store write. A model
or storage fault leaves the stored session as it was before the turn (the cached agent is
dropped and rebuilt from the store), so retrying sends the same user message exactly once.
Failed model calls are still written to the usage ledger: the ledger sums to what was billed.

Agents run on one background event loop per service; :meth:`ChatService.send_sync` bridges
to synchronous callers (Streamlit scripts, the CLI).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from strands import Agent, ModelRetryStrategy
from strands.hooks import (
    AfterModelCallEvent,
    AfterToolCallEvent,
    BeforeModelCallEvent,
    BeforeToolCallEvent,
    HookProvider,
    HookRegistry,
    MessageAddedEvent,
)
from strands.models import Model
from strands.session import SnapshotSessionManager
from strands.types.exceptions import StorageError

from assistant.agents.meeting_coordinator import create_meeting_coordinator
from assistant.config import Settings
from assistant.inputs import strip_control_chars
from assistant.models.errors import error_category
from assistant.models.registry import get_model, parse_model_name
from assistant.sessions.base import (
    PendingTurn,
    SendWindow,
    SessionConflictError,
    SessionDamagedError,
    SessionDocument,
    SessionError,
    SessionMeta,
    SessionQuery,
    SessionReadOnlyError,
    SessionStore,
    StorageUnavailableError,
    ToolStep,
    TurnCommit,
    TurnRecord,
    UsageRecord,
    utcnow,
)
from assistant.sessions.send_log import SendLog
from assistant.sessions.snapshot_storage import TurnSnapshotStorage, capture_snapshot
from assistant.tools.deps import ToolDeps
from assistant.usage.pricing import PriceTable

logger = logging.getLogger(__name__)

AGENT_ID = "meeting_coordinator"
DEFAULT_TITLE = "New session"
TOOL_RESULT_PREVIEW_CHARS = 280
AGENT_CACHE_SIZE = 64
RATE_WINDOW = timedelta(minutes=1)
HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(seconds=20)  # no heartbeat for this long: the answering process is gone
INTERRUPTED_MESSAGE = "Not answered: the server restarted while this question was being answered. Nothing was lost."
CONFLICT_LOST_MESSAGE = (
    "Another tab or window added to this session while this answer was being written, so this answer "
    "was not saved. Your question is kept: send it again to ask it after the latest answer."
)
NOT_STORED_ERROR = "not stored: the session changed elsewhere during the answer"
STOPPED_EARLY = "(Stopped before the answer started.)"
STOPPED_DURING_TOOL = "(Stopped while a tool was running.)"
# Notes the service writes into the history so it stays one that Converse accepts; the turn's
# "stopped" status says the same thing to the reader, so the pages do not draw them.
STOP_NOTES = frozenset({STOPPED_EARLY, STOPPED_DURING_TOOL})


# --------------------------------------------------------------------------- events
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
    events: Iterator[ChatEvent]


class ChatInputError(ValueError):
    """The message cannot be sent as it is (empty, too long); nothing was written."""


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


class SessionBusyError(Exception):
    """Another answer for this session is still being written."""


# --------------------------------------------------------------------------- views
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
                    tu = block["toolUse"]
                    step = steps.get(tu.get("toolUseId", "")) or ToolStep(
                        tool_use_id=tu.get("toolUseId", ""), name=tu.get("name", ""), input=tu.get("input") or {}
                    )
                    parts.append(("tool", step))
        out.append(DisplayTurn(turn=turn, user_text=user_text, parts=parts))
    return out


def derive_title(text: str, limit: int = 60) -> str:
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
    if raw.startswith("Error: "):
        raw = raw[len("Error: ") :]
    return raw if len(raw) <= TOOL_RESULT_PREVIEW_CHARS else raw[: TOOL_RESULT_PREVIEW_CHARS - 1] + "…"


def _owner_is_dead(owner: str) -> bool:
    """Whether the process named by a pending question's ``owner`` is known to be gone.

    Only a process on this host can be checked (its pid no longer exists); elsewhere the
    heartbeat decides.
    """
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:32] or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _user_text(message: dict[str, Any]) -> str:
    return "\n".join(str(b["text"]) for b in message.get("content", []) if isinstance(b, dict) and "text" in b)


def _close_history(agent: Agent, rec: _TurnRecorder) -> None:
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


# --------------------------------------------------------------------------- turn recording
@dataclass
class _Call:
    started: float
    started_at: datetime
    first_token: float | None = None
    ended: float | None = None
    usage: dict[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass
class _TurnRecorder:
    """Collects what strands reports during one turn (hooks and stream events)."""

    events: asyncio.Queue[ChatEvent | None]
    started: float = field(default_factory=time.perf_counter)
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[_Call] = field(default_factory=list)
    tool_started: dict[str, tuple[float, ToolStep]] = field(default_factory=dict)
    tool_steps: list[ToolStep] = field(default_factory=list)
    first_text: float | None = None
    current_text: str = ""  # text streamed for the message being generated

    @property
    def current_call(self) -> _Call | None:
        return self.calls[-1] if self.calls else None


class _RecorderHooks(HookProvider):
    """Hook provider bound to one agent; writes into the slot's current recorder."""

    def __init__(self, slot: _AgentSlot) -> None:
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


@dataclass
class _AgentSlot:
    """A live agent for one session, with the version of the stored session it matches."""

    session_id: str
    user_id: str
    version: int
    storage: TurnSnapshotStorage
    agent: Agent | None = None
    recorder: _TurnRecorder | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


# --------------------------------------------------------------------------- service
class ChatService:
    """Create, resume, send to and manage chat sessions.

    Args:
        settings: Application settings.
        store: Session persistence (SQL, or S3 with a SQL index).
        prices: Price table used to cost every model call at write time.
        model_factory: Builds the strands model for a registry name (tests inject fakes).
        clock: Source of "now" for limits and tools.
    """

    def __init__(
        self,
        settings: Settings,
        store: SessionStore,
        *,
        prices: PriceTable,
        model_factory: Callable[[str], Model] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.prices = prices
        self.model_name = settings.model_name
        self._model_factory = model_factory or (lambda name: get_model(name, settings))
        self.clock = clock
        self._slots: collections.OrderedDict[str, _AgentSlot] = collections.OrderedDict()
        self._slots_lock = threading.Lock()
        self._send_log = SendLog(store.engine)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()
        self._model: Model | None = None
        # who answers a pending question: host, process and this service (a restart is a new owner)
        self.owner = f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"

    def model(self) -> Model:
        """The strands model shared by every session's agent (one client per process)."""
        with self._slots_lock:
            if self._model is None:
                self._model = self._model_factory(self.model_name)
            return self._model

    # -- sessions ---------------------------------------------------------------------
    def create_session(self, user_id: str, *, user_email: str | None = None) -> SessionMeta:
        """Start a new, empty session for the user."""
        return self.store.create_session(user_id, model=self.model_name, user_email=user_email, title=DEFAULT_TITLE)

    def get_session(self, session_id: str, user_id: str | None) -> SessionMeta:
        """Metadata of one of the user's sessions (``user_id=None``: admin read)."""
        return self.store.get_meta(session_id, user_id)

    def open_session(self, session_id: str, user_id: str | None) -> SessionDocument:
        """The whole session (transcript, turns) for display or export."""
        return self.store.load(session_id, user_id)

    def list_sessions(
        self, user_id: str, *, text: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[SessionMeta], int]:
        """The user's sessions, newest activity first."""
        return self.store.list_sessions(SessionQuery(user_id=user_id, text=text or None, limit=limit, offset=offset))

    def rename(self, session_id: str, user_id: str, title: str) -> SessionMeta:
        """Rename a session (empty titles are refused)."""
        meta = self.store.rename(session_id, user_id, title)
        self._bump_slot(session_id, meta.version)
        return meta

    def delete(self, session_id: str, user_id: str) -> None:
        """Delete a session and its transcript."""
        self.store.delete(session_id, user_id)
        self._evict(session_id)

    def complete(self, session_id: str, user_id: str) -> SessionMeta:
        """End a session: it becomes read-only (it can be continued in a new session)."""
        meta = self.store.set_state(session_id, user_id, "completed")
        self._evict(session_id)
        return meta

    def continue_session(self, session_id: str, user_id: str, *, user_email: str | None = None) -> SessionMeta:
        """Start a new session that carries the context of a completed or expired one."""
        doc = self.store.load(session_id, user_id)
        title = doc.meta.title if doc.meta.title.startswith("Continued: ") else f"Continued: {doc.meta.title}"
        meta = self.store.create_session(
            user_id,
            model=self.model_name,
            user_email=user_email,
            title=title,
            continued_from=session_id,
            seed_snapshot=doc.agent_snapshot,
        )
        logger.info("user_id=<%s>, session_id=<%s>, from=<%s> | continued session", user_id, meta.id, session_id)
        return meta

    def set_feedback(self, session_id: str, user_id: str, turn_idx: int, value: int | None) -> None:
        """Thumbs up (+1), down (-1) or cleared (None) for one answer."""
        self.store.set_feedback(session_id, user_id, turn_idx, value)

    # -- limits -----------------------------------------------------------------------
    def validate_message(self, text: str) -> str:
        """Return the message to send, or raise ChatInputError with a plain reason.

        Control characters are removed here, once, for every store (tab and newline kept; see
        :func:`assistant.inputs.strip_control_chars`), so the store never sees a NUL from the
        user; a message of nothing but control characters and spaces is refused as empty. The
        length limit applies to the text that would be sent.

        Args:
            text: What the user typed or pasted.

        Returns:
            The message to send: without control characters and surrounding whitespace.

        Raises:
            ChatInputError: The message is empty or longer than MAX_MESSAGE_CHARS.
        """
        cleaned = strip_control_chars(text).strip() if isinstance(text, str) else ""
        if not cleaned:
            raise ChatInputError("Type a message first: an empty message cannot be sent.")
        limit = self.settings.max_message_chars
        if len(cleaned) > limit:
            raise ChatInputError(
                f"Your message is {len(cleaned):,} characters long; the limit is {limit:,}. "
                "Shorten it (or split it) and send again."
            )
        return cleaned

    def spend_today(self, user_id: str) -> float:
        """What the user's model calls cost today (UTC), from the ledger."""
        from assistant.usage.queries import spend_today

        return float(spend_today(self.store.engine, user_id, self.clock()))

    def check_limits(self, user_id: str) -> None:
        """Raise LimitExceededError when the daily budget or the rate limit would refuse a send now.

        Counts nothing: a send is counted by the transaction that starts its turn.

        Args:
            user_id: The sender.

        Raises:
            LimitExceededError: With ``retry_at`` (when sending is possible again).
            StorageUnavailableError: The database cannot be reached.
        """
        now = self.clock()
        count, oldest = self._send_log.window(user_id, since=now - RATE_WINDOW)
        self._refuse_over_limits(SendWindow(self.spend_today(user_id), count, oldest))

    # -- agent cache ------------------------------------------------------------------
    def _evict(self, session_id: str) -> None:
        with self._slots_lock:
            self._slots.pop(session_id, None)

    def _bump_slot(self, session_id: str, version: int) -> None:
        with self._slots_lock:
            slot = self._slots.get(session_id)
            if slot is not None and slot.version == version - 1:
                slot.version = version

    def _slot_for(self, session_id: str, user_id: str) -> _AgentSlot:
        """The session's live agent slot (one per session, whatever version it holds).

        Its lock serialises sends to the session in this process; ``_run_turn`` rebuilds the
        agent when the stored version moved. An id owned by another user never gets the
        owner's slot (the store then answers "not found").
        """
        with self._slots_lock:
            slot = self._slots.get(session_id)
            if slot is not None and slot.user_id == user_id:
                self._slots.move_to_end(session_id)
                return slot
            fresh = _AgentSlot(session_id=session_id, user_id=user_id, version=-1, storage=TurnSnapshotStorage())
            if slot is None:
                self._slots[session_id] = fresh
                while len(self._slots) > AGENT_CACHE_SIZE:
                    self._slots.popitem(last=False)
            return fresh

    def _build_agent(self, slot: _AgentSlot, meta: SessionMeta) -> None:
        doc = self.store.load(meta.id, meta.user_id)
        slot.storage.reset(doc.agent_snapshot)
        deps = ToolDeps(
            data_dir=self.settings.data_dir,
            engine=self.store.engine,
            user_id=meta.user_id,
            session_id=meta.id,
            now=self.clock,
        )
        slot.agent = create_meeting_coordinator(
            model=self.model(),
            deps=deps,
            session_manager=SnapshotSessionManager(meta.id, storage=slot.storage, save_latest_on="trigger"),
            hooks=[_RecorderHooks(slot)],
            retry_strategy=ModelRetryStrategy(max_attempts=3, initial_delay=1, max_delay=8),
        )
        slot.version = doc.meta.version
        logger.debug("session_id=<%s>, version=<%s> | agent resumed", meta.id, slot.version)

    # -- sending ----------------------------------------------------------------------
    async def send(self, session_id: str, user_id: str, text: str) -> AsyncIterator[ChatEvent]:
        """Send a message and stream the answer's events; the last event is Done or ErrorEvent.

        Raises (before anything is written): ChatInputError, LimitExceededError,
        SessionNotFoundError, SessionReadOnlyError, SessionBusyError.
        """
        prompt = self.validate_message(text)
        meta, slot = self._prepare(session_id, user_id, prompt)
        events: asyncio.Queue[ChatEvent | None] = asyncio.Queue()
        task = asyncio.ensure_future(self._run_turn(slot, meta, prompt, events))
        try:
            while True:
                event = await events.get()
                if event is None:
                    break
                yield event
        finally:
            if not task.done():
                self._cancel(slot)
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(task)

    def _prepare(self, session_id: str, user_id: str, prompt: str) -> tuple[SessionMeta, _AgentSlot]:
        """Take the session's slot and begin the turn of an already validated message."""
        slot = self._slot_for(session_id, user_id)
        if not slot.lock.acquire(blocking=False):
            raise SessionBusyError("An answer for this session is still being written. Wait for it, or stop it.")
        try:
            # One transaction before the model: the session's row (a turn another replica
            # committed is seen, so the agent is rebuilt instead of answering on stale history),
            # the limits decision, the send counted, and the question kept as pending (a crash,
            # a restart or a lost race never makes it vanish).
            meta = self.store.begin_turn(
                session_id,
                user_id,
                text=prompt,
                owner=self.owner,
                now=self.clock(),
                rate_window=RATE_WINDOW,
                decide=self._decide_send,
            )
        except BaseException:
            slot.lock.release()
            raise
        return meta, slot

    def _decide_send(self, meta: SessionMeta, window: SendWindow) -> None:
        """Refuse a send to a closed or damaged session, or over the user's budget or rate (raises)."""
        if meta.read_only:
            raise SessionReadOnlyError(
                f"This session is {meta.state} and read-only. Use “Continue in a new session” to carry on."
            )
        if meta.damaged:
            raise SessionDamagedError("This session's stored data is damaged; start a new session.")
        self._refuse_over_limits(window)

    def _refuse_over_limits(self, window: SendWindow) -> None:
        """The one limits decision: the daily budget, then the rate limit (raises LimitExceededError)."""
        now = self.clock()
        budget = self.settings.daily_budget_usd
        spent = window.spent_today_usd
        if budget > 0 and spent >= budget:
            midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            reason = f"Today's budget of ${budget:.2f} is used up (spent ${spent:.4f})."
            raise LimitExceededError(
                f"{reason} It resets at {midnight:%Y-%m-%d %H:%M} UTC.",
                midnight,
                reason=f"{reason} It resets at midnight UTC.",
            )
        per_minute = self.settings.messages_per_minute
        if window.recent_sends >= per_minute and window.oldest_recent_send is not None:
            retry_at = window.oldest_recent_send + RATE_WINDOW
            wait = max(1, int((retry_at - now).total_seconds()) + 1)
            reason = f"You have sent {per_minute} messages in the last minute, the most allowed."
            raise LimitExceededError(
                f"{reason} You can send again at {retry_at:%H:%M:%S} UTC (in {wait} s).",
                retry_at,
                reason=reason,
            )

    def _cancel(self, slot: _AgentSlot) -> None:
        if slot.agent is not None:
            slot.agent.cancel()

    def stop(self, session_id: str) -> bool:
        """Stop the answer being written for this session; what was produced is kept, marked stopped."""
        with self._slots_lock:
            slot = self._slots.get(session_id)
        if slot is None or not slot.lock.locked() or slot.agent is None:
            return False
        logger.info("session_id=<%s> | stopping answer", session_id)
        slot.agent.cancel()
        return True

    def is_busy(self, session_id: str) -> bool:
        """Whether an answer is being written for this session right now."""
        with self._slots_lock:
            slot = self._slots.get(session_id)
        return bool(slot and slot.lock.locked())

    def wait_idle(self, session_id: str, timeout: float = 10.0) -> bool:
        """Wait until no answer is being written for this session (True when idle)."""
        deadline = time.monotonic() + timeout
        while self.is_busy(session_id):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    async def _run_turn(
        self, slot: _AgentSlot, meta: SessionMeta, prompt: str, events: asyncio.Queue[ChatEvent | None]
    ) -> None:
        recorder = _TurnRecorder(events=events)
        started_at = self.clock()
        heartbeat = asyncio.ensure_future(self._heartbeat(meta.id))
        try:
            if slot.agent is None or slot.version != meta.version:
                await asyncio.to_thread(self._build_agent, slot, meta)
                if slot.version != meta.version:
                    meta = await asyncio.to_thread(self.store.get_meta, meta.id, meta.user_id)
            assert slot.agent is not None
            slot.recorder = recorder
            result = None
            try:
                async with asyncio.timeout(self.settings.model_timeout_seconds):
                    async for raw in slot.agent.stream_async(
                        prompt,
                        limits={
                            "turns": self.settings.max_agent_turns,
                            "output_tokens": self.settings.max_output_tokens,
                        },
                    ):
                        self._on_stream_event(raw, recorder)
                        if "result" in raw:
                            result = raw["result"]
            except TimeoutError as e:
                slot.agent.cancel()
                raise TimeoutError("the model did not finish in time") from e
            stop_reason = str(getattr(result, "stop_reason", "end_turn"))
            await self._commit(slot, meta, prompt, recorder, started_at, stop_reason)
        except Exception as e:
            await self._fail(slot, meta, prompt, recorder, e)
        finally:
            heartbeat.cancel()
            slot.recorder = None
            slot.lock.release()
            events.put_nowait(None)

    async def _heartbeat(self, session_id: str) -> None:
        """Tell other processes this one is still answering (a dead process's question shows Retry)."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await asyncio.to_thread(self.store.heartbeat_pending, session_id, self.owner, self.clock())
            except SessionError as e:
                logger.warning("session_id=<%s>, error=<%s> | heartbeat not written", session_id, e)

    def pending_turn(self, session_id: str, user_id: str | None) -> PendingTurn | None:
        """The session's question that no stored turn answers yet, as the page should show it.

        A question this process is answering right now is not returned (the page streams
        it). A "running" question whose process stopped answering (killed, restarted: no
        heartbeat for :data:`STALE_AFTER`) is returned as failed with category "interrupted".
        """
        if self.is_busy(session_id):
            return None
        pending = self.store.pending_turn(session_id, user_id)
        if pending is None or pending.status == "failed":
            return pending
        alive = pending.owner != self.owner and not _owner_is_dead(pending.owner)
        if alive and self.clock() - pending.heartbeat_at < STALE_AFTER:
            return pending  # another process is answering it
        return replace(
            pending,
            status="failed",
            error_category="interrupted",
            error_message=INTERRUPTED_MESSAGE,
            retryable=True,
        )

    def dismiss_pending(self, session_id: str, user_id: str) -> None:
        """Forget a failed question the user does not want to send again."""
        self.store.clear_pending(session_id, user_id)

    def _on_stream_event(self, raw: dict[str, Any], rec: _TurnRecorder) -> None:
        chunk = raw.get("event")
        if isinstance(chunk, dict) and "contentBlockDelta" in chunk:
            call = rec.current_call
            if call is not None and call.first_token is None:
                call.first_token = time.perf_counter()
        if "data" in raw and isinstance(raw["data"], str) and raw["data"]:
            if rec.first_text is None:
                rec.first_text = time.perf_counter()
            rec.current_text += raw["data"]
            rec.events.put_nowait(TextDelta(raw["data"]))

    def _usage_records(self, meta: SessionMeta, rec: _TurnRecorder) -> list[UsageRecord]:
        provider, model_id = parse_model_name(self.model_name)
        if provider in ("offline", "faulty"):
            model_id = "offline"  # priced (at $0) and labelled as the offline demo model
        out = []
        for call in rec.calls:
            cost, version = self.prices.cost(
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
                    call_id=str(uuid.uuid4()),
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

    async def _commit(
        self,
        slot: _AgentSlot,
        meta: SessionMeta,
        prompt: str,
        rec: _TurnRecorder,
        started_at: datetime,
        stop_reason: str,
    ) -> None:
        usage = self._usage_records(meta, rec)
        for u in usage:
            rec.events.put_nowait(UsageEvent(u.input_tokens, u.output_tokens, u.cost_usd, u.ttft_ms, u.latency_ms))
        assert slot.agent is not None
        _close_history(slot.agent, rec)
        snapshot = capture_snapshot(slot.agent)
        # metadata (usage, latency) goes to the ledger, not the transcript
        messages = [{k: v for k, v in m.items() if k != "metadata"} for m in rec.messages]
        # what strands kept of the question (a guardrail may have redacted it) is what is stored
        asked = _user_text(messages[0]) if messages and messages[0].get("role") == "user" else None
        if asked is not None:
            prompt = asked
        status: Literal["ok", "stopped"] = "ok"
        error = None
        if stop_reason == "cancelled":
            status = "stopped"
            error = "Stopped by the user."
        elif stop_reason.startswith("limit_"):
            status = "stopped"
            error = "The answer hit the assistant's step limit and was cut short."
        costs = [u.cost_usd for u in usage]
        turn = TurnRecord(
            idx=meta.turn_count,
            user_text=prompt,
            started_at=started_at,
            ended_at=self.clock(),
            status=status,
            first_message_idx=meta.message_count,
            end_message_idx=meta.message_count + len(messages),
            model=self.model_name,
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
        commit = TurnCommit(messages=messages, turn=turn, agent_snapshot=snapshot, usage=usage, title=title)
        new_meta = await asyncio.to_thread(
            self.store.commit_turn, meta.id, meta.user_id, expected_version=meta.version, commit=commit
        )
        slot.version = new_meta.version
        logger.info(
            "user_id=<%s>, session_id=<%s>, turn=<%s>, status=<%s>, input_tokens=<%s>, output_tokens=<%s>"
            " | turn stored",
            meta.user_id,
            meta.id,
            turn.idx,
            status,
            turn.input_tokens,
            turn.output_tokens,
        )
        rec.events.put_nowait(Done(turn=turn, meta=new_meta))

    async def _fail(self, slot: _AgentSlot, meta: SessionMeta, prompt: str, rec: _TurnRecorder, exc: Exception) -> None:
        self._evict(slot.session_id)
        slot.agent = None
        usage = self._usage_records(meta, rec)
        turn_idx = meta.turn_count
        if isinstance(exc, SessionConflictError):
            # Another tab or replica stored a turn first. This attempt's calls are a failed
            # attempt of the turn its question will become when sent again, never part of the
            # turn that won; the question itself stays (pending) for sending again.
            category, message, retryable = "conflict", CONFLICT_LOST_MESSAGE, True
            with contextlib.suppress(SessionError):
                turn_idx = (await asyncio.to_thread(self.store.get_meta, meta.id, meta.user_id)).turn_count
            usage = [replace(u, turn_idx=turn_idx, error=u.error or NOT_STORED_ERROR) for u in usage]
        elif isinstance(exc, (StorageUnavailableError, StorageError)):
            category, message, retryable = (
                "storage",
                "Your message could not be saved because storage is unavailable. Nothing was lost; try again.",
                True,
            )
        elif isinstance(exc, SessionError):
            category, message, retryable = "session", str(exc), False
        else:
            category, message, retryable = error_category(exc)
        logger.error(
            "user_id=<%s>, session_id=<%s>, category=<%s>, error=<%s> | turn failed",
            meta.user_id,
            meta.id,
            category,
            repr(exc)[:500],
        )
        if usage:
            try:
                await asyncio.to_thread(self.store.record_usage, usage)
            except SessionError as e:
                logger.error("session_id=<%s>, error=<%s> | could not record usage of failed turn", meta.id, e)
        if rec.messages and rec.messages[0].get("role") == "user":
            prompt = _user_text(rec.messages[0])  # as strands kept it (a guardrail may have redacted it)
        now = self.clock()
        failed = PendingTurn(
            session_id=meta.id,
            user_id=meta.user_id,
            turn_idx=turn_idx,
            text=prompt,
            status="failed",
            owner=self.owner,
            started_at=now,
            heartbeat_at=now,
            error_category=category,
            error_message=message,
            retryable=retryable,
        )
        try:
            await asyncio.to_thread(self.store.save_pending, failed)
        except SessionError as e:
            logger.error("session_id=<%s>, error=<%s> | could not mark question failed", meta.id, e)
        rec.events.put_nowait(ErrorEvent(category=category, message=message, retryable=retryable))

    # -- sync bridge ------------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._loop_lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="chat-service-loop", daemon=True)
                thread.start()
                self._loop = loop
            return self._loop

    def start_turn(
        self, user_id: str, text: str, *, session_id: str | None = None, user_email: str | None = None
    ) -> StartedTurn:
        """The one entry for a send, from the chat page and the CLI alike.

        Validates the message once and decides the limits once. Without ``session_id`` the
        message starts a new session, created only when the limits allow the send (a refused
        first message leaves nothing behind). The answer starts at once; iterate
        ``events`` to stream it (the last event is Done or ErrorEvent). Closing the iterator
        early (the page was interrupted, the user pressed Stop) stops the answer; what was
        produced is stored and marked stopped.

        Args:
            user_id: The sender.
            text: The message as typed.
            session_id: The session to send to; None starts a new one.
            user_email: The sender's email, recorded on a new session (admins see it).

        Returns:
            The session (as before the turn) and the stream of the answer's events.

        Raises:
            ChatInputError: Empty or too long; nothing was written.
            LimitExceededError: Budget or rate; nothing was written.
            SessionNotFoundError, SessionReadOnlyError, SessionDamagedError: The session cannot take it.
            SessionBusyError: An answer for this session is still being written.
            StorageUnavailableError: The database cannot be reached.
        """
        prompt = self.validate_message(text)
        if session_id is None:
            self.check_limits(user_id)
            session_id = self.create_session(user_id, user_email=user_email).id
        meta, slot = self._prepare(session_id, user_id, prompt)
        return StartedTurn(session=meta, text=prompt, events=self._stream_sync(slot, meta, prompt))

    def send_sync(self, session_id: str, user_id: str, text: str) -> Iterator[ChatEvent]:
        """The answer's events for a message to an existing session (see :meth:`start_turn`)."""
        return self.start_turn(user_id, text, session_id=session_id).events

    def _stream_sync(self, slot: _AgentSlot, meta: SessionMeta, prompt: str) -> Iterator[ChatEvent]:
        """Run the turn on the service's event loop and hand its events to a synchronous caller."""
        loop = self._ensure_loop()
        out: queue.Queue[list[ChatEvent | None]] = queue.Queue()

        async def pump() -> None:
            # Events are handed over in batches: one cross-thread wake-up per batch, not per token.
            events: asyncio.Queue[ChatEvent | None] = asyncio.Queue()
            task = asyncio.ensure_future(self._run_turn(slot, meta, prompt, events))
            while True:
                batch = [await events.get()]
                while not events.empty():
                    batch.append(events.get_nowait())
                out.put(batch)
                if batch[-1] is None:
                    break
            await task

        asyncio.run_coroutine_threadsafe(pump(), loop)
        return self._drain(out, slot)

    def _drain(self, out: queue.Queue[list[ChatEvent | None]], slot: _AgentSlot) -> Iterator[ChatEvent]:
        finished = False
        try:
            while True:
                for event in out.get():
                    if event is None:
                        finished = True
                        return
                    yield event
        finally:
            if not finished:
                self._cancel(slot)

    def run_turn(self, session_id: str, user_id: str, text: str) -> list[ChatEvent]:
        """Send and collect every event (CLI example, tests, benchmarks)."""
        return list(self.send_sync(session_id, user_id, text))
