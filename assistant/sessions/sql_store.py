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
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from assistant import db
from assistant.sessions import jsonutil
from assistant.sessions.base import (
    SessionDamagedError,
    SessionDocument,
    SessionMeta,
    SessionNotFoundError,
    SessionState,
    TurnCommit,
    TurnRecord,
)
from assistant.sessions.index import IndexedStore
from assistant.sessions.rows import (
    _DELETE_PENDING,
    _INSERT_MESSAGES,
    _INSERT_TEXT,
    _INSERT_TURN,
    _INSERT_USAGE,
    _UPDATE_TURN,
    clean_title,
    new_session_id,
    row_to_meta,
    set_title_text,
    title_text_row,
    turn_search_text,
    usage_row,
    usage_totals,
)

logger = logging.getLogger(__name__)


class SqlSessionStore(IndexedStore):
    """Sessions, transcripts, turns and the usage ledger in one SQL database.

    Args:
        engine: SQLAlchemy engine of the migrated database (see :func:`assistant.db.get_engine`).
        expiry_hours: Idle time after which an active session becomes expired.
        clock: Source of "now" (tests pass a fixed clock).
    """

    storage_name = "sql"

    # -- SessionStore ---------------------------------------------------------------
    def create_session(
        self,
        user_id: str,
        *,
        model: str,
        title: str = "New session",
        user_email: str | None = None,
        continued_from: str | None = None,
        seed_snapshot: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> SessionMeta:
        """Create an empty active session (optionally carrying another session's context)."""
        now = self.clock()
        sid = session_id or new_session_id()
        cleaned = clean_title(title) or "New session"
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
            msg_rows = conn.execute(
                select(db.messages.c.idx, db.messages.c.role, db.messages.c.content)
                .where(db.messages.c.session_id == session_id)
                .order_by(db.messages.c.idx)
            ).all()
            turn_rows = conn.execute(
                select(db.turns.c.record, db.turns.c.feedback)
                .where(db.turns.c.session_id == session_id)
                .order_by(db.turns.c.idx)
            ).all()
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
            snapshot = json.loads(snapshot_text) if snapshot_text else None
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
        with self.index.tx() as conn:
            row = self.index.select_row(conn, session_id, user_id, lock=True)
            self.index.check_writable(row, expected_version)
            new_row = self._write_turn(conn, row, commit, now)
        logger.debug(
            "session_id=<%s>, turn=<%s>, messages=<%s> | committed turn",
            session_id,
            commit.turn.idx,
            len(commit.messages),
        )
        return row_to_meta(new_row)

    def _write_turn(self, conn: Connection, row: Any, commit: TurnCommit, now: datetime) -> Any:
        """Write one turn inside the caller's transaction (the session row is locked); return the new row.

        Statements are prebuilt (module constants executed with parameters), and the search
        index grows by one ``session_text`` row: nothing re-reads or re-indexes earlier turns.
        """
        sid = row.id
        start = row.message_count
        if commit.messages:
            conn.execute(
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
        conn.execute(
            _INSERT_TURN,
            {
                "session_id": sid,
                "idx": commit.turn.idx,
                "record": json.dumps(commit.turn.to_dict()),
                "feedback": commit.turn.feedback,
            },
        )
        if commit.usage:
            conn.execute(_INSERT_USAGE, [usage_row(r) for r in commit.usage])
        text = turn_search_text(commit.messages)
        if text:
            conn.execute(_INSERT_TEXT, {"session_id": sid, "turn_idx": commit.turn.idx, "text": text})
        totals = usage_totals(commit.usage)
        # The row is locked for this transaction, so absolute values computed here are exact.
        new: dict[str, Any] = {
            "version": row.version + 1,
            "message_count": row.message_count + len(commit.messages),
            "turn_count": row.turn_count + 1,
            "input_tokens": row.input_tokens + totals["input_tokens"],
            "output_tokens": row.output_tokens + totals["output_tokens"],
            "cost_usd": row.cost_usd + totals["cost_usd"],
            "errors": row.errors + totals["errors"],
            "updated_at": now,
            "cost_unknown": bool(row.cost_unknown or totals["cost_unknown"]),
        }
        if commit.title:
            new["title"] = clean_title(commit.title)
            set_title_text(conn, sid, new["title"])
        conn.execute(_DELETE_PENDING, {"sid": sid})
        conn.execute(_UPDATE_TURN, {"sid": sid, "agent_snapshot": self._snapshot_text(commit), **new})
        return SimpleNamespace(**{**row._mapping, **new})

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
            conn.execute(delete(db.session_text).where(db.session_text.c.session_id == session_id))
            conn.execute(_DELETE_PENDING, {"sid": session_id})
            conn.execute(delete(db.sessions).where(db.sessions.c.id == session_id))
        logger.info("user_id=<%s>, session_id=<%s> | deleted session", user_id, session_id)

    def set_state(self, session_id: str, user_id: str, state: SessionState) -> SessionMeta:
        """Complete (or expire) a session."""
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

    # -- pending questions (shared by the S3 store: they live in the SQL database) ---------
