"""The SQL index both session stores share: session rows, search rows, the usage ledger, pending questions.

The SQL store keeps transcripts in the same database; the S3 store keeps them in S3 and this
index beside them (derived data, rebuilt from the bucket by ``reindex``). Both hold one
:class:`SqlIndex` and serve every index read through it (:class:`IndexedStore`), so lists,
search, the ledger, expiry and pending questions behave the same whatever holds the transcript.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from assistant import db
from assistant.inputs import log_safe
from assistant.sessions.base import (
    UNTITLED,
    PendingTurn,
    SendWindow,
    SessionConflictError,
    SessionDamagedError,
    SessionMeta,
    SessionNotFoundError,
    SessionQuery,
    SessionReadOnlyError,
    SessionState,
    SessionStore,
    StorageUnavailableError,
    UsageRecord,
    assume_utc,
    parse_utc,
    to_utc,
    utcnow,
)
from assistant.sessions.executor import Executor, SaExecutor, turn_tx
from assistant.sessions.queries import MAX_LIMIT, MAX_SEARCH_CHARS
from assistant.sessions.queries import list_sessions as list_page
from assistant.sessions.rows import (
    _BEGIN_READ,
    _DELETE_PENDING,
    _FORGET_OLD_SENDS,
    _INSERT_SEND,
    _META_COLUMNS,
    _SELECT_ROW,
    _SELECT_ROW_LOCKED,
    _SELECT_USER_ROW,
    _SELECT_USER_ROW_LOCKED,
    _USER_SEND_LOCK,
    _WINDOW_READ,
    CONFLICT_MESSAGE,
    SEND_LOG_KEEP,
    SORTABLE,
    put_pending,
    row_to_meta,
    send_window_of,
    set_title,
    untitle_session,
    usage_row,
    usage_totals,
    window_params,
)
from assistant.sessions.search import search_term, search_words

logger = logging.getLogger(__name__)


def _add_usage(conn: Connection, records: list[UsageRecord]) -> None:
    """Insert ledger rows and add them to their sessions' totals (inside the caller's transaction)."""
    by_session: dict[str, list[UsageRecord]] = {}
    for record in records:
        by_session.setdefault(record.session_id, []).append(record)
    conn.execute(insert(db.usage), [usage_row(r) for r in records])
    for sid, recs in by_session.items():
        totals = usage_totals(recs)
        values: dict[str, Any] = {
            "input_tokens": db.sessions.c.input_tokens + totals["input_tokens"],
            "output_tokens": db.sessions.c.output_tokens + totals["output_tokens"],
            "cost_usd": db.sessions.c.cost_usd + totals["cost_usd"],
            "errors": db.sessions.c.errors + totals["errors"],
        }
        if totals["cost_unknown"]:
            values["cost_unknown"] = True
        conn.execute(update(db.sessions).where(db.sessions.c.id == sid).values(**values))


def _not_found(session_id: str, user_id: str | None) -> SessionNotFoundError:
    if user_id is not None:  # INFO: the caller tells the user (the CLI printed this line above its one-line error)
        logger.info(
            "user_id=<%s>, session_id=<%s> | session not found for user", log_safe(user_id), log_safe(session_id)
        )
    return SessionNotFoundError("That session was not found.")


class SqlIndex:
    """Index rows, search rows, ledger and pending questions in one SQL database.

    Args:
        engine: SQLAlchemy engine of the migrated database.
        expiry_hours: Idle time after which an active session becomes expired.
        clock: Source of "now" (tests pass a fixed clock).
    """

    def __init__(self, engine: Engine, *, expiry_hours: float = 24.0, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.expiry_hours = expiry_hours
        self.clock = clock

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        try:
            with db.write_tx(self.engine) as conn:
                yield conn
        except (SessionConflictError, SessionNotFoundError, SessionReadOnlyError, SessionDamagedError):
            raise
        except IntegrityError as e:
            raise SessionConflictError("This session changed elsewhere; reload it and try again.") from e
        except (OperationalError, DBAPIError) as e:
            logger.error("error=<%s> | database write failed", e.__class__.__name__)
            raise StorageUnavailableError("The session database is unavailable; your last change was not saved.") from e

    @contextmanager
    def turn_tx(self) -> Iterator[Executor]:
        """A turn's write transaction over prebuilt statements (see :mod:`assistant.sessions.executor`).

        Errors are what :meth:`tx` raises: a lost race is a conflict, a database fault is
        "storage unavailable", the session errors pass through.
        """
        try:
            with turn_tx(self.engine) as ex:
                yield ex
        except (SessionConflictError, SessionNotFoundError, SessionReadOnlyError, SessionDamagedError):
            raise
        except (IntegrityError, sqlite3.IntegrityError) as e:
            raise SessionConflictError("This session changed elsewhere; reload it and try again.") from e
        except (DBAPIError, sqlite3.Error) as e:
            logger.error("error=<%s> | database write failed", e.__class__.__name__)
            raise StorageUnavailableError("The session database is unavailable; your last change was not saved.") from e

    def locked_row(self, ex: Executor, session_id: str, user_id: str) -> Any:
        """The session's row inside a turn's transaction (locked on Postgres; SQLite's BEGIN IMMEDIATE locks all)."""
        stmt = _SELECT_USER_ROW if db.is_sqlite(self.engine) else _SELECT_USER_ROW_LOCKED
        row = ex.first(stmt, {"sid": session_id, "uid": user_id})
        if row is None:
            raise _not_found(session_id, user_id)
        return row

    def delete_rows(self, conn: Connection, session_id: str) -> None:
        """Delete the session's search text, pending question, meeting link and row (caller's transaction)."""
        conn.execute(delete(db.session_text).where(db.session_text.c.session_id == session_id))
        conn.execute(_DELETE_PENDING, {"sid": session_id})
        conn.execute(delete(db.session_meetings).where(db.session_meetings.c.session_id == session_id))
        conn.execute(delete(db.sessions).where(db.sessions.c.id == session_id))

    def expire_cutoff(self) -> datetime:
        return self.clock() - timedelta(hours=self.expiry_hours)

    def expire_idle(self, user_id: str | None = None) -> int:
        """Mark active sessions idle longer than the expiry as expired.

        Args:
            user_id: Limit to one user's sessions (None: everyone's).

        Returns:
            The number of sessions that expired.
        """
        cond = and_(db.sessions.c.state == "active", db.sessions.c.updated_at < self.expire_cutoff())
        if user_id is not None:
            cond = and_(cond, db.sessions.c.user_id == user_id)
        with self.tx() as conn:
            result = conn.execute(update(db.sessions).where(cond).values(state="expired"))
        if result.rowcount:
            logger.info("user_id=<%s>, count=<%s> | expired idle sessions", user_id, result.rowcount)
        return int(result.rowcount or 0)

    def select_row(self, conn: Connection, session_id: str, user_id: str | None, *, lock: bool = False) -> Any:
        # prebuilt statements; SQLite locks the database with BEGIN IMMEDIATE instead of FOR UPDATE
        locking = lock and not db.is_sqlite(self.engine)
        if user_id is None:
            stmt = _SELECT_ROW_LOCKED if locking else _SELECT_ROW
            row = conn.execute(stmt, {"sid": session_id}).first()
        else:
            stmt = _SELECT_USER_ROW_LOCKED if locking else _SELECT_USER_ROW
            row = conn.execute(stmt, {"sid": session_id, "uid": user_id}).first()
        if row is None:
            raise _not_found(session_id, user_id)
        return row

    def effective_state(self, row: Any) -> SessionState:
        if row.state == "active" and assume_utc(row.updated_at) < self.expire_cutoff():
            return "expired"
        state: SessionState = row.state
        return state

    def current_meta(self, row: Any) -> SessionMeta:
        """The row's metadata with expiry applied (an active session idle too long is expired now)."""
        meta = row_to_meta(row)
        state = self.effective_state(row)
        if state != meta.state:
            self.expire_idle(row.user_id)
            meta = replace(meta, state=state)
        return meta

    def check_writable(self, row: Any, expected_version: int | None) -> None:
        """Refuse a turn on a session whose version moved since the writer loaded it, or that is closed."""
        if expected_version is not None and row.version != expected_version:
            logger.warning(
                "session_id=<%s>, expected=<%s>, actual=<%s> | session changed elsewhere",
                row.id,
                expected_version,
                row.version,
            )
            raise SessionConflictError(CONFLICT_MESSAGE)
        if self.effective_state(row) != "active":
            raise SessionReadOnlyError("This session is closed; continue it in a new session.")

    def get_meta(self, session_id: str, user_id: str | None) -> SessionMeta:
        """Read one session's index row (applies expiry)."""
        with self.engine.connect() as conn:
            row = self.select_row(conn, session_id, user_id)
        return self.current_meta(row)

    def send_window(self, user_id: str, *, now: datetime, rate_window: timedelta) -> SendWindow:
        """The user's spend today and recent sends, read without counting a send (one read)."""
        try:
            with self.engine.connect() as conn:
                return send_window_of(
                    conn.execute(_WINDOW_READ, window_params(user_id, to_utc(now), rate_window)).one()
                )
        except DBAPIError as e:
            logger.error("user_id=<%s>, error=<%s> | send window unavailable", log_safe(user_id), type(e).__name__)
            raise StorageUnavailableError("The session database is unavailable; try again in a moment.") from e

    def record_usage(self, records: list[UsageRecord]) -> None:
        """Write ledger rows outside a commit (failed or abandoned turns) and add them to the session totals."""
        if not records:
            return
        with self.tx() as conn:
            _add_usage(conn, records)

    def fail_turn(self, usage: list[UsageRecord], pending: PendingTurn) -> None:
        """A failed turn in one transaction: its model calls in the ledger, its question kept (as failed)
        while the session exists (one deleted as it answered left its text behind for good)."""
        with self.tx() as conn:
            if usage:
                _add_usage(conn, usage)
            stmt = _SELECT_ROW if db.is_sqlite(self.engine) else _SELECT_ROW_LOCKED  # waits for a delete under way
            if conn.execute(stmt, {"sid": pending.session_id}).first() is None:
                logger.info("session_id=<%s> | session deleted during its turn, question not kept", pending.session_id)
                return
            put_pending(SaExecutor(conn), conn.dialect.name, pending)

    def list_sessions(self, query: SessionQuery) -> tuple[list[SessionMeta], int]:
        """One page of sessions matching the query (newest first by default) and the total count.

        A search runs as the sessions page's (:func:`assistant.sessions.queries.list_sessions`):
        the newest sessions checked one by one, the text index for a rare word, the first
        ``SHORT_SEARCH_SESSIONS`` for words shorter than three letters; the count of a common
        word is then an estimate. It asked the text index for every user's rows and counted
        every match: at 1M sessions on Postgres "q3" took 5-11 s per chat page run.
        """
        self.expire_idle(query.user_id)
        c = db.sessions.c
        if query.text and search_words(query.text):
            # cut to the search box's limit (a client can send more; SQLite refuses a LIKE past 50,000 bytes)
            page = list_page(
                self.engine,
                replace(
                    query,
                    text=search_term(query.text)[:MAX_SEARCH_CHARS],
                    sort=query.sort if query.sort in SORTABLE else "updated_at",
                    limit=min(max(int(query.limit), 1), MAX_LIMIT),
                    offset=max(int(query.offset), 0),
                ),
            )
            ids = [r.id for r in page.rows]
            with self.engine.connect() as conn:
                found = {r.id: row_to_meta(r) for r in conn.execute(select(*_META_COLUMNS).where(c.id.in_(ids)))}
            return [found[i] for i in ids if i in found], page.total_count
        conds: list[Any] = []
        if query.user_id is not None:
            conds.append(c.user_id == query.user_id)
        if query.states:
            conds.append(c.state.in_(query.states))
        if query.models:
            conds.append(c.model.in_(query.models))
        if query.since is not None:
            conds.append(c.updated_at >= query.since)
        if query.until is not None:
            conds.append(c.updated_at < query.until)
        where = and_(*conds) if conds else and_(True)
        sort_col = getattr(c, query.sort if query.sort in SORTABLE else "updated_at")
        order = sort_col.desc() if query.descending else sort_col.asc()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_META_COLUMNS).where(where).order_by(order, c.id).limit(query.limit).offset(query.offset)
            ).all()
            total = conn.execute(select(func.count()).select_from(db.sessions).where(where)).scalar_one()
        return [row_to_meta(r) for r in rows], int(total)

    def begin_turn(
        self,
        session_id: str,
        user_id: str,
        *,
        text: str,
        owner: str,
        now: datetime,
        rate_window: timedelta,
        decide: Callable[[SessionMeta, SendWindow], float | None],
        first_title: str | None = None,
    ) -> SessionMeta:
        """Read the row and the user's send window, let ``decide`` refuse, then count the send
        and keep ``text`` as the pending question, holding what ``decide`` returned (the answer's
        expected cost) against the budget: one transaction before the model is called.

        On Postgres a per-user transaction-scoped advisory lock serialises the user's sends
        (two tabs or replicas cannot both take the last slot); SQLite's ``BEGIN IMMEDIATE``
        does the same for the whole database.
        """
        now = to_utc(now)
        with self.turn_tx() as ex:
            if not db.is_sqlite(self.engine):
                ex.execute(_USER_SEND_LOCK, {"key": "send_log:" + user_id})
            # one read: the row, the spend today, the sends in the rate window, the oldest kept send
            row = ex.first(_BEGIN_READ, {"sid": session_id, **window_params(user_id, now, rate_window)})
            if row is None:
                raise _not_found(session_id, user_id)
            meta = row_to_meta(row)
            state = self.effective_state(row)
            if state != meta.state:
                meta = replace(meta, state=state)
            reserved = decide(meta, send_window_of(row)) or 0.0
            forget_before = now - SEND_LOG_KEEP
            if row.oldest_send is not None and parse_utc(row.oldest_send) < forget_before:
                ex.execute(_FORGET_OLD_SENDS, {"uid": user_id, "before": forget_before})
            ex.execute(_INSERT_SEND, {"user_id": user_id, "sent_at": now})
            if first_title and meta.turn_count == 0 and meta.title == UNTITLED:
                set_title(ex, meta.id, first_title)  # meta keeps UNTITLED: the turn's commit titles the document
            put_pending(
                ex,
                self.engine.dialect.name,
                PendingTurn(
                    session_id, user_id, meta.turn_count, text, "running", owner, now, now, reserved_usd=reserved
                ),
            )
        return meta

    def save_pending(self, pending: PendingTurn) -> None:
        """Record the question of a turn about to be answered (replaces the session's previous one)."""
        with self.tx() as conn:
            put_pending(SaExecutor(conn), conn.dialect.name, pending)

    def pending_turn(self, session_id: str, user_id: str | None) -> PendingTurn | None:
        """The session's question not yet stored as a turn (None when there is none, or it was answered)."""
        p = db.pending_turns.c
        s = db.sessions.c
        stmt = (
            select(db.pending_turns)
            .join(db.sessions, s.id == p.session_id)
            .where(p.session_id == session_id, p.turn_idx == s.turn_count)
        )
        if user_id is not None:
            stmt = stmt.where(p.user_id == user_id)
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        return PendingTurn(
            session_id=row.session_id,
            user_id=row.user_id,
            turn_idx=row.turn_idx,
            text=row.text,
            status="failed" if row.status == "failed" else "running",
            owner=row.owner,
            started_at=assume_utc(row.started_at),
            heartbeat_at=assume_utc(row.heartbeat_at),
            error_category=row.error_category,
            error_message=row.error_message,
            retryable=bool(row.retryable),
        )

    def heartbeat_pending(self, session_id: str, owner: str, now: datetime) -> None:
        """Say that ``owner`` is still answering the session's pending question."""
        p = db.pending_turns.c
        with self.tx() as conn:
            conn.execute(
                update(db.pending_turns)
                .where(p.session_id == session_id, p.owner == owner, p.status == "running")
                .values(heartbeat_at=now)
            )

    def clear_pending(self, session_id: str, user_id: str, *, untitle: str | None = None) -> None:
        """Forget the session's pending question (the user dismissed it), and its title if it named the session."""
        p = db.pending_turns.c
        with self.tx() as conn:
            conn.execute(delete(db.pending_turns).where(p.session_id == session_id, p.user_id == user_id))
            if untitle:
                untitle_session(SaExecutor(conn), session_id, user_id, untitle)


