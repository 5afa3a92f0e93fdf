"""SQL session store (SQLAlchemy 2 Core; SQLite in WAL mode or Postgres).

One transaction per turn appends the turn's messages, its turn record and its ledger
rows, and bumps the session's ``version``. The session row is locked first (``BEGIN
IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on Postgres), so concurrent writers
queue: message indexes never collide (``UNIQUE(session_id, idx)``) and never leave gaps.

Search text is append-only: each turn inserts one ``session_text`` row (its lower-cased
user+assistant text; the FTS5 / pg_trgm index picks up that row only) and the title has
its own row, updated on rename. The ledger rows feed the ``usage_daily`` rollup through
database triggers in the same transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from assistant import db
from assistant.sessions import jsonutil
from assistant.sessions.base import (
    UNTITLED,
    SessionConflictError,
    SessionDamagedError,
    SessionDocument,
    SessionError,
    SessionMeta,
    SessionNotFoundError,
    SessionState,
    StorageUnavailableError,
    TurnCommit,
    TurnRecord,
)
from assistant.sessions.executor import Executor
from assistant.sessions.index import IndexedStore
from assistant.sessions.rows import (
    _COMMIT_ROW,
    _COMMIT_ROW_AT_VERSION,
    _DELETE_PENDING,
    _INSERT_MESSAGES,
    _INSERT_TEXT,
    _INSERT_TURN,
    _INSERT_USAGE,
    CONFLICT_MESSAGE,
    checked_state,
    clean_title,
    new_session_id,
    row_to_meta,
    set_title_text,
    title_text_row,
    turn_search_text,
    usage_row,
    usage_totals,
)
from assistant.sessions.snapshot_storage import expand_snapshot

logger = logging.getLogger(__name__)


def _transcript_rows(conn: Connection, session_id: str) -> tuple[Sequence[Row[Any, Any]], Sequence[Row[Any, Any]]]:
    """A session's message rows (role, content) and turn rows (record, feedback), each in order."""
    messages = conn.execute(
        select(db.messages.c.role, db.messages.c.content)
        .where(db.messages.c.session_id == session_id)
        .order_by(db.messages.c.idx)
    ).all()
    turns = conn.execute(
        select(db.turns.c.record, db.turns.c.feedback)
        .where(db.turns.c.session_id == session_id)
        .order_by(db.turns.c.idx)
    ).all()
    return messages, turns


