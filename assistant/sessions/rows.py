"""Rows of the session index: prepared statements and the mapping between stored rows and session types.

Shared by :mod:`assistant.sessions.index` and both stores; statements are module constants
compiled once per dialect and executed with parameter dicts.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast, get_args

from sqlalchemy import Boolean, Connection, Insert, bindparam, delete, func, insert, or_, select, text, update

from assistant import db
from assistant.inputs import cap_combining_marks, has_visible_text, strip_control_chars
from assistant.markdown_text import visible_text
from assistant.sessions.base import (
    PENDING_STALE_AFTER,
    UNTITLED,
    PendingTurn,
    SendWindow,
    SessionMeta,
    SessionState,
    UsageRecord,
    assume_utc,
    parse_utc,
)
from assistant.sessions.executor import Executor, SaExecutor
from assistant.sessions.queries import SORT_KEYS

MAX_TITLE_CHARS = 120
SORTABLE = frozenset(SORT_KEYS)
CONFLICT_MESSAGE = "This session changed elsewhere (another tab?). Reload it to continue."


_META_COLUMNS = [col for col in db.sessions.c if col.name != "agent_snapshot"]
# prebuilt per-turn statements (executed with parameter dicts; compiled once per dialect)
_INSERT_MESSAGES = insert(db.messages)
_INSERT_TURN = insert(db.turns)
_INSERT_USAGE = insert(db.usage)
_INSERT_TEXT = insert(db.session_text)
_SELECT_ROW = select(*_META_COLUMNS).where(db.sessions.c.id == bindparam("sid"))
_SELECT_ROW_LOCKED = _SELECT_ROW.with_for_update()
_SELECT_USER_ROW = _SELECT_ROW.where(db.sessions.c.user_id == bindparam("uid"))
_SELECT_USER_ROW_LOCKED = _SELECT_USER_ROW.with_for_update()
# the SET clause comes from the parameter keys (column names); the row is matched on "sid"
_UPDATE_TURN = update(db.sessions).where(db.sessions.c.id == bindparam("sid"))
_DELETE_PENDING = delete(db.pending_turns).where(db.pending_turns.c.session_id == bindparam("sid"))
_INSERT_PENDING = insert(db.pending_turns)


@functools.cache
def upsert_pending(dialect: str) -> Insert | None:
    """The one statement that makes a question the session's pending one (replacing the previous
    one), built once per dialect on first use; None where there is no upsert (delete, then insert).
    """
    if dialect not in ("sqlite", "postgresql"):
        return None
    stmt = db.on_conflict_insert(dialect)(db.pending_turns)
    upsert: Insert = stmt.on_conflict_do_update(
        index_elements=[db.pending_turns.c.session_id],
        set_={c.name: stmt.excluded[c.name] for c in db.pending_turns.c if c.name != "session_id"},
    )
    return upsert


# a turn's commit: the session row moves by the turn's deltas, only while it is still at the
# version the writer began from, active and not idle past expiry; RETURNING gives the new row
_s = db.sessions.c
_COMMIT_VALUES: dict[str, Any] = {
    "version": _s.version + 1,
    "message_count": _s.message_count + bindparam("add_messages"),
    "turn_count": _s.turn_count + 1,
    "input_tokens": _s.input_tokens + bindparam("add_input"),
    "output_tokens": _s.output_tokens + bindparam("add_output"),
    "cost_usd": _s.cost_usd + bindparam("add_cost"),
    "errors": _s.errors + bindparam("add_errors"),
    "cost_unknown": or_(_s.cost_unknown, bindparam("add_cost_unknown", type_=Boolean())),
    "updated_at": bindparam("now", type_=_s.updated_at.type),
    "title": func.coalesce(bindparam("new_title", type_=_s.title.type), _s.title),
    "agent_snapshot": bindparam("snapshot", type_=_s.agent_snapshot.type),
}
_COMMIT_ROW = (
    update(db.sessions)
    .where(
        _s.id == bindparam("sid"),
        _s.user_id == bindparam("uid"),
        _s.state == "active",
        _s.updated_at >= bindparam("active_since", type_=_s.updated_at.type),
    )
    .values(**_COMMIT_VALUES)
    .returning(*_META_COLUMNS)
)
_COMMIT_ROW_AT_VERSION = _COMMIT_ROW.where(_s.version == bindparam("expected_version"))
# limits, read and counted in begin_turn's transaction
SEND_LOG_KEEP = timedelta(hours=1)
_USER_SEND_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")
_SPENT_TODAY = select(func.coalesce(func.sum(db.usage.c.cost_usd), 0.0)).where(
    db.usage.c.user_id == bindparam("uid"),
    db.usage.c.started_at >= bindparam("start"),
    db.usage.c.started_at < bindparam("end"),
)
_FORGET_OLD_SENDS = delete(db.send_log).where(
    db.send_log.c.user_id == bindparam("uid"), db.send_log.c.sent_at < bindparam("before")
)
_INSERT_SEND = insert(db.send_log)
# the user's answers still being written (a live heartbeat) and what they hold of the budget
_p = db.pending_turns.c
_RUNNING = (_p.user_id == bindparam("uid"), _p.status == "running", _p.heartbeat_at > bindparam("alive_since"))
_IN_RATE_WINDOW = (db.send_log.c.user_id == bindparam("uid"), db.send_log.c.sent_at > bindparam("since"))
# what the limits are decided on (:func:`send_window_of`): the user's spend since 00:00 UTC, the
# sends within the rate window, and the answers still being written with what they hold
_WINDOW_COLUMNS = (
    _SPENT_TODAY.scalar_subquery().label("spent_today"),
    select(func.count()).select_from(db.send_log).where(*_IN_RATE_WINDOW).scalar_subquery().label("recent_sends"),
    select(func.min(db.send_log.c.sent_at)).where(*_IN_RATE_WINDOW).scalar_subquery().label("oldest_recent_send"),
    select(func.coalesce(func.sum(_p.reserved_usd), 0.0)).where(*_RUNNING).scalar_subquery().label("held"),
    select(func.count()).select_from(db.pending_turns).where(*_RUNNING).scalar_subquery().label("running"),
)
_WINDOW_READ = select(*_WINDOW_COLUMNS)
# begin_turn's one read: the session row, the send window and the user's oldest kept send
_BEGIN_READ = select(
    *_META_COLUMNS,
    *_WINDOW_COLUMNS,
    select(func.min(db.send_log.c.sent_at))
    .where(db.send_log.c.user_id == bindparam("uid"))
    .scalar_subquery()
    .label("oldest_send"),
).where(_s.id == bindparam("sid"), _s.user_id == bindparam("uid"))


def window_params(user_id: str, now: datetime, rate_window: timedelta) -> dict[str, Any]:
    """Parameters of the send-window read: today (UTC) and the start of the rate window."""
    day = datetime(now.year, now.month, now.day, tzinfo=UTC)
    return {
        "uid": user_id,
        "start": day,
        "end": day + timedelta(days=1),
        "since": now - rate_window,
        "alive_since": now - PENDING_STALE_AFTER,
    }


def send_window_of(row: Any) -> SendWindow:
    """The :class:`SendWindow` of a row holding the window's columns (``_WINDOW_READ``, ``_BEGIN_READ``)."""
    oldest = row.oldest_recent_send
    return SendWindow(
        spent_today_usd=float(row.spent_today),
        recent_sends=int(row.recent_sends),
        oldest_recent_send=parse_utc(oldest) if oldest is not None else None,
        held_usd=float(row.held),
        answers_running=int(row.running),
    )


