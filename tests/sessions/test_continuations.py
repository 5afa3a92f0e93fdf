"""What "Continue in a new session" opens again: only an unused continuation of that session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from assistant.sessions.base import PendingTurn
from assistant.sessions.continuations import continuation_title, unused_continuation
from assistant.sessions.sql_store import SqlSessionStore

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_continued_is_said_once() -> None:
    assert continuation_title("Board prep") == "Continued: Board prep"
    assert continuation_title("Continued: Board prep") == "Continued: Board prep"


def test_only_an_active_continuation_holding_nothing_is_opened_again(sqlite_engine) -> None:
    clock = [NOW]
    store = SqlSessionStore(sqlite_engine, expiry_hours=24, clock=lambda: clock[0])
    old = store.create_session("u1", model="offline", title="Board prep")
    title = continuation_title(old.title)

    def unused() -> str | None:
        found = unused_continuation(store, "u1", old.id, title, clock[0])
        return found.id if found is not None else None

    assert unused() is None
    # a model comparison continues the session too, under its own title: never taken for this
    store.create_session("u1", model="offline", title="Compared on Claude: Board prep", continued_from=old.id)
    assert unused() is None
    made = store.create_session("u1", model="offline", title=title, continued_from=old.id)
    assert unused() == made.id
    assert unused_continuation(store, "u2", old.id, title, clock[0]) is None  # the user's own only
    # a question kept in it (a first question that failed, kept for Retry) uses it
    store.index.save_pending(PendingTurn(made.id, "u1", 0, "Where were we?", "failed", "o", NOW, NOW))
    assert unused() is None
    store.index.clear_pending(made.id, "u1")
    assert unused() == made.id
    clock[0] = NOW + timedelta(hours=25)  # expired since: a new one is made
    assert unused() is None