class SqlSessionStore(IndexedStore):
    """Sessions, transcripts, turns and the usage ledger in one SQL database.

    Args:
        engine: SQLAlchemy engine of the migrated database (see :func:`assistant.db.get_engine`).
        expiry_hours: Idle time after which an active session becomes expired.
        clock: Source of "now" (tests pass a fixed clock).
    """

    storage_name = "sql"

    @property
    def commit_is_local(self) -> bool:
        """Whether a turn's commit is a local SQLite transaction (no network round trip in it).

        :class:`~assistant.chat.service.ChatService` then runs it on its event loop while no
        other answer is streaming there, instead of hopping to a worker thread and back.
        """
        return db.is_sqlite(self.engine)

    # -- SessionStore ---------------------------------------------------------------
    def create_session(
        self,
        user_id: str,
        *,
        model: str,
        title: str = UNTITLED,
        user_email: str | None = None,
        continued_from: str | None = None,
        seed_snapshot: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> SessionMeta:
        """Create an empty active session (optionally carrying another session's context)."""
        now = self.clock()
        sid = session_id or new_session_id()
        cleaned = clean_title(title) or UNTITLED
        values = {
            "id": sid,
            "user_id": user_id,
            "user_email": user_email,
            "title": cleaned,
            "state": "active",
            "created_at": now,
            "updated_at": now,
            "model": model,
            "version": 0,
            "message_count": 0,
            "turn_count": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "cost_usd": 0.0,
            "cost_unknown": False,
            "errors": 0,
            "continued_from": continued_from,
            "storage": self.storage_name,
            "agent_snapshot": jsonutil.dumps(seed_snapshot) if seed_snapshot is not None else None,
        }
        with self.index.tx() as conn:
            conn.execute(insert(db.sessions).values(**values))
            conn.execute(insert(db.session_text).values(**title_text_row(sid, cleaned)))
        logger.info("user_id=<%s>, session_id=<%s> | creating session", user_id, sid)
        return self.get_meta(sid, user_id)

    def load(self, session_id: str, user_id: str | None) -> SessionDocument:
        """Read the whole session: transcript, turns and agent snapshot."""
        meta = self.get_meta(session_id, user_id)
        with self.engine.connect() as conn:
            msg_rows, turn_rows = _transcript_rows(conn, session_id)
            snapshot_text = conn.execute(
                select(db.sessions.c.agent_snapshot).where(db.sessions.c.id == session_id)
            ).scalar_one_or_none()
        try:
            msgs = [{"role": r.role, "content": json.loads(r.content)} for r in msg_rows]
            turn_list = []
            for r in turn_rows:
                data = json.loads(r.record)
                data["feedback"] = r.feedback
                turn_list.append(TurnRecord.from_dict(data))
            snapshot = expand_snapshot(json.loads(snapshot_text), msgs) if snapshot_text else None
        except (ValueError, KeyError, TypeError) as e:
            logger.error("session_id=<%s>, error=<%s> | session data is damaged", session_id, e)
            raise SessionDamagedError(
                "This session's stored data is damaged and cannot be opened. Other sessions are unaffected."
            ) from e
        return SessionDocument(meta=meta, messages=msgs, turns=turn_list, agent_snapshot=snapshot)

    def commit_turn(
        self, session_id: str, user_id: str, *, expected_version: int | None, commit: TurnCommit
    ) -> SessionMeta:
        """Append a turn atomically; raises SessionConflictError when the version moved.

        Args:
            session_id: Session to append to.
            user_id: Owner (a session of another user is "not found").
            expected_version: The version the writer loaded; None appends unconditionally.
            commit: Messages, turn record, agent snapshot and ledger rows of the turn.

        Returns:
            The updated session metadata.
        """
        now = self.clock()
        try:
            with self.index.turn_tx() as ex:
                new_row = self._write_turn(ex, session_id, user_id, expected_version, commit, now)
        except StorageUnavailableError:
            landed = self._landed(session_id, user_id, commit.turn)
            if landed is None:
                raise
            return landed
        logger.debug(
            "session_id=<%s>, turn=<%s>, messages=<%s> | committed turn",
            session_id,
            commit.turn.idx,
            len(commit.messages),
        )
        return row_to_meta(new_row)

    def _landed(self, session_id: str, user_id: str, turn: TurnRecord) -> SessionMeta | None:
        """After a failed commit: the session as stored, if this very turn is in it (else None).

        The database may apply a COMMIT whose reply never reaches us (the connection drops in
        between). Told "not saved", the user would send the question again and have it twice,
        with its calls twice in the ledger. The turn is recognised by its index, question and
        start time (to the microsecond); a read that fails too leaves the error as it was.
        """
        try:
            with self.engine.connect() as conn:
                record = conn.execute(
                    select(db.turns.c.record).where(db.turns.c.session_id == session_id, db.turns.c.idx == turn.idx)
                ).scalar_one_or_none()
            stored = json.loads(record) if record else None
            if not stored or stored.get("user_text") != turn.user_text:
                return None
            if stored.get("started_at") != turn.to_dict()["started_at"]:
                return None
            meta = self.get_meta(session_id, user_id)
        except (SessionError, DBAPIError, ValueError) as e:
            logger.debug("session_id=<%s>, error=<%s> | could not check whether the turn landed", session_id, e)
            return None
        logger.warning(
            "session_id=<%s>, turn=<%s> | the commit's reply was lost; the turn is stored", session_id, turn.idx
        )
        return meta

    def _write_turn(
        self,
        ex: Executor,
        session_id: str,
        user_id: str,
        expected_version: int | None,
        commit: TurnCommit,
        now: datetime,
    ) -> Any:
        """Write one turn inside the caller's transaction; return the new session row.

        The session row moves first, by the turn's deltas, in one ``UPDATE ... RETURNING``
        guarded by the version, the state and the expiry (it also locks the row: concurrent
        writers queue behind it). When it matches nothing, the row is read to say why (not
        found, changed elsewhere, closed). Then the turn's rows are inserted from prebuilt
        statements; the search index grows by one ``session_text`` row, so nothing re-reads or
        re-indexes earlier turns.
        """
        totals = usage_totals(commit.usage)
        title = clean_title(commit.title) if commit.title else None
        stmt = _COMMIT_ROW if expected_version is None else _COMMIT_ROW_AT_VERSION
        new_row = ex.first(
            stmt,
            {
                "sid": session_id,
                "uid": user_id,
                "expected_version": expected_version,
                "active_since": self.index.expire_cutoff(),
                "add_messages": len(commit.messages),
                "add_input": totals["input_tokens"],
                "add_output": totals["output_tokens"],
                "add_cost": totals["cost_usd"],
                "add_errors": totals["errors"],
                "add_cost_unknown": totals["cost_unknown"],
                "now": now,
                "new_title": title,
                "snapshot": self._snapshot_text(commit),
            },
        )
        if new_row is None:
            row = self.index.locked_row(ex, session_id, user_id)
            self.index.check_writable(row, expected_version)
            raise SessionConflictError(CONFLICT_MESSAGE)  # not reached: the checks above name the cause
        sid = new_row.id
        start = new_row.message_count - len(commit.messages)
        if commit.messages:
            ex.executemany(
                _INSERT_MESSAGES,
                [
                    {
                        "session_id": sid,
                        "idx": start + i,
                        "role": m["role"],
                        "content": jsonutil.dumps(m["content"]),
                        "created_at": now,
                    }
                    for i, m in enumerate(commit.messages)
                ],
            )
        ex.execute(
            _INSERT_TURN,
            {
                "session_id": sid,
                "idx": commit.turn.idx,
                "record": json.dumps(commit.turn.to_dict()),
                "feedback": commit.turn.feedback,
            },
        )
        if commit.usage:
            ex.executemany(_INSERT_USAGE, [usage_row(r) for r in commit.usage])
        text = turn_search_text(commit.messages)
        if text:
            ex.execute(_INSERT_TEXT, {"session_id": sid, "turn_idx": commit.turn.idx, "text": text})
        if title is not None:
            set_title_text(ex, sid, title)
        ex.execute(_DELETE_PENDING, {"sid": sid})
        return new_row

    def _snapshot_text(self, commit: TurnCommit) -> str | None:
        """The agent snapshot as stored in the session row (the S3 store keeps it in the object instead)."""
        return jsonutil.dumps(commit.agent_snapshot)

    def _mutate(self, session_id: str, user_id: str, **values: Any) -> SessionMeta:
        with self.index.tx() as conn:
            self.index.select_row(conn, session_id, user_id, lock=True)
            conn.execute(
                update(db.sessions)
                .where(db.sessions.c.id == session_id)
                .values(version=db.sessions.c.version + 1, **values)
            )
        return self.get_meta(session_id, user_id)

    def rename(self, session_id: str, user_id: str, title: str) -> SessionMeta:
        """Change a session's title."""
        cleaned = clean_title(title)
        if not cleaned:
            raise ValueError("A title cannot be empty.")
        logger.info("user_id=<%s>, session_id=<%s> | renaming session", user_id, session_id)
        with self.index.tx() as conn:
            self.index.select_row(conn, session_id, user_id, lock=True)
            conn.execute(
                update(db.sessions)
                .where(db.sessions.c.id == session_id)
                .values(version=db.sessions.c.version + 1, title=cleaned)
            )
            set_title_text(conn, session_id, cleaned)
        return self.get_meta(session_id, user_id)

    def delete(self, session_id: str, user_id: str) -> None:
        """Delete a session and its transcript (ledger rows stay: the money was spent)."""
        with self.index.tx() as conn:
            self.index.select_row(conn, session_id, user_id, lock=True)
            conn.execute(delete(db.messages).where(db.messages.c.session_id == session_id))
            conn.execute(delete(db.turns).where(db.turns.c.session_id == session_id))
            self.index.delete_rows(conn, session_id)
        logger.info("user_id=<%s>, session_id=<%s> | deleted session", user_id, session_id)

    def set_state(self, session_id: str, user_id: str, state: SessionState) -> SessionMeta:
        """Complete (or expire) a session; a state that is none of SessionState's is a ValueError."""
        state = checked_state(state)
        logger.info("user_id=<%s>, session_id=<%s>, state=<%s> | changing session state", user_id, session_id, state)
        return self._mutate(session_id, user_id, state=state)

    def set_feedback(self, session_id: str, user_id: str, turn_idx: int, value: int | None) -> None:
        """Store thumbs up (+1) / down (-1) / cleared (None) for one turn."""
        if value not in (1, -1, None):
            raise ValueError("Feedback must be +1, -1 or empty.")
        with self.index.tx() as conn:
            self.index.select_row(conn, session_id, user_id)
            result = conn.execute(
                update(db.turns)
                .where(and_(db.turns.c.session_id == session_id, db.turns.c.idx == turn_idx))
                .values(feedback=value)
            )
            if not result.rowcount:
                raise SessionNotFoundError("That answer was not found in this session.")

    def reindex(self) -> int:
        """Rebuild every SQL session's search rows (``session_text``) from its stored transcript.

        Search rows are written once, when a turn is stored, by the code of that day: rows an
        older release wrote hold the answer's Markdown marks (search reads what a message
        shows since 67f10b9) and, for sessions from before migration 0003, the whole
        transcript in one row. Run after an upgrade (``python -m assistant sessions reindex``);
        one transaction per session, rows already right are left alone, so it is safe to
        run again or while users chat.

        Returns:
            The number of sessions whose search rows were checked.
        """
        from assistant.sessions.s3_index import sync_text

        with self.engine.connect() as conn:
            ids = (
                conn.execute(select(db.sessions.c.id).where(db.sessions.c.storage == self.storage_name)).scalars().all()
            )
        count = 0
        for sid in ids:
            with self.index.tx() as conn:
                # locked as a turn's commit locks it: a turn stored meanwhile keeps its search row
                row = conn.execute(select(db.sessions.c.title).where(db.sessions.c.id == sid).with_for_update()).first()
                if row is None:  # deleted meanwhile
                    continue
                contents, records = _transcript_rows(conn, sid)
                try:
                    messages = [{"role": m.role, "content": json.loads(m.content)} for m in contents]
                    turns = [json.loads(r.record) for r in records]
                except ValueError:
                    logger.error("session_id=<%s> | session data is damaged, search rows left as they are", sid)
                    continue
                sync_text(conn, sid, {"meta": {"title": row.title}, "messages": messages, "turns": turns})
            count += 1
        logger.info("sessions=<%s> | rebuilt search rows", count)
        return count

    # -- pending questions (shared by the S3 store: they live in the SQL database) ---------
