"""Questions kept until their turn is stored (``chat/pending.py``): who answers them and when they show Retry."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

from assistant.chat.pending import (
    INTERRUPTED_MESSAGE,
    STALE_AFTER,
    UNRECORDED_MESSAGE,
    as_shown,
    new_owner,
    owner_is_dead,
)
from assistant.sessions.base import PendingTurn

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
HOST = socket.gethostname()[:32]


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped) on this host."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _pending(
    owner: str, *, status: Literal["running", "failed"] = "running", heartbeat_age: timedelta = timedelta(0)
) -> PendingTurn:
    return PendingTurn(
        "s1", "u1", 0, "What is on today?", status, owner, NOW - timedelta(minutes=5), NOW - heartbeat_age
    )


def test_each_owner_names_this_host_and_process_and_is_new_each_time() -> None:
    first, second = new_owner(), new_owner()
    assert first != second
    host, pid, token = first.split(":")
    assert (host, pid) == (HOST, str(os.getpid())) and len(token) == 12


def test_only_a_process_known_gone_on_this_host_is_dead() -> None:
    assert owner_is_dead(f"{HOST}:{_dead_pid()}:abc")
    assert not owner_is_dead(f"{HOST}:{os.getppid()}:abc")  # alive
    assert not owner_is_dead(f"{HOST}:{os.getpid()}:abc")  # this very process
    assert not owner_is_dead(f"another-host:{_dead_pid()}:abc")  # cannot be checked from here


@pytest.mark.parametrize("owner", ["", "garbage", f"{HOST}:", f"{HOST}:-1:x", f"{HOST}:12a:x", f"{HOST}:0x1f:x"])
def test_an_owner_that_cannot_be_read_is_not_taken_for_dead(owner: str) -> None:
    assert not owner_is_dead(owner)


def test_a_question_answered_by_a_live_process_is_shown_as_it_is() -> None:
    pending = _pending("another-host:1:abc", heartbeat_age=STALE_AFTER - timedelta(seconds=1))
    assert as_shown(pending, owner=new_owner(), now=NOW) is pending


@pytest.mark.parametrize(
    "pending",
    [
        _pending("another-host:1:abc", heartbeat_age=STALE_AFTER),  # silent too long
        _pending(f"{HOST}:{_dead_pid()}:abc"),  # its process is gone, however fresh the heartbeat
    ],
    ids=["stale-heartbeat", "dead-process"],
)
def test_a_question_whose_process_is_gone_shows_interrupted_with_retry(pending: PendingTurn) -> None:
    shown = as_shown(pending, owner=new_owner(), now=NOW)
    assert (shown.status, shown.error_category, shown.error_message, shown.retryable) == (
        "failed",
        "interrupted",
        INTERRUPTED_MESSAGE,
        True,
    )
    assert (shown.text, shown.turn_idx) == (pending.text, pending.turn_idx)  # the question is kept for Retry


def test_this_idle_services_own_running_question_says_storage_failed_not_a_restart() -> None:
    me = new_owner()
    shown = as_shown(_pending(me), owner=me, now=NOW)
    assert (shown.status, shown.error_category, shown.error_message) == ("failed", "storage", UNRECORDED_MESSAGE)


def test_a_failed_question_keeps_its_own_reason() -> None:
    failed = _pending("another-host:1:abc", status="failed", heartbeat_age=timedelta(days=3))
    assert as_shown(failed, owner=new_owner(), now=NOW) is failed
