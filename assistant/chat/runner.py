"""One turn's lifecycle on the service's event loop: the agent ready, the answer streamed, one store write.

:class:`TurnRunner` is what :class:`~assistant.chat.service.ChatService` hands a begun turn to:
it builds (or resumes) the session's strands agent, streams its answer while the recorder
collects what strands reports, and ends the turn with exactly one store write - the commit of a
finished or stopped turn, or the failed turn (its billed calls and its question kept for Retry).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, tzinfo

from strands import ModelRetryStrategy
from strands.models import Model
from strands.session import SnapshotSessionManager
from strands.types.exceptions import ModelThrottledException

from assistant.agents.meeting_coordinator import create_meeting_coordinator
from assistant.chat.bridge import EventSink
from assistant.chat.events import ChatEvent, Done, ErrorEvent, UsageEvent
from assistant.chat.pending import HEARTBEAT_SECONDS
from assistant.chat.recorder import (
    RecorderHooks,
    TurnRecorder,
    on_stream_event,
    time_out_call,
    usage_records,
    user_text,
)
from assistant.chat.slots import AgentSlot, AgentSlots
from assistant.chat.turn import NOT_STORED_ERROR, build_commit, classify_failure
from assistant.config import Settings
from assistant.context.calendar import CalendarService
from assistant.models.errors import root_cause
from assistant.models.providers import watch_rate_limits
from assistant.sessions.base import PendingTurn, SessionConflictError, SessionError, SessionMeta, SessionStore
from assistant.sessions.snapshot_storage import next_tail, stored_form
from assistant.tools.deps import ToolDeps
from assistant.usage.pricing import PriceTable

logger = logging.getLogger(__name__)


class TurnRunner:
    """Runs begun turns of the service's sessions (see the module docstring).

    Args:
        settings: Application settings (timeouts, limits, data directory).
        store: Session persistence.
        prices: Price table that costs every model call.
        model: The strands model for a registry name (one client per process per model).
        clock: Source of "now".
        calendar: Each user's calendar, read by the tools.
        slots: The service's agent slots (one per session).
        zones: Each user's browser time zone, as their last send reported it.
        owner: Who answers a pending question (this process and service).
    """

    def __init__(
        self,
        settings: Settings,
        store: SessionStore,
        *,
        prices: PriceTable,
        model: Callable[[str], Model],
        clock: Callable[[], datetime],
        calendar: CalendarService,
        slots: AgentSlots,
        zones: dict[str, tzinfo],
        owner: str,
    ) -> None:
        self.settings = settings
        self.store = store
        self.prices = prices
        self.model = model
        self.clock = clock
        self.calendar = calendar
        self.slots = slots
        self.zones = zones
        self.owner = owner

    def build_agent(self, slot: AgentSlot, meta: SessionMeta) -> None:
        """Resume the session's agent from its stored snapshot into ``slot`` (the session's own model)."""
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
            zone_of=lambda: self.zones.get(meta.user_id),
        )
        slot.agent = create_meeting_coordinator(
            model=self.model(doc.meta.model or self.settings.model_name),  # the session's own model, always
            deps=deps,
            session_manager=SnapshotSessionManager(meta.id, storage=slot.storage, save_latest_on="trigger"),
            hooks=[RecorderHooks(slot)],
            retry_strategy=ModelRetryStrategy(max_attempts=3, initial_delay=1, max_delay=8),
        )
        slot.version = doc.meta.version
        kept = len(slot.agent.messages)
        slot.transcript_tail = (
            stored_form(doc.messages[len(doc.messages) - kept :]) if kept <= len(doc.messages) else None
        )
        logger.debug("session_id=<%s>, version=<%s> | agent resumed", meta.id, slot.version)

    def cancel(self, slot: AgentSlot) -> None:
        """Stop the slot's agent (what was produced is kept, marked stopped)."""
        slot.closing = True
        if slot.agent is not None:
            slot.agent.cancel()

    async def run(self, slot: AgentSlot, meta: SessionMeta, prompt: str, events: EventSink[ChatEvent]) -> None:
        """Answer ``prompt`` on the session's agent and end the turn with one store write.

        Puts the answer's events in ``events``, then None; releases the slot's lock at the end.
        """
        recorder = TurnRecorder(events=events)
        started_at = self.clock()
        heartbeat = asyncio.ensure_future(self._heartbeat(meta.id))
        try:
            if slot.agent is None or slot.version != meta.version:
                await asyncio.to_thread(self.build_agent, slot, meta)
                if slot.version != meta.version:
                    meta = await asyncio.to_thread(self.store.get_meta, meta.id, meta.user_id)
            assert slot.agent is not None
            slot.recorder = recorder
            result = None
            rate_limits = watch_rate_limits()
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
                time_out_call(slot.agent, recorder)
                if rate_limits or any(call.throttled for call in recorder.calls):
                    # the time went on waiting out the provider's 429s (Retry-After: the SDK's wait, strands' backoff):
                    # the model was busy, not slow, and a shorter question would not help
                    raise ModelThrottledException("still throttled when the turn's time ran out") from e
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

    async def _commit(
        self,
        slot: AgentSlot,
        meta: SessionMeta,
        prompt: str,
        rec: TurnRecorder,
        started_at: datetime,
        stop_reason: str,
    ) -> None:
        model = meta.model or self.settings.model_name
        usage = usage_records(model, self.prices, meta, rec)
        for u in usage:
            rec.events.put_nowait(UsageEvent(u.input_tokens, u.output_tokens, u.cost_usd, u.ttft_ms, u.latency_ms))
        assert slot.agent is not None
        commit = build_commit(
            slot.agent,
            meta,
            prompt,
            rec,
            usage,
            model=model,
            started_at=started_at,
            ended_at=self.clock(),
            stop_reason=stop_reason,
            stopped_by_user=slot.stop_requested,
            transcript_tail=slot.transcript_tail,
        )
        turn = commit.turn
        commit_now = functools.partial(
            self.store.commit_turn, meta.id, meta.user_id, expected_version=meta.version, commit=commit
        )
        if getattr(self.store, "commit_is_local", False) and self.slots.busy_count() <= 1:
            # A local SQLite commit while no other answer streams on this loop: run here, saving
            # two thread hops (~0.5 ms a turn). A wait on SQLite's write lock holds up only later
            # sends, which wait for that same lock in begin_turn anyway.
            new_meta = commit_now()
        else:
            new_meta = await asyncio.to_thread(commit_now)
        slot.version = new_meta.version
        slot.transcript_tail = next_tail(slot.transcript_tail, commit.messages, kept=len(slot.agent.messages))
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
        self.slots.evict(slot.session_id)
        slot.agent = None
        usage = usage_records(meta.model or self.settings.model_name, self.prices, meta, rec)
        turn_idx = meta.turn_count
        category, message, retryable = classify_failure(exc)
        if isinstance(exc, SessionConflictError):
            # Another tab or replica stored a turn first. This attempt's calls are a failed
            # attempt of the turn its question will become when sent again, never part of the
            # turn that won; the question itself stays (pending) for sending again.
            with contextlib.suppress(SessionError):
                turn_idx = (await asyncio.to_thread(self.store.get_meta, meta.id, meta.user_id)).turn_count
            usage = [replace(u, turn_idx=turn_idx, error=u.error or NOT_STORED_ERROR) for u in usage]
        cause = root_cause(exc)
        logger.error(
            "user_id=<%s>, session_id=<%s>, model=<%s>, category=<%s>, error=<%s>, cause=<%s> | turn failed",
            meta.user_id,
            meta.id,
            meta.model or self.settings.model_name,
            category,
            repr(exc)[:500],
            repr(cause)[:300] if cause is not exc else "-",
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
