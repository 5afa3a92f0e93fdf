"""A strands ``Storage`` holding one session's agent snapshot, and a copy-free capture.

strands' :class:`~strands.session.SnapshotSessionManager` restores the agent from
``snapshot_latest`` when the agent is built. Pointing it at this in-memory storage keeps
strands in charge of restoring an agent, while the session store decides *when* state is
persisted: :func:`capture_snapshot` takes the agent's snapshot at the end of a turn and
the store writes it together with the turn's transcript in one write (one SQL
transaction, or one S3 PUT). A turn that fails never reaches the store, so the stored
snapshot stays the one before the turn.

The manager runs with ``save_latest_on="trigger"``: strands' own per-invocation save would
deep-copy the whole conversation and serialise it once more every turn, for a blob this
app would then re-serialise; :func:`capture_snapshot` produces the same Snapshot document
with the conversation by reference, serialised exactly once by the store.
"""

from __future__ import annotations

import builtins
import json
from typing import Any

from strands import Agent
from strands.storage.storage import StorageSearchResult

from assistant.sessions import jsonutil

_LATEST = "snapshot_latest.json"


def capture_snapshot(agent: Agent) -> dict[str, Any]:
    """The agent's "session" snapshot as a JSON-ready dict, without deep-copying the messages.

    The result references the agent's live message list: serialise it before the agent
    runs again (the store does, inside the turn's commit).

    Args:
        agent: The agent whose state to capture.

    Returns:
        A dict in strands' Snapshot format (``Snapshot.from_dict`` reads it back).
    """
    snapshot = agent.take_snapshot(preset="session", exclude=["messages"])
    snapshot.data["messages"] = agent.messages
    return snapshot.to_dict()  # bytes are encoded strands' way when stored (assistant.sessions.jsonutil)


class TurnSnapshotStorage:
    """In-memory ``strands.storage.Storage`` for the latest agent snapshot of one session."""

    def __init__(self, committed: dict[str, Any] | None = None) -> None:
        """Create the storage.

        Args:
            committed: The stored snapshot (as a dict) the agent resumes from, if any.
        """
        self._committed: bytes | None = None
        self._pending: bytes | None = None
        self.reset(committed)

    def reset(self, committed: dict[str, Any] | None) -> None:
        """Forget pending writes and resume from ``committed``."""
        self._committed = jsonutil.dumps(committed).encode("utf-8") if committed else None
        self._pending = None

    def begin_turn(self) -> None:
        """Drop anything written but not committed."""
        self._pending = None

    def pending_snapshot(self) -> dict[str, Any] | None:
        """The snapshot strands wrote during the current turn, if any."""
        if self._pending is None:
            return None
        data: dict[str, Any] = json.loads(self._pending)
        return data

    def commit_turn(self) -> None:
        """The store accepted the turn: the pending snapshot becomes the committed one."""
        if self._pending is not None:
            self._committed = self._pending
        self._pending = None

    # -- strands.storage.Storage protocol ---------------------------------------------------
    async def write(self, key: str, data: bytes) -> None:
        """Capture strands' write of ``snapshot_latest`` (other keys are not used by this app)."""
        if key.endswith(_LATEST):
            self._pending = bytes(data)

    async def read(self, key: str) -> bytes | None:
        """Return the latest snapshot: pending if written this turn, else the committed one."""
        if not key.endswith(_LATEST):
            return None
        return self._pending if self._pending is not None else self._committed

    async def delete(self, key: str) -> None:
        """Deleting is done by the session store, not through strands."""

    async def list(self, query: str) -> builtins.list[str]:
        """Immutable snapshot history is not kept (the transcript is stored instead)."""
        return []

    async def search(self, query: str) -> builtins.list[StorageSearchResult]:
        """Not searchable; the session index is."""
        return []
