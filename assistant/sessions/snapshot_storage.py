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

The conversation is stored once. When the agent's messages are, message for message, the
last ones of the stored transcript (strands' sliding window only drops them from the front),
the snapshot is stored without them and says how many it takes from the transcript's end
(``app_data["assistant.transcript_tail"]``); :func:`expand_snapshot` puts them back when the
session is read. A turn's write then no longer carries the conversation twice (it was 99% of
the snapshot, rewritten on every turn). An agent whose history differs from the transcript (a
tool result cut down in place to fit the context) is stored whole, as before; so is every
snapshot written before this (it has no count, and reads as it is).
"""

from __future__ import annotations

import builtins
import logging
from typing import TYPE_CHECKING, Any

from assistant.sessions import jsonutil

if TYPE_CHECKING:  # annotations only: a chat service builds slots before strands is imported
    from strands import Agent
    from strands.storage.storage import StorageSearchResult

logger = logging.getLogger(__name__)

_LATEST = "snapshot_latest.json"
TRANSCRIPT_TAIL = "assistant.transcript_tail"
"""``app_data`` key: the snapshot's messages are the stored transcript's last this many."""


def capture_snapshot(agent: Agent, transcript_tail: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The agent's "session" snapshot as a JSON-ready dict, without deep-copying the messages.

    The result references the agent's live message list: serialise it before the agent
    runs again (the store does, inside the turn's commit).

    Args:
        agent: The agent whose state to capture.
        transcript_tail: The stored transcript's last messages, this turn's included, as they
            are stored (at least as many as the agent holds), when known. If the agent's
            messages are these, the snapshot refers to them instead of holding them.

    Returns:
        A dict in strands' Snapshot format (``Snapshot.from_dict`` reads it back, once
        :func:`expand_snapshot` has put back the messages it refers to).
    """
    snapshot = agent.take_snapshot(preset="session", exclude=["messages"])
    if transcript_tail is not None and same_messages(agent.messages, transcript_tail):
        snapshot.data["messages"] = []
        snapshot.app_data[TRANSCRIPT_TAIL] = len(agent.messages)
    else:
        snapshot.data["messages"] = agent.messages
    return snapshot.to_dict()  # bytes are encoded strands' way when stored (assistant.sessions.jsonutil)


def same_messages(messages: builtins.list[Any], transcript_tail: builtins.list[dict[str, Any]]) -> bool:
    """Whether ``messages`` are the last ``len(messages)`` of ``transcript_tail``, role and content alike.

    Only role and content are stored in the transcript (strands' per-message metadata goes to
    the ledger); content compares by value, so a message edited in place, or holding what JSON
    keeps in another form (a tuple, a date), is not the same and the snapshot keeps it.
    """
    n = len(messages)
    if n > len(transcript_tail):
        return False
    start = len(transcript_tail) - n
    for i, message in enumerate(messages):
        stored = transcript_tail[start + i]
        if message.get("role") != stored.get("role") or message.get("content") != stored.get("content"):
            return False
    return True


def next_tail(
    tail: builtins.list[dict[str, Any]] | None, messages: builtins.list[dict[str, Any]], *, kept: int
) -> builtins.list[dict[str, Any]] | None:
    """The transcript's last ``kept`` messages once ``messages`` are stored after ``tail``, as stored.

    The new messages are taken in their stored form (:func:`stored_form`), not by reference: a
    message strands edits in place later (a tool result cut down to fit the context) then no
    longer matches what is stored, and the snapshot keeps it.

    Returns:
        The new tail; None when ``tail`` was not known or is too short to cover ``kept``.
    """
    if tail is None:
        return None
    joined = tail + stored_form(messages)
    return joined[len(joined) - kept :] if kept <= len(joined) else None


def stored_form(messages: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
    """Messages as a resumed agent gets them from the store: written as stored, read back the way
    strands reads a snapshot (its encoded bytes decoded). New objects: nothing is shared with ``messages``."""
    loaded: builtins.list[dict[str, Any]] = jsonutil.loads(jsonutil.dumps(messages))
    return loaded


def expand_snapshot(
    snapshot: dict[str, Any] | None, transcript: builtins.list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The stored snapshot with the messages it refers to put back (from the end of ``transcript``).

    A snapshot that holds its messages (written before, or stored whole) comes back as it is.

    Args:
        snapshot: The snapshot as stored (None for a session with no turn yet).
        transcript: The session's stored messages, in order.

    Returns:
        A snapshot that holds its messages (a new dict; the stored one is not changed).
    """
    if not isinstance(snapshot, dict):
        return snapshot
    app_data = snapshot.get("app_data")
    data = snapshot.get("data")
    if not isinstance(app_data, dict) or TRANSCRIPT_TAIL not in app_data or not isinstance(data, dict):
        return snapshot
    count = app_data[TRANSCRIPT_TAIL]
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        count = len(transcript)
    if count > len(transcript):
        logger.warning(
            "messages=<%s>, stored=<%s> | snapshot refers to more messages than stored", count, len(transcript)
        )
        count = len(transcript)
    rest = {k: v for k, v in app_data.items() if k != TRANSCRIPT_TAIL}
    messages = transcript[len(transcript) - count :] if count else []
    return dict(snapshot, data=dict(data, messages=messages), app_data=rest)


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
