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
from typing import TYPE_CHECKING, Any

from assistant.sessions import jsonutil

if TYPE_CHECKING:  # annotations only: a chat service builds slots before strands is imported
    from strands import Agent
    from strands.storage.storage import StorageSearchResult

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
    """In-memory ``strands.storage.Storage`` serving one session's stored agent snapshot to strands.

    Only read at agent initialisation (restore). Writes are ignored: the manager runs with
    ``save_latest_on="trigger"`` and the turn's snapshot is captured by :func:`capture_snapshot`
    and persisted by the session store.
    """

    def __init__(self, committed: dict[str, Any] | None = None) -> None:
        """Create the storage.

        Args:
            committed: The stored snapshot (as a dict) the agent resumes from, if any.
        """
        self._committed: bytes | None = None
        self.reset(committed)

    def reset(self, committed: dict[str, Any] | None) -> None:
        """Resume from ``committed`` (the snapshot as stored)."""
        self._committed = jsonutil.dumps(committed).encode("utf-8") if committed else None

    # -- strands.storage.Storage protocol ---------------------------------------------------
    async def write(self, key: str, data: bytes) -> None:
        """Ignored: the session store persists snapshots, once per turn."""

    async def read(self, key: str) -> bytes | None:
        """Return the stored ``snapshot_latest`` (no other key is used by this app)."""
        return self._committed if key.endswith(_LATEST) else None

    async def delete(self, key: str) -> None:
        """Deleting is done by the session store, not through strands."""

    async def list(self, query: str) -> builtins.list[str]:
        """Immutable snapshot history is not kept (the transcript is stored instead)."""
        return []

    async def search(self, query: str) -> builtins.list[StorageSearchResult]:
        """Not searchable; the session index is."""
        return []
