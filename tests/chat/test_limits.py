"""The limits decided and counted where a turn begins (``SessionStore.begin_turn`` with
``refuse_over_limits``): replicas, tabs and restarts count the same sends, and racing sends
cannot both take the last slot (SQLite and Postgres)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from assistant.chat.events import LimitExceededError
from assistant.chat.limits import RATE_WINDOW, refuse_over_limits
from assistant.config import load_settings
from assistant.db import send_log
from assistant.sessions.base import SendWindow, SessionMeta
from assistant.sessions.sql_store import SqlSessionStore

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _decide(limit: int, now: datetime) -> Callable[[SessionMeta, SendWindow], None]:
    settings = load_settings(messages_per_minute=limit, daily_budget_usd=0)

    def decide(meta: SessionMeta, window: SendWindow) -> None:
        refuse_over_limits(settings, window, now)

    return decide


def _send(store: SqlSessionStore, session_id: str, user: str, limit: int, now: datetime) -> datetime | None:
    """Begin a turn: None when the send was counted, else when the user may send again."""
    try:
        store.begin_turn(
            session_id, user, text="hi", owner="test", now=now, rate_window=RATE_WINDOW, decide=_decide(limit, now)
        )
    except LimitExceededError as e:
        return e.retry_at
    return None


def _rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(send_log)).scalar_one())


def test_two_replicas_share_one_limit_and_say_when_it_frees_up(any_engine: Engine) -> None:
    replica_a, replica_b = SqlSessionStore(any_engine), SqlSessionStore(any_engine)
    s1 = replica_a.create_session("u1", model="offline").id
    s2 = replica_b.create_session("u2", model="offline").id
    assert _send(replica_a, s1, "u1", 3, T0) is None
    assert _send(replica_b, s1, "u1", 3, T0 + timedelta(seconds=10)) is None
    assert _send(replica_a, s1, "u1", 3, T0 + timedelta(seconds=20)) is None
    # The fourth send, on either replica, is refused until the first leaves the window.
    window = replica_b.send_window("u1", now=T0 + timedelta(seconds=30), rate_window=RATE_WINDOW)
    assert window.recent_sends == 3 and window.oldest_recent_send == T0
    assert _send(replica_b, s1, "u1", 3, T0 + timedelta(seconds=30)) == T0 + RATE_WINDOW
    # Another user is not affected.
    assert _send(replica_b, s2, "u2", 3, T0 + timedelta(seconds=30)) is None
    # After the window slides past the first send, one more fits.
    assert _send(replica_a, s1, "u1", 3, T0 + RATE_WINDOW + timedelta(seconds=1)) is None
    assert _send(replica_a, s1, "u1", 3, T0 + RATE_WINDOW + timedelta(seconds=2)) is not None


def test_racing_sends_never_exceed_the_limit(any_engine: Engine) -> None:
    store = SqlSessionStore(any_engine)
    sessions = [store.create_session("racer", model="offline").id for _ in range(8)]
    accepted: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def send(session_id: str) -> None:
        start.wait()
        ok = _send(store, session_id, "racer", 5, T0) is None
        with lock:
            accepted.append(ok)

    threads = [threading.Thread(target=send, args=(sid,)) for sid in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert accepted.count(True) == 5
    assert _rows(any_engine) == 5


def test_old_rows_are_deleted_as_the_user_sends(any_engine: Engine) -> None:
    store = SqlSessionStore(any_engine)
    sid = store.create_session("u1", model="offline").id
    for i in range(4):
        assert _send(store, sid, "u1", 10, T0 + timedelta(seconds=i)) is None
    assert _send(store, sid, "u1", 10, T0 + timedelta(hours=2)) is None
    assert _rows(any_engine) == 1


@pytest.mark.parametrize("spent", [5.0, 7.5])
def test_spent_budget_refuses_until_midnight_utc(spent: float) -> None:
    settings = load_settings(daily_budget_usd=5.0, messages_per_minute=100)
    with pytest.raises(LimitExceededError) as info:
        refuse_over_limits(settings, SendWindow(spent, 0, None), T0)
    assert info.value.retry_at == datetime(2026, 11, 26, tzinfo=UTC)


@pytest.mark.parametrize(
    ("per_minute", "said"), [(1, "You have sent 1 message in"), (3, "You have sent 3 messages in")]
)
def test_the_rate_limit_counts_its_messages_in_words(per_minute: int, said: str) -> None:
    """MESSAGES_PER_MINUTE=1 read "You have sent 1 messages in the last minute"."""
    settings = load_settings(messages_per_minute=per_minute)
    with pytest.raises(LimitExceededError) as info:
        refuse_over_limits(settings, SendWindow(0.0, per_minute, T0), T0)
    assert str(info.value).startswith(said) and info.value.reason.startswith(said)


@pytest.mark.parametrize(
    ("budget", "spent", "said"),
    [
        (0.05, 0.13116, "Today's budget of $0.05 is used up (spent $0.131)."),
        (10_000.0, 12_345.678, "Today's budget of $10,000.00 is used up (spent $12,345.68)."),
        (0.0005, 0.00052, "Today's budget of $0.0005 is used up (spent $0.00052)."),
    ],
)
def test_a_spent_budget_writes_its_amounts_as_the_sidebar_does(budget: float, spent: float, said: str) -> None:
    """The sidebar read "$0.131 of $0.05 today" and the refusal below it "spent $0.1312"; a budget of
    $10,000 read "$10000.00" (no thousands separator), and one of $0.0005 read "$0.00"."""
    settings = load_settings(daily_budget_usd=budget, messages_per_minute=100)
    with pytest.raises(LimitExceededError) as info:
        refuse_over_limits(settings, SendWindow(spent, 0, None), T0)
    assert str(info.value).startswith(said) and info.value.reason.startswith(said), str(info.value)
