"""Questions kept from before the model is called until their turn is stored (see ``SessionStore.begin_turn``).

A process answering a question moves its heartbeat every :data:`HEARTBEAT_SECONDS`; a
"running" question whose process is gone (known dead on this host, or silent for
:data:`STALE_AFTER`) is shown as interrupted, with Retry.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import replace
from datetime import datetime

from assistant.sessions.base import PENDING_STALE_AFTER, PendingTurn

HEARTBEAT_SECONDS = 5.0
STALE_AFTER = PENDING_STALE_AFTER  # no heartbeat for this long: the answering process is gone
INTERRUPTED_MESSAGE = "Not answered: the server restarted while this question was being answered. Nothing was lost."
UNRECORDED_MESSAGE = (
    "Not answered: storage was unavailable, so neither the answer nor the failure could be saved. Nothing was lost."
)


def new_owner() -> str:
    """Who answers a pending question: host, process and a fresh id (a restart is a new owner)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def owner_is_dead(owner: str) -> bool:
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


def as_shown(pending: PendingTurn, *, owner: str, now: datetime) -> PendingTurn:
    """``pending`` as the page should show it: a running question whose process is gone becomes failed.

    Args:
        pending: The stored pending question.
        owner: This process's owner id (its own questions are not being answered when it is idle).
        now: The current time (UTC).

    Returns:
        ``pending`` unchanged (failed, or answered by a live process), or a failed copy with
        category "interrupted" and a message saying the server restarted.
    """
    if pending.status == "failed":
        return pending
    if pending.owner == owner:
        # this very service is idle, yet its question still says "running": the turn failed and
        # recording the failure failed too (storage unavailable); no restart happened
        return replace(
            pending, status="failed", error_category="storage", error_message=UNRECORDED_MESSAGE, retryable=True
        )
    if not owner_is_dead(pending.owner) and now - pending.heartbeat_at < STALE_AFTER:
        return pending
    return replace(
        pending, status="failed", error_category="interrupted", error_message=INTERRUPTED_MESSAGE, retryable=True
    )