def new_session_id() -> str:
    """A fresh opaque session id."""
    return str(uuid.uuid4())


def checked_state(state: object) -> SessionState:
    """``state`` when it is a session state a store can write, else a ValueError (nothing is written).

    A store wrote any string it was given ("done", "Completed"): the session became read-only
    with a state no page, filter or query knows.
    """
    if state not in get_args(SessionState):
        raise ValueError(f"A session's state is one of {', '.join(get_args(SessionState))}, not {state!r}.")
    return cast(SessionState, state)


def clean_title(title: str) -> str:
    """Normalise a user-given or derived title (one line, no control characters, bounded length).

    A title with nothing visible (only zero-width or other invisible characters) becomes "".
    """
    one_line = cap_combining_marks(" ".join(strip_control_chars(title).split()))
    if not has_visible_text(one_line):
        return ""
    if len(one_line) > MAX_TITLE_CHARS:
        one_line = one_line[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    return one_line


def message_text(message: dict[str, Any]) -> str:
    """Plain text of a strands message (text blocks only)."""
    parts = [block["text"] for block in message.get("content", []) if isinstance(block, dict) and "text" in block]
    return "\n".join(str(p) for p in parts)


def turn_search_text(messages: Sequence[dict[str, Any]]) -> str:
    """The lower-cased user+assistant text one turn adds to the search index (``session_text``).

    Both are drawn as Markdown: what they show is indexed, not their marks
    (:func:`assistant.markdown_text.visible_text`). Control characters are left out
    (:func:`assistant.inputs.strip_control_chars`): a model may emit a NUL, which a Postgres
    ``text`` column refuses.
    """
    text = " ".join(visible_text(message_text(m)) for m in messages if m.get("role") in ("user", "assistant"))
    return strip_control_chars(text).lower()


def title_text_row(session_id: str, title: str) -> dict[str, Any]:
    """The ``session_text`` row that makes a session's title searchable."""
    return {"session_id": session_id, "turn_idx": db.TITLE_TURN_IDX, "text": title.lower()}


_UPDATE_TITLE_TEXT = (
    update(db.session_text)
    .where(db.session_text.c.session_id == bindparam("sid"), db.session_text.c.turn_idx == db.TITLE_TURN_IDX)
    .values(text=bindparam("title_text"))
)


_SET_TITLE = update(db.sessions).where(db.sessions.c.id == bindparam("sid")).values(title=bindparam("new_title"))


def set_title_text(conn: Connection | Executor, session_id: str, title: str) -> None:
    """Point the session's title row in ``session_text`` at a new title (inserting it if missing).

    Args:
        conn: A SQLAlchemy connection, or a turn's executor (:mod:`assistant.sessions.executor`).
        session_id: The session.
        title: The new title (stored lower-cased).
    """
    ex = SaExecutor(conn) if isinstance(conn, Connection) else conn
    if not ex.execute(_UPDATE_TITLE_TEXT, {"sid": session_id, "title_text": title.lower()}):
        ex.execute(_INSERT_TEXT, title_text_row(session_id, title))


def set_title(ex: Executor, session_id: str, title: str) -> None:
    """Title a session (row and search text) inside the caller's transaction, its version unchanged."""
    cleaned = clean_title(title)
    if cleaned:
        ex.execute(_SET_TITLE, {"sid": session_id, "new_title": cleaned})
        set_title_text(ex, session_id, cleaned)


def put_pending(ex: Executor, dialect: str, pending: PendingTurn) -> None:
    """Make ``pending`` the session's pending question (inside the caller's transaction).

    One upsert on SQLite and Postgres (the session id is the key); elsewhere delete, then insert.
    """
    upsert = upsert_pending(dialect)
    if upsert is None:
        ex.execute(_DELETE_PENDING, {"sid": pending.session_id})
    ex.execute(
        _INSERT_PENDING if upsert is None else upsert,
        {
            "session_id": pending.session_id,
            "user_id": pending.user_id,
            "turn_idx": pending.turn_idx,
            "text": pending.text,
            "status": pending.status,
            "owner": pending.owner,
            "started_at": pending.started_at,
            "heartbeat_at": pending.heartbeat_at,
            "error_category": pending.error_category,
            "error_message": pending.error_message,
            "retryable": pending.retryable,
            "reserved_usd": pending.reserved_usd,
        },
    )


_UNTITLE = (
    update(db.sessions)
    .where(
        db.sessions.c.id == bindparam("sid"),
        db.sessions.c.user_id == bindparam("uid"),
        db.sessions.c.turn_count == 0,
        db.sessions.c.title == bindparam("named"),
    )
    .values(title=UNTITLED)
)


def untitle_session(ex: Executor, session_id: str, user_id: str, title: str) -> None:
    """Give a session with no turn that is still titled ``title`` its :data:`UNTITLED` title back."""
    if ex.execute(_UNTITLE, {"sid": session_id, "uid": user_id, "named": clean_title(title)}):
        set_title_text(ex, session_id, UNTITLED)


def row_to_meta(row: Any) -> SessionMeta:
    """Map a ``sessions`` row to :class:`SessionMeta`."""
    return SessionMeta(
        id=row.id,
        user_id=row.user_id,
        title=row.title,
        state=row.state,
        created_at=assume_utc(row.created_at),
        updated_at=assume_utc(row.updated_at),
        model=row.model,
        version=row.version,
        message_count=row.message_count,
        turn_count=row.turn_count,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cost_usd=row.cost_usd,
        cost_unknown=bool(row.cost_unknown),
        errors=row.errors,
        continued_from=row.continued_from,
        damaged=row.damaged,
        user_email=row.user_email,
    )


def usage_row(record: UsageRecord) -> dict[str, Any]:
    """Map a :class:`UsageRecord` to a ``usage`` table row."""
    return {
        "call_id": record.call_id,
        "session_id": record.session_id,
        "user_id": record.user_id,
        "turn_idx": record.turn_idx,
        "provider": record.provider,
        "model_id": record.model_id,
        "started_at": record.started_at,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cache_read_tokens": record.cache_read_tokens,
        "cache_write_tokens": record.cache_write_tokens,
        "latency_ms": record.latency_ms,
        "ttft_ms": record.ttft_ms,
        "error": record.error,
        "cost_usd": record.cost_usd,
        "price_version": record.price_version,
    }


def usage_totals(records: Sequence[UsageRecord]) -> dict[str, Any]:
    """Aggregate deltas that ledger rows add to a session row."""
    return {
        "input_tokens": sum(r.input_tokens for r in records),
        "output_tokens": sum(r.output_tokens for r in records),
        "cost_usd": sum(r.cost_usd or 0.0 for r in records),
        "cost_unknown": any(r.cost_usd is None for r in records),
        "errors": sum(1 for r in records if r.error),
    }
