"""This process's live agents: one :class:`AgentSlot` per session, kept in :class:`AgentSlots`.

No strands here: the chat service holds its slots from the start (a page asks whether a
session is busy), while strands is imported only for the first send (:mod:`.runner`).
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.sessions.snapshot_storage import TurnSnapshotStorage

if TYPE_CHECKING:
    from strands import Agent

    from assistant.chat.recorder import TurnRecorder


@dataclass
class AgentSlot:
    """A live agent for one session, with the version of the stored session it matches."""

    session_id: str
    user_id: str
    version: int
    storage: TurnSnapshotStorage
    agent: Agent | None = None
    recorder: TurnRecorder | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set by ChatService.stop for the answer being written: a cancel without it is an answer whose
    # reader went away (page closed or reloaded), told apart in the stored turn's note.
    stop_requested: bool = False
    # Set when the answer being written was stopped or abandoned by its reader: it is being stored,
    # and a page opening the session waits for it (an answer still streaming to another tab is not).
    closing: bool = False
    # The stored transcript's last messages, as stored (as many as the agent holds), while the
    # agent's history is known to match what is stored: the turn's snapshot refers to them.
    transcript_tail: list[dict[str, Any]] | None = None


class AgentSlots:
    """This process's live agents, one slot per session, least recently used dropped first.

    Args:
        size: How many sessions keep a live agent.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._slots: collections.OrderedDict[str, AgentSlot] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str) -> AgentSlot | None:
        """The session's slot, if this process holds one."""
        with self._lock:
            return self._slots.get(session_id)

    def busy_count(self) -> int:
        """How many sessions have an answer being written right now (their slot's lock is held)."""
        with self._lock:
            return sum(1 for slot in self._slots.values() if slot.lock.locked())

    def wait_none_busy(self, timeout: float) -> int:
        """Wait (at most ``timeout`` seconds) until no answer is being written; how many still are.

        The server's shutdown waits so: the answers whose pages the shutdown closed go on (read to
        their end) and are stored whole before the process exits.
        """
        deadline = time.monotonic() + timeout
        while (busy := self.busy_count()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return busy

    def evict(self, session_id: str) -> None:
        """Drop the session's slot (its agent is rebuilt from the store next time)."""
        with self._lock:
            self._slots.pop(session_id, None)

    def bump(self, session_id: str, version: int) -> None:
        """A change this process made (rename) moved the stored version by one: the agent is still current."""
        with self._lock:
            slot = self._slots.get(session_id)
            if slot is not None and slot.version == version - 1:
                slot.version = version

    def for_session(self, session_id: str, user_id: str) -> AgentSlot:
        """The session's slot (one per session, whatever version it holds).

        Its lock serialises sends to the session in this process; the turn rebuilds the
        agent when the stored version moved. An id owned by another user never gets the
        owner's slot (the store then answers "not found").
        """
        with self._lock:
            slot = self._slots.get(session_id)
            if slot is not None and slot.user_id == user_id:
                self._slots.move_to_end(session_id)
                return slot
            fresh = AgentSlot(session_id=session_id, user_id=user_id, version=-1, storage=TurnSnapshotStorage())
            if slot is None:
                self._slots[session_id] = fresh
                while len(self._slots) > self._size:
                    self._slots.popitem(last=False)
            return fresh