class IndexedStore(SessionStore):
    """A session store whose index reads go to a :class:`SqlIndex` (shared by the SQL and S3 stores).

    Args:
        engine: SQLAlchemy engine of the migrated index/ledger database.
        expiry_hours: Idle time after which an active session becomes expired.
        clock: Source of "now" (tests pass a fixed clock).
    """

    storage_name = "sql"

    def __init__(self, engine: Engine, *, expiry_hours: float = 24.0, clock: Callable[[], datetime] = utcnow) -> None:
        self.index = SqlIndex(engine, expiry_hours=expiry_hours, clock=clock)
        self.expiry_hours = expiry_hours
        self.clock = clock

    @property
    def engine(self) -> Engine:
        """The SQL database of the index and the ledger (usage queries and tools read it)."""
        return self.index.engine

    def expire_idle(self, user_id: str | None = None) -> int:
        """Mark active sessions idle longer than the expiry as expired (see :meth:`SqlIndex.expire_idle`)."""
        return self.index.expire_idle(user_id)

    def get_meta(self, session_id: str, user_id: str | None) -> SessionMeta:
        """Read one session's index row (applies expiry)."""
        return self.index.get_meta(session_id, user_id)

    def list_sessions(self, query: SessionQuery) -> tuple[list[SessionMeta], int]:
        """One page of sessions matching the query and the total count."""
        return self.index.list_sessions(query)

    def record_usage(self, records: list[UsageRecord]) -> None:
        """Write ledger rows outside a commit (failed or abandoned turns)."""
        self.index.record_usage(records)

    def begin_turn(
        self,
        session_id: str,
        user_id: str,
        *,
        text: str,
        owner: str,
        now: datetime,
        rate_window: timedelta,
        decide: Callable[[SessionMeta, SendWindow], float | None],
        first_title: str | None = None,
    ) -> SessionMeta:
        """Everything before the model is called, in one transaction (see :meth:`SqlIndex.begin_turn`)."""
        self._before_turn(session_id, user_id, text)
        return self.index.begin_turn(
            session_id,
            user_id,
            text=text,
            owner=owner,
            now=now,
            rate_window=rate_window,
            decide=decide,
            first_title=first_title,
        )

    def _before_turn(self, session_id: str, user_id: str, text: str) -> None:
        """What a store checks before :meth:`begin_turn`'s transaction (nothing here; S3 settles a write)."""

    def send_window(self, user_id: str, *, now: datetime, rate_window: timedelta) -> SendWindow:
        """The user's spend today and recent sends, read without counting a send."""
        return self.index.send_window(user_id, now=now, rate_window=rate_window)

    def fail_turn(self, usage: list[UsageRecord], pending: PendingTurn) -> None:
        """Record a failed turn in one write: its model calls in the ledger, its question kept as failed."""
        self.index.fail_turn(usage, pending)

    def save_pending(self, pending: PendingTurn) -> None:
        """Record the question of a turn about to be answered."""
        self.index.save_pending(pending)

    def pending_turn(self, session_id: str, user_id: str | None) -> PendingTurn | None:
        """The session's question not yet stored as a turn, if any."""
        return self.index.pending_turn(session_id, user_id)

    def heartbeat_pending(self, session_id: str, owner: str, now: datetime) -> None:
        """Say that ``owner`` is still answering the session's pending question."""
        self.index.heartbeat_pending(session_id, owner, now)

    def clear_pending(self, session_id: str, user_id: str, *, untitle: str | None = None) -> None:
        """Forget the session's pending question (see :meth:`SqlIndex.clear_pending`)."""
        self.index.clear_pending(session_id, user_id, untitle=untitle)
