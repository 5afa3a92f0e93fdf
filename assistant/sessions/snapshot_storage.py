"""A strands ``Storage`` that holds one session's agent snapshot between store writes.

strands' :class:`~strands.session.SnapshotSessionManager` restores the agent from
``snapshot_latest`` when the agent is built and writes a new one after every invocation.
Pointing it at this in-memory storage keeps strands in charge of *what* an agent
snapshot is, while the session store decides *when* it is persisted: the snapshot written
during a turn is picked up by :class:`assistant.chat.ChatService` and stored together
with the turn's transcript in one write (one SQL transaction, or one S3 PUT). A turn that
fails never reaches the store, so the stored snapshot stays the one before the turn.
"""

from __future__ import annotations

import builtins
import json
from typing import Any

from strands.storage.storage import StorageSearchResult

_LATEST = "snapshot_latest.json"


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
        self._committed = json.dumps(committed).encode("utf-8") if committed else None
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
