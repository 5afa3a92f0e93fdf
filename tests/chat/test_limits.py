"""The message rate limit is shared through the SQL database: replicas, tabs and restarts
count the same sends, and racing sends cannot both take the last slot (SQLite and Postgres)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from assistant.chat.limits import SendLog
from assistant.db import send_log

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_two_replicas_share_one_limit_and_say_when_it_frees_up(any_engine: Engine) -> None:
    replica_a, replica_b = SendLog(any_engine), SendLog(any_engine)
    assert replica_a.take("u1", limit=3, window=MINUTE, now=T0) is None
    assert replica_b.take("u1", limit=3, window=MINUTE, now=T0 + timedelta(seconds=10)) is None
    assert replica_a.take("u1", limit=3, window=MINUTE, now=T0 + timedelta(seconds=20)) is None
    # The fourth send, on either replica, is refused until the first leaves the window.
    assert replica_b.check("u1", limit=3, window=MINUTE, now=T0 + timedelta(seconds=30)) == T0 + MINUTE
    assert replica_b.take("u1", limit=3, window=MINUTE, now=T0 + timedelta(seconds=30)) == T0 + MINUTE
    # Another user is not affected.
    assert replica_b.take("u2", limit=3, window=MINUTE, now=T0 + timedelta(seconds=30)) is None
    # After the window slides past the first send, one more fits.
    assert replica_a.take("u1", limit=3, window=MINUTE, now=T0 + MINUTE + timedelta(seconds=1)) is None
    assert replica_a.check("u1", limit=3, window=MINUTE, now=T0 + MINUTE + timedelta(seconds=2)) is not None


def test_racing_sends_never_exceed_the_limit(any_engine: Engine) -> None:
    log = SendLog(any_engine)
    accepted: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        ok = log.take("racer", limit=5, window=MINUTE, now=T0) is None
        with lock:
            accepted.append(ok)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert accepted.count(True) == 5
    with any_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(send_log)).scalar_one() == 5


def test_old_rows_are_deleted_as_the_user_sends(any_engine: Engine) -> None:
    log = SendLog(any_engine)
    for i in range(4):
        assert log.take("u1", limit=10, window=MINUTE, now=T0 + timedelta(seconds=i)) is None
    assert log.take("u1", limit=10, window=MINUTE, now=T0 + timedelta(hours=2)) is None
    with any_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(send_log)).scalar_one() == 1
