"""ChatService: sessions, sends and the turn's lifecycle (see the package docstring for one turn's path)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import replace
from datetime import datetime, tzinfo

from strands import ModelRetryStrategy
from strands.models import Model
from strands.session import SnapshotSessionManager

from assistant.agents.meeting_coordinator import create_meeting_coordinator
from assistant.chat.bridge import LoopBridge
from assistant.chat.display import DEFAULT_TITLE
from assistant.chat.events import (
    ChatEvent,
    ChatInputError,
    Done,
    ErrorEvent,
    ModelChoiceError,
    SessionBusyError,
    StartedTurn,
    UsageEvent,
)
from assistant.chat.limits import RATE_WINDOW, refuse_over_limits
from assistant.chat.pending import HEARTBEAT_SECONDS, as_shown, new_owner
from assistant.chat.recorder import (
    AgentSlot,
    AgentSlots,
    RecorderHooks,
    TurnRecorder,
    on_stream_event,
    usage_records,
    user_text,
)
from assistant.chat.turn import NOT_STORED_ERROR, build_commit, classify_failure
from assistant.config import Settings
from assistant.context.calendar import CalendarService
from assistant.context.meetings import Meeting
from assistant.context.prep_sessions import bind_session
from assistant.inputs import strip_control_chars
from assistant.models.providers import note_local_models
from assistant.models.registry import ModelNameError, canonical_model_name, describe_model, get_model
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
    utcnow,
)
from assistant.tools.deps import ToolDeps
from assistant.usage.pricing import PriceTable

logger = logging.getLogger(__name__)

AGENT_ID = "meeting_coordinator"
AGENT_CACHE_SIZE = 64


# --------------------------------------------------------------------------- service
class ChatService:
    """Create, resume, send to and manage chat sessions.

    Args:
        settings: Application settings.
        store: Session persistence (SQL, or S3 with a SQL index).
        prices: Price table used to cost every model call at write time.
        model_factory: Builds the strands model for a registry name (tests inject fakes).
        clock: Source of "now" for limits and tools.

    Models: the deployment offers ``settings.offered_models`` (MODELS; the default first). A
    session records the model it was created with and every turn of it answers with that model,
    even after the default changed. A session whose model is no longer offered, or has become
    admin-only for a user who is not an admin, is read-only (:meth:`model_refusal`; "Continue in
    a new session" carries its context to a model that is offered).
    """

    def __init__(
        self,
        settings: Settings,
        store: SessionStore,
        *,
        prices: PriceTable,
        model_factory: Callable[[str], Model] | None = None,
        clock: Callable[[], datetime] = utcnow,
        calendar: CalendarService | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.prices = prices
        self.model_name = settings.model_name
        self._model_factory = model_factory or (lambda name: get_model(name, settings))
        self.clock = clock
        # each user's calendar (connected source or demo), read by the tools
        self.calendar = calendar or CalendarService(store.engine, settings, clock=clock)
        self._slots = AgentSlots(AGENT_CACHE_SIZE)
        self._zones: dict[str, tzinfo] = {}  # each user's browser zone, as their last send reported it
        self._model_lock = threading.Lock()
        self._bridge = LoopBridge("chat-service-loop")
        self._models: dict[str, Model] = {}  # canonical registry name -> its one client in this process
        self._offered = {canonical_model_name(name): name for name in settings.offered_models}
        self._admin_only = {canonical_model_name(name) for name in settings.admin_models}
        note_local_models(settings)  # local models priced $0 and labelled "local" before any is built
        # who answers a pending question: host, process and this service (a restart is a new owner)
        self.owner = new_owner()

    def model(self, name: str | None = None) -> Model:
        """The strands model for a registry name (default: the default model), built once per process.

        Every session answering with that model shares it (one client per process per model).
        """
        name = name or self.model_name
        key = canonical_model_name(name)
        with self._model_lock:
            model = self._models.get(key)
            if model is None:
                model = self._models[key] = self._model_factory(name)
            return model

    # -- models -----------------------------------------------------------------------
    @property
    def offered_models(self) -> tuple[str, ...]:
        """The registry names this deployment offers (MODELS), the default first."""
        return tuple(self._offered.values())

    def _key(self, name: str) -> str | None:
        try:
            return canonical_model_name(name)
        except ModelNameError:
            return None

    def _label(self, name: str) -> str:
        return describe_model(name).label if self._key(name) is not None else name

    def is_admin_only(self, name: str) -> bool:
        """Whether only ADMIN_EMAILS users may pick this model."""
        return self._key(name) in self._admin_only

    def models_for(self, user_email: str | None) -> list[str]:
        """The models this user may pick for a new session, the default first (admins: every one)."""
        admin = self.settings.is_admin(user_email)
        return [name for key, name in self._offered.items() if admin or key not in self._admin_only]

    def choose_model(self, model: str | None, user_email: str | None) -> str:
        """The registry name a new session of this user answers with (None: the default).

        Raises:
            ModelChoiceError: The model is not offered, or is admin-only and the user is not an admin.
        """
        if model is None:
            return self.model_name
        key = self._key(model)
        if key is None or key not in self._offered:
            raise ModelChoiceError(f"{model} is not one of the models offered here ({', '.join(self.offered_models)}).")
        if key in self._admin_only and not self.settings.is_admin(user_email):
            raise ModelChoiceError(f"{describe_model(model).label} is only for administrators; pick another model.")
        return self._offered[key]

    def model_refusal(self, meta: SessionMeta) -> str | None:
        """Why this session may not take new turns with its recorded model, or None when it may.

        A session keeps the model it was created with; when the deployment stops offering that
        model (MODELS changed), or makes it admin-only for a user who is not an admin, the
        session becomes read-only rather than silently answering with another model.
        """
        name = meta.model or self.model_name
        key = self._key(name)
        label = self._label(name)
        if key is None or key not in self._offered:
            why = f"This session answers with {label}, which is no longer offered here"
        elif key in self._admin_only and not self.settings.is_admin(meta.user_email):
            why = f"This session answers with {label}, which is now only for administrators"
        else:
            return None
        return f"{why}, so it is read-only. Continue in a new session to carry on with the same context."

    # -- sessions ---------------------------------------------------------------------
    def create_session(self, user_id: str, *, user_email: str | None = None, model: str | None = None) -> SessionMeta:
        """Start a new, empty session for the user, answering with ``model`` (None: the default).

        Raises:
            ModelChoiceError: The model is not offered, or not to this user; nothing was written.
        """
        chosen = self.choose_model(model, user_email)
        return self.store.create_session(user_id, model=chosen, user_email=user_email, title=DEFAULT_TITLE)

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
        self._slots.bump(session_id, meta.version)
        return meta

    def delete(self, session_id: str, user_id: str) -> None:
        """Delete a session and its transcript."""
        self.store.delete(session_id, user_id)
        self._slots.evict(session_id)

    def complete(self, session_id: str, user_id: str) -> SessionMeta:
        """End a session: it becomes read-only (it can be continued in a new session)."""
        meta = self.store.set_state(session_id, user_id, "completed")
        self._slots.evict(session_id)
        return meta

    def continue_session(self, session_id: str, user_id: str, *, user_email: str | None = None) -> SessionMeta:
        """Start a new session that carries the context of a completed or expired one.

        It answers with the same model when that one is still offered to the user, else the default.
        """
        doc = self.store.load(session_id, user_id)
        title = doc.meta.title if doc.meta.title.startswith("Continued: ") else f"Continued: {doc.meta.title}"
        same = doc.meta.model and self.model_refusal(doc.meta) is None
        meta = self.store.create_session(
            user_id,
            model=self._offered[canonical_model_name(doc.meta.model)] if same else self.model_name,
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
        from assistant.usage.ledger import spend_today

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
        refuse_over_limits(self.settings, self.store.send_window(user_id, now=now, rate_window=RATE_WINDOW), now)

    def _build_agent(self, slot: AgentSlot, meta: SessionMeta) -> None:
        doc = self.store.load(meta.id, meta.user_id)
        slot.storage.reset(doc.agent_snapshot)
        self.calendar.remember_email(meta.user_id, meta.user_email)
        deps = ToolDeps(
            data_dir=self.settings.data_dir,
            engine=self.store.engine,
            user_id=meta.user_id,
            session_id=meta.id,
            now=self.clock,
            calendar=self.calendar,
            user_email=meta.user_email,
            zone_of=lambda: self._zones.get(meta.user_id),
        )
        slot.agent = create_meeting_coordinator(
            model=self.model(doc.meta.model or self.model_name),  # the session's own model, always
            deps=deps,
            session_manager=SnapshotSessionManager(meta.id, storage=slot.storage, save_latest_on="trigger"),
            hooks=[RecorderHooks(slot)],
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

    def _prepare(self, session_id: str, user_id: str, prompt: str) -> tuple[SessionMeta, AgentSlot]:
        """Take the session's slot and begin the turn of an already validated message."""
        slot = self._slots.for_session(session_id, user_id)
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
        refusal = self.model_refusal(meta)
        if refusal is not None:
            raise SessionReadOnlyError(refusal)
        refuse_over_limits(self.settings, window, self.clock())

    def _cancel(self, slot: AgentSlot) -> None:
        if slot.agent is not None:
            slot.agent.cancel()

    def stop(self, session_id: str) -> bool:
        """Stop the answer being written for this session; what was produced is kept, marked stopped."""
        slot = self._slots.get(session_id)
        if slot is None or not slot.lock.locked() or slot.agent is None:
            return False
        logger.info("session_id=<%s> | stopping answer", session_id)
        slot.agent.cancel()
        return True

    def is_busy(self, session_id: str) -> bool:
        """Whether an answer is being written for this session right now."""
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
        self, slot: AgentSlot, meta: SessionMeta, prompt: str, events: asyncio.Queue[ChatEvent | None]
    ) -> None:
        recorder = TurnRecorder(events=events)
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
                        on_stream_event(raw, recorder)
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
        return None if pending is None else as_shown(pending, owner=self.owner, now=self.clock())

    def dismiss_pending(self, session_id: str, user_id: str) -> None:
        """Forget a failed question the user does not want to send again."""
        self.store.clear_pending(session_id, user_id)

    async def _commit(
        self,
        slot: AgentSlot,
        meta: SessionMeta,
        prompt: str,
        rec: TurnRecorder,
        started_at: datetime,
        stop_reason: str,
    ) -> None:
        usage = usage_records(meta.model or self.model_name, self.prices, meta, rec)
        for u in usage:
            rec.events.put_nowait(UsageEvent(u.input_tokens, u.output_tokens, u.cost_usd, u.ttft_ms, u.latency_ms))
        assert slot.agent is not None
        commit = build_commit(
            slot.agent,
            meta,
            prompt,
            rec,
            usage,
            model=meta.model or self.model_name,
            started_at=started_at,
            ended_at=self.clock(),
            stop_reason=stop_reason,
        )
        turn = commit.turn
        commit_now = functools.partial(
            self.store.commit_turn, meta.id, meta.user_id, expected_version=meta.version, commit=commit
        )
        if getattr(self.store, "commit_is_local", False) and self._slots.busy_count() <= 1:
            # A local SQLite commit while no other answer streams on this loop: run here, saving
            # two thread hops (~0.5 ms a turn). A wait on SQLite's write lock holds up only later
            # sends, which wait for that same lock in begin_turn anyway.
            new_meta = commit_now()
        else:
            new_meta = await asyncio.to_thread(commit_now)
        slot.version = new_meta.version
        logger.info(
            "user_id=<%s>, session_id=<%s>, turn=<%s>, status=<%s>, input_tokens=<%s>, output_tokens=<%s>"
            " | turn stored",
            meta.user_id,
            meta.id,
            turn.idx,
            turn.status,
            turn.input_tokens,
            turn.output_tokens,
        )
        rec.events.put_nowait(Done(turn=turn, meta=new_meta))

    async def _fail(self, slot: AgentSlot, meta: SessionMeta, prompt: str, rec: TurnRecorder, exc: Exception) -> None:
        self._slots.evict(slot.session_id)
        slot.agent = None
        usage = usage_records(meta.model or self.model_name, self.prices, meta, rec)
        turn_idx = meta.turn_count
        category, message, retryable = classify_failure(exc)
        if isinstance(exc, SessionConflictError):
            # Another tab or replica stored a turn first. This attempt's calls are a failed
            # attempt of the turn its question will become when sent again, never part of the
            # turn that won; the question itself stays (pending) for sending again.
            with contextlib.suppress(SessionError):
                turn_idx = (await asyncio.to_thread(self.store.get_meta, meta.id, meta.user_id)).turn_count
            usage = [replace(u, turn_idx=turn_idx, error=u.error or NOT_STORED_ERROR) for u in usage]
        logger.error(
            "user_id=<%s>, session_id=<%s>, category=<%s>, error=<%s> | turn failed",
            meta.user_id,
            meta.id,
            category,
            repr(exc)[:500],
        )
        if rec.messages and rec.messages[0].get("role") == "user":
            prompt = user_text(rec.messages[0])  # as strands kept it (a guardrail may have redacted it)
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
        try:  # the failed calls (billed all the same) and the question kept for Retry: one write
            await asyncio.to_thread(self.store.fail_turn, usage, failed)
        except SessionError as e:
            logger.error("session_id=<%s>, error=<%s> | could not record the failed turn", meta.id, e)
        rec.events.put_nowait(ErrorEvent(category=category, message=message, retryable=retryable))

    # -- sync bridge ------------------------------------------------------------------

    def start_turn(
        self,
        user_id: str,
        text: str,
        *,
        session_id: str | None = None,
        user_email: str | None = None,
        meeting: Meeting | None = None,
        tz: tzinfo | None = None,
        model: str | None = None,
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
            meeting: For a new session started from the Prep queue, the meeting it prepares.
            tz: The sender's time zone (their browser's): the tools place and quote times in it.
            model: For a new session, the model it answers with (None: the default); checked
                against MODELS and ADMIN_MODELS. An existing session keeps its own model: naming
                another one is refused.

        Returns:
            The session (as before the turn) and the stream of the answer's events.

        Raises:
            ChatInputError: Empty or too long; nothing was written.
            ModelChoiceError: The model is not offered, not to this user, or not this session's.
            LimitExceededError: Budget or rate; nothing was written.
            SessionNotFoundError, SessionReadOnlyError, SessionDamagedError: The session cannot take it.
            SessionBusyError: An answer for this session is still being written.
            StorageUnavailableError: The database cannot be reached.
        """
        prompt = self.validate_message(text)
        if tz is not None:
            self._zones[user_id] = tz
        if session_id is None:
            chosen = self.choose_model(model, user_email)
            self.check_limits(user_id)
            session_id = self.create_session(user_id, user_email=user_email, model=chosen).id
            if meeting is not None:
                bind_session(
                    self.store.engine, session_id=session_id, user_id=user_id, meeting=meeting, now=self.clock()
                )
        elif model is not None:
            recorded = self.store.get_meta(session_id, user_id).model or self.model_name
            if self._key(model) != self._key(recorded):
                raise ModelChoiceError(
                    f"This session answers with {self._label(recorded)}; "
                    f"start a new session to ask {self._label(model)}."
                )
        meta, slot = self._prepare(session_id, user_id, prompt)
        return StartedTurn(session=meta, text=prompt, events=self._stream_sync(slot, meta, prompt))

    def send_sync(self, session_id: str, user_id: str, text: str) -> Iterator[ChatEvent]:
        """The answer's events for a message to an existing session (see :meth:`start_turn`)."""
        return self.start_turn(user_id, text, session_id=session_id).events

    def _stream_sync(self, slot: AgentSlot, meta: SessionMeta, prompt: str) -> Generator[ChatEvent, None, None]:
        """Run the turn on the service's event loop and hand its events to a synchronous caller."""
        return self._bridge.stream(
            lambda events: self._run_turn(slot, meta, prompt, events), on_abandon=lambda: self._cancel(slot)
        )

    def run_turn(self, session_id: str, user_id: str, text: str) -> list[ChatEvent]:
        """Send and collect every event (CLI example, tests, benchmarks)."""
        return list(self.send_sync(session_id, user_id, text))
