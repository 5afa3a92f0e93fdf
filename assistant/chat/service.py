"""ChatService: sessions, sends and the turn's lifecycle (see the package docstring for one turn's path)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from assistant.chat.bridge import LoopBridge
from assistant.chat.display import DEFAULT_TITLE, derive_title
from assistant.chat.events import BUSY_CHANGE_MESSAGE, ChatEvent, SessionBusyError, StartedTurn
from assistant.chat.limits import RATE_WINDOW, admit, message_to_send, price_of, refuse_over_limits
from assistant.chat.model_choice import ModelOffer
from assistant.chat.pending import as_shown, new_owner
from assistant.chat.slots import AgentSlot, AgentSlots
from assistant.config import Settings
from assistant.context.calendar import CalendarService
from assistant.context.meetings import Meeting
from assistant.context.prep_sessions import bind_session
from assistant.models.providers import check_model_servers, note_local_models
from assistant.models.registry import canonical_model_name, get_model
from assistant.sessions.base import (
    PendingTurn,
    SessionConflictError,
    SessionDocument,
    SessionError,
    SessionMeta,
    SessionQuery,
    SessionStore,
    utcnow,
)
from assistant.sessions.continuations import continuation_title, unused_continuation
from assistant.sessions.rows import clean_title
from assistant.usage.pricing import PriceTable

if TYPE_CHECKING:  # imported on the first send (strands): the chat page draws without them
    from strands.models import Model

    from assistant.chat.runner import TurnRunner
    from assistant.usage.ledger import TodaySpend

logger = logging.getLogger(__name__)

AGENT_CACHE_SIZE = 64
BUSY_CHANGE_WAIT_S = 1.5  # a rename or complete waits this long for another tab's answer, then is refused


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
        self.offer = ModelOffer(settings)
        note_local_models(settings)  # local models priced $0 and labelled "local" before any is built
        # who answers a pending question: host, process and this service (a restart is a new owner)
        self.owner = new_owner()
        self._turn_runner: TurnRunner | None = None
        self._runner_lock = threading.Lock()

    @property
    def _runner(self) -> TurnRunner:
        """What runs a begun turn, built on the first send (or by :meth:`prepare_first_send`)."""
        return self._turn_runner or self._build_runner()

    def _build_runner(self) -> TurnRunner:
        with self._runner_lock:
            if self._turn_runner is None:
                from assistant.chat.runner import TurnRunner  # imports strands: kept out of the cold start

                self._turn_runner = TurnRunner(
                    self.settings,
                    self.store,
                    prices=self.prices,
                    model=self.model,
                    clock=self.clock,
                    calendar=self.calendar,
                    slots=self._slots,
                    zones=self._zones,
                    owner=self.owner,
                )
            return self._turn_runner

    def prepare_first_send(self) -> None:
        """Import and build what the first send needs: the turn runner (strands) and the default model.

        Building the service imports no strands and builds no model client, so the chat page
        draws sooner; the app calls this once its first page is drawn, so that the first send
        does not pay for them either (a send before that builds them itself).
        """
        self._build_runner()
        self.model()
        check_model_servers(self.settings)  # a self-hosted model server that is down, named in the log

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

    # -- models (see assistant.chat.model_choice) --------------------------------------
    @property
    def offered_models(self) -> tuple[str, ...]:
        """The registry names this deployment offers (MODELS), the default first."""
        return self.offer.offered

    def is_admin_only(self, name: str) -> bool:
        """Whether only ADMIN_EMAILS users may pick this model."""
        return self.offer.is_admin_only(name)

    def models_for(self, user_email: str | None) -> list[str]:
        """The models this user may pick for a new session, the default first (admins: every one)."""
        return self.offer.models_for(user_email)

    def choose_model(self, model: str | None, user_email: str | None) -> str:
        """The registry name a new session of this user answers with (None: the default).

        Raises:
            ModelChoiceError: The model is not offered, or is admin-only and the user is not an admin.
        """
        return self.offer.choose(model, user_email)

    def model_refusal(self, meta: SessionMeta) -> str | None:
        """Why this session may not take new turns with its recorded model, or None when it may.

        A session keeps the model it was created with; when the deployment stops offering that
        model (MODELS changed), or makes it admin-only for a user who is not an admin, the
        session becomes read-only rather than silently answering with another model.
        """
        return self.offer.refusal(meta)

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

    def rename(self, session_id: str, user_id: str, title: str, *, stop_answer: bool = False) -> SessionMeta:
        """Rename a session (an empty title is refused at once); ``stop_answer``: see :meth:`_settle`."""
        if not clean_title(title):
            raise ValueError("A title cannot be empty.")
        self._settle(session_id, user_id, stop_answer)
        meta = self.store.rename(session_id, user_id, title)
        self._slots.bump(session_id, meta.version)
        return meta

    def delete(self, session_id: str, user_id: str) -> None:
        """Delete a session and its transcript; an answer this process writes for it (another tab's
        too) is stopped first: it went on to its end, its model calls spent, then was thrown away."""
        slot = self._slots.get(session_id)
        if slot is not None and slot.user_id == user_id and self.stop(session_id):
            self.wait_idle(session_id, timeout=10.0, user_id=user_id)
        self.store.delete(session_id, user_id)
        self._slots.evict(session_id)

    def complete(self, session_id: str, user_id: str, *, stop_answer: bool = False) -> SessionMeta:
        """End a session: it becomes read-only (it can be continued in a new session)."""
        self._settle(session_id, user_id, stop_answer)
        meta = self.store.set_state(session_id, user_id, "completed")
        self._slots.evict(session_id)
        return meta

    def _settle(self, session_id: str, user_id: str, stop_answer: bool) -> None:
        """Before a change that moves the session's version, no answer may be being written here:
        its commit, which expects the version it began with, would be refused and the answer lost.
        The caller's own answer is stopped (``stop_answer``) and stored; another one (another tab's)
        is waited for a moment, then the change is refused, with nothing changed."""
        if stop_answer:
            self.stop(session_id)
        if not self.wait_idle(session_id, timeout=10.0 if stop_answer else BUSY_CHANGE_WAIT_S, user_id=user_id):
            raise SessionConflictError(BUSY_CHANGE_MESSAGE)

    def continue_session(self, session_id: str, user_id: str, *, user_email: str | None = None) -> SessionMeta:
        """Start a new session that carries the context of a completed or expired one, answering with
        the same model when that one is still offered to the user, else the default. Clicked again
        (a double click, another tab), it opens the continuation it made while that holds nothing."""
        doc = self.store.load(session_id, user_id)
        title = continuation_title(doc.meta.title)
        if (kept := unused_continuation(self.store, user_id, session_id, clean_title(title), self.clock())) is not None:
            return kept
        same = doc.meta.model and self.model_refusal(doc.meta) is None
        meta = self.store.create_session(
            user_id,
            model=(self.offer.offered_name(doc.meta.model) if same else None) or self.model_name,
            user_email=user_email,
            title=title,
            continued_from=session_id,
            seed_snapshot=doc.agent_snapshot,
        )
        logger.info("user_id=<%s>, session_id=<%s>, from=<%s> | continued session", user_id, meta.id, session_id)
        return meta

    def set_feedback(self, session_id: str, user_id: str, turn_idx: int, value: int | None) -> None:
        """Thumbs up (+1), down (-1) or cleared (None) for one answer, once an answer being stored here is.

        On S3 feedback writes a new version of the session: written under an answer (another tab
        rating an earlier one), it had that answer's commit refused as a conflict.
        """
        self.wait_idle(session_id, user_id=user_id)
        self.store.set_feedback(session_id, user_id, turn_idx, value)

    # -- limits -----------------------------------------------------------------------
    def validate_message(self, text: str) -> str:
        """The message to send, without control characters (raises ChatInputError; see
        :func:`assistant.chat.limits.message_to_send`)."""
        return message_to_send(text, self.settings.max_message_chars)

    def spend_today(self, user_id: str) -> TodaySpend:
        """What the user's model calls cost today (UTC), and how many had no price, from the ledger."""
        from assistant.usage.ledger import spend_today

        return spend_today(self.store.engine, user_id, self.clock())

    def check_limits(self, user_id: str, model: str | None = None) -> None:
        """Raise LimitExceededError when the daily budget or the rate limit would refuse a send now.

        Counts nothing: a send is counted by the transaction that starts its turn.

        Args:
            user_id: The sender.
            model: The model the send would use (None: the default); one without a price is
                refused while a daily budget is set.

        Raises:
            LimitExceededError: With ``retry_at`` (when sending is possible again).
            StorageUnavailableError: The database cannot be reached.
        """
        now = self.clock()
        name = model or self.model_name
        unpriced = name if price_of(name, self.prices, now) is None else None
        window = self.store.send_window(user_id, now=now, rate_window=RATE_WINDOW)
        refuse_over_limits(self.settings, window, now, unpriced_model=unpriced)

    # -- sending ----------------------------------------------------------------------
    def _prepare(
        self, session_id: str, user_id: str, prompt: str, retry_of: int | None = None
    ) -> tuple[SessionMeta, AgentSlot]:
        """Take the session's slot and begin the turn of an already validated message (``retry_of``:
        see :meth:`start_turn`)."""
        if self._turn_runner is None:  # the first send imports strands here, before the turn begins
            self._build_runner()
        slot = self._slots.for_session(session_id, user_id)
        if not slot.lock.acquire(blocking=False):
            raise SessionBusyError(  # often refused in another tab, which has no Stop button
                "An answer for this session is still being written in this tab or another one. "
                "Wait for it to finish, then send again."
            )
        slot.stop_requested = slot.closing = False  # this answer's own Stop, if any, sets them
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
                decide=lambda meta, window: admit(
                    meta,
                    window,
                    self.settings,
                    self.prices,
                    self.clock(),
                    prompt=prompt,
                    model=meta.model or self.model_name,
                    refusal=self.model_refusal(meta),
                    retry_of=retry_of,
                ),
                first_title=derive_title(prompt),
            )
        except BaseException:
            slot.lock.release()
            raise
        return meta, slot

    def stop(self, session_id: str) -> bool:
        """Stop the answer being written for this session; what was produced is kept, marked stopped."""
        slot = self._slots.get(session_id)
        if slot is None or not slot.lock.locked() or slot.agent is None:
            return False
        logger.info("session_id=<%s> | stopping answer", session_id)
        slot.stop_requested = slot.closing = True
        slot.agent.cancel()
        return True

    def is_busy(self, session_id: str) -> bool:
        """Whether an answer is being written for this session right now."""
        slot = self._slots.get(session_id)
        return bool(slot and slot.lock.locked())

    def wait_idle(
        self, session_id: str, timeout: float = 10.0, live_grace: float | None = None, *, user_id: str | None = None
    ) -> bool:
        """Wait until no answer is being written for this session (True when idle).

        Args:
            session_id: The session.
            timeout: Seconds to wait at most.
            live_grace: When given, an answer that was neither stopped nor abandoned (it streams to
                another tab) is waited for only this long: that tab's answer may take minutes.
            user_id: When given, only an answer for this user's session is waited for: another
                user asking for the id is told "not found" at once, not once the owner's answer
                is stored (which would tell them the session exists and is being answered).
        """
        started = time.monotonic()
        while (
            (slot := self._slots.get(session_id)) is not None
            and slot.lock.locked()
            and (user_id is None or slot.user_id == user_id)
        ):
            waited = time.monotonic() - started
            if waited > timeout or (live_grace is not None and waited > live_grace and not slot.closing):
                return False
            time.sleep(0.02)
        return True

    def finish_answers(self, timeout: float) -> int:
        """Wait (at most ``timeout`` s) for every answer being written to be stored; how many still are."""
        return self._slots.wait_none_busy(timeout)

    def answer_so_far(self, session_id: str, user_id: str) -> str | None:
        """The text of the answer this process is writing for the user's session, so far (None when
        it writes none: idle, another process answers, or not this user's session)."""
        slot = self._slots.get(session_id)
        rec = slot.recorder if slot is not None and slot.user_id == user_id and slot.lock.locked() else None
        return rec.text_so_far() if rec is not None else None

    def pending_turn(self, session_id: str, user_id: str | None) -> PendingTurn | None:
        """The session's question that no stored turn answers yet, as the page should show it.

        A question this process is answering right now is returned as it is stored ("running":
        another tab streams it), unless that answer was stopped or abandoned (it is being stored
        as stopped). A "running" question whose process stopped answering (killed, restarted: no
        heartbeat for :data:`STALE_AFTER`) is returned as failed with category "interrupted".
        """
        slot = self._slots.get(session_id)
        if slot is not None and slot.lock.locked():
            return None if slot.closing else self.store.pending_turn(session_id, user_id)
        pending = self.store.pending_turn(session_id, user_id)
        return None if pending is None else as_shown(pending, owner=self.owner, now=self.clock())

    def dismiss_pending(self, session_id: str, user_id: str) -> None:
        """Forget a failed question the user does not want to send again (a first question's title too)."""
        pending = self.store.pending_turn(session_id, user_id)
        untitle = derive_title(pending.text) if pending is not None and pending.turn_idx == 0 else None
        self.store.clear_pending(session_id, user_id, untitle=untitle)

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
        retry_of: int | None = None,
    ) -> StartedTurn:
        """The one entry for a send, from the chat page and the CLI alike.

        Validates the message once and decides the limits once. Without ``session_id`` the
        message starts a new session, created only when the limits allow the send (a refused
        first message leaves nothing behind). The answer starts at once; iterate
        ``events`` to stream it (the last event is Done or ErrorEvent). Closing the iterator
        early (the page was closed or reloaded) stops the answer; what was produced is stored,
        marked stopped with a note that it was interrupted ("Stopped by the user." after
        :meth:`stop`).

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
            retry_of: For a Retry, the index of the failed question's turn: refused when a turn
                has been stored there since (Retry in two tabs sent the question twice).

        Returns:
            The session (as before the turn) and the stream of the answer's events.

        Raises:
            ChatInputError: Empty or too long; nothing was written.
            ModelChoiceError: The model is not offered, not to this user, or not this session's.
            LimitExceededError: Budget or rate; nothing was written.
            SessionNotFoundError, SessionReadOnlyError, SessionDamagedError: The session cannot take it.
            SessionBusyError: An answer for this session is still being written.
            AlreadyAnsweredError: ``retry_of`` was given and that question was already sent again.
            StorageUnavailableError: The database cannot be reached.
        """
        prompt = self.validate_message(text)
        if tz is not None:
            self._zones[user_id] = tz
        if session_id is not None:
            if model is not None:
                self.offer.check_same(model, self.store.get_meta(session_id, user_id).model)
            meta, slot = self._prepare(session_id, user_id, prompt, retry_of)
            return StartedTurn(session=meta, text=prompt, events=self._stream_sync(slot, meta, prompt))
        chosen = self.choose_model(model, user_email)
        self.check_limits(user_id, chosen)
        session_id = self.create_session(user_id, user_email=user_email, model=chosen).id
        try:
            if meeting is not None:
                bind_session(
                    self.store.engine, session_id=session_id, user_id=user_id, meeting=meeting, now=self.clock()
                )
            meta, slot = self._prepare(session_id, user_id, prompt, retry_of)
        except BaseException:
            # refused after all (a send from another tab or replica took the last of the budget or
            # the rate in between): the new session never got its question, so it is not kept
            with contextlib.suppress(SessionError):
                self.delete(session_id, user_id)
            raise
        return StartedTurn(session=meta, text=prompt, events=self._stream_sync(slot, meta, prompt))

    def send_sync(self, session_id: str, user_id: str, text: str) -> Iterator[ChatEvent]:
        """The answer's events for a message to an existing session (see :meth:`start_turn`)."""
        return self.start_turn(user_id, text, session_id=session_id).events

    def _stream_sync(self, slot: AgentSlot, meta: SessionMeta, prompt: str) -> Generator[ChatEvent, None, None]:
        """Run the turn on the service's event loop and hand its events to a synchronous caller."""
        return self._bridge.stream(
            lambda events: self._runner.run(slot, meta, prompt, events), on_abandon=lambda: self._runner.cancel(slot)
        )

    def run_turn(self, session_id: str, user_id: str, text: str) -> list[ChatEvent]:
        """Send and collect every event (CLI example, tests, benchmarks)."""
        return list(self.send_sync(session_id, user_id, text))
