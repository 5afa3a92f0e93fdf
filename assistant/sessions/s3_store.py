"""S3 session store: one JSON object per session in S3, the SQL database as index and ledger.

Layout: ``sessions/<quoted user id>/<session id>.json`` holds the whole session (schema
version, metadata, full transcript, turn records with their feedback and their model-call
usage, and the strands agent snapshot). The ``sessions`` row in SQL (``storage='s3'``,
``agent_snapshot`` NULL) carries the same aggregates, and ``session_text`` the same search rows, as the SQL store,
so lists, search and the cost dashboard never touch S3. The ``messages``/``turns`` tables
are not used for S3 sessions.

Request budget:

- a committed turn is exactly one ``PutObject`` (``If-Match`` the ETag this process holds);
- a resume (``load`` of a session whose current version is not cached here) is one
  ``GetObject``; ``load`` of a cached, unchanged session and ``get_meta``/``list_sessions``
  cost no S3 request (the in-process cache is validated against the index ``version``);
- creating a session is one ``PutObject`` with ``If-None-Match: *``.

Failure ordering: the S3 PUT comes first (S3 is the source of truth), then one SQL
transaction updates the index row and appends the ledger rows. A failed PUT changes
nothing (:class:`StorageUnavailableError`; the cached document is unchanged, so a retry
sends the same turn exactly once). A 412/409 on a conditional PUT is a
:class:`SessionConflictError` and overwrites nothing. When the index transaction fails
after a successful PUT, the turn is saved: it is logged, the caller gets the new metadata,
and the index row stays one version behind the object; the next ``load`` of that session
notices (object version > index version) and repairs the row and the missing ledger rows
from the object (idempotent by ``call_id``), as :meth:`S3SessionStore.reindex` does for the
whole bucket.

Ledger rows of failed turns (:meth:`record_usage`) are written to SQL only: they are not in
any S3 object and a rebuilt index keeps whatever of them the database still holds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import Engine, and_, update

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
    _parse_dt,
    utcnow,
)
from assistant.sessions.index import IndexedStore
from assistant.sessions.rows import (
    CONFLICT_MESSAGE,
    checked_state,
    clean_title,
    new_session_id,
    row_to_meta,
    set_title_text,
    usage_totals,
)
from assistant.sessions.s3_index import index_turn, mark_damaged, reindex, upsert_current
from assistant.sessions.s3_objects import (
    CACHE_BYTES,
    CACHE_SIZE,
    DAMAGED_MESSAGE,
    SCHEMA_VERSION,
    DamagedObjectError,
    SessionObjects,
    StoredObject,
    object_key,
    validate_session_id,
)
from assistant.sessions.snapshot_storage import expand_snapshot

logger = logging.getLogger(__name__)

ANSWERED_AFTER_ALL = (
    "Storage answered late: the earlier answer to this question was saved after all. "
    "Reload the session to see it; nothing was asked twice."
)


class AnsweredAfterAllError(SessionError):
    """A Retry of a question whose first answer, reported as not saved, reached S3 after all."""


class S3SessionStore(IndexedStore):
    """Sessions in S3 (one object each), indexed and costed in the SQL database.

    Args:
        engine: SQLAlchemy engine of the index/ledger database (already migrated).
        client: The process's shared boto3 S3 client (see :func:`assistant.factory.get_s3_client`).
        bucket: Bucket holding the session objects.
        expiry_hours: Idle time after which an active session becomes expired.
        clock: Source of "now" (tests pass a fixed clock).
        cache_size: How many session documents to keep in memory (least recently used go first).
        cache_bytes: At most how many bytes of stored documents to keep in memory.
    """

    storage_name = "s3"

    def __init__(
        self,
        engine: Engine,
        *,
        client: Any,
        bucket: str,
        expiry_hours: float = 24.0,
        clock: Callable[[], datetime] = utcnow,
        cache_size: int = CACHE_SIZE,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        super().__init__(engine, expiry_hours=expiry_hours, clock=clock)
        self.objects = SessionObjects(client, bucket, cache_size=cache_size, cache_bytes=cache_bytes)
        self.client = client
        self.bucket = bucket

    def _get(self, key: str, session_id: str) -> StoredObject:
        """One GetObject; a missing or unreadable object is marked damaged in the index."""
        try:
            return self.objects.get(key, session_id)
        except DamagedObjectError as e:
            self._mark_damaged(session_id, e.reason)
            raise

    def _doc_for(self, row: Any) -> tuple[dict[str, Any], str]:
        """The document matching the index row: the cached one if current, else one GET."""
        cached = self.objects.cache_get(row.id)
        if cached is not None and cached.version == row.version:
            return cached.body, cached.etag
        read = self._get(object_key(row.user_id, row.id), row.id)
        self.objects.cache_put(row.id, read)
        return read.body, read.etag

    # -- index -----------------------------------------------------------------------
    def _mark_damaged(self, session_id: str, reason: str) -> None:
        mark_damaged(self.index, session_id, reason)

    def _reread(self, key: str, session_id: str) -> dict[str, Any]:
        """One GetObject of the session as S3 holds it now (cached, like any document read)."""
        read = self.objects.get(key, session_id)
        self.objects.cache_put(session_id, read)
        return read.body

    def _repair(self, body: dict[str, Any]) -> dict[str, Any]:
        """Make the index row match ``body`` (or the object now, when a turn was stored meanwhile)."""
        sid = str(body["meta"]["id"])
        key = object_key(str(body["meta"]["user_id"]), sid)
        try:
            return upsert_current(self.index, body, self.storage_name, lambda: self._reread(key, sid))[0]
        except DamagedObjectError as e:
            self._mark_damaged(sid, e.reason)
            raise

    # -- documents ---------------------------------------------------------------------
    def _to_document(self, meta: SessionMeta, body: dict[str, Any]) -> SessionDocument:
        try:
            turns = [TurnRecord.from_dict(t) for t in body["turns"]]
        except (ValueError, KeyError, TypeError) as e:
            raise SessionDamagedError(DAMAGED_MESSAGE) from e
        snapshot, messages = body.get("agent_snapshot"), list(body["messages"])
        return SessionDocument(
            meta=meta,
            messages=messages,
            turns=turns,
            agent_snapshot=expand_snapshot(dict(snapshot), messages) if isinstance(snapshot, dict) else None,
        )

    def _meta_from(self, row: Any, body: dict[str, Any], **changes: Any) -> SessionMeta:
        """Metadata after a write whose index update did not happen (row aggregates + document)."""
        meta = body["meta"]
        base = row_to_meta(row)
        return replace(
            base,
            title=meta["title"],
            state=meta["state"],
            updated_at=_parse_dt(meta["updated_at"]),
            version=int(meta["version"]),
            message_count=len(body["messages"]),
            turn_count=len(body["turns"]),
            **changes,
        )

    # -- SessionStore ----------------------------------------------------------------
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
        """Create an empty active session: one PUT (If-None-Match: *), then the index row.

        Args:
            user_id: Owner.
            model: Registry name of the model answering in this session.
            title: Initial title.
            user_email: Owner's email (shown to admins).
            continued_from: Session this one continues, if any.
            seed_snapshot: Agent snapshot carried over from ``continued_from``.
            session_id: Explicit id (tests); a fresh uuid4 otherwise.

        Returns:
            The new session's metadata.
        """
        now = self.clock()
        sid = validate_session_id(session_id or new_session_id())
        key = object_key(user_id, sid)
        body: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "meta": {
                "id": sid,
                "user_id": user_id,
                "user_email": user_email,
                "title": clean_title(title) or UNTITLED,
                "state": "active",
                "created_at": now.isoformat(),
                "updated_at": now.isoformat(),
                "model": model,
                "continued_from": continued_from,
                "version": 0,
            },
            "messages": [],
            "turns": [],
            "agent_snapshot": seed_snapshot,
        }
        written = self.objects.put(key, sid, body, create=True)
        try:
            self._repair(written.body)
        except StorageUnavailableError:
            logger.error("session_id=<%s>, bucket=<%s> | index insert failed, removing new object", sid, self.bucket)
            try:
                self.client.delete_object(Bucket=self.bucket, Key=key)
            except (ClientError, BotoCoreError):
                logger.error("session_id=<%s>, bucket=<%s> | orphan session object left", sid, self.bucket)
            raise
        self.objects.cache_put(sid, written)
        logger.info("user_id=<%s>, session_id=<%s>, bucket=<%s> | creating session", user_id, sid, self.bucket)
        return self.get_meta(sid, user_id)

    def load(self, session_id: str, user_id: str | None) -> SessionDocument:
        """The whole session: no S3 request when this process holds the current version, else one GET.

        A document newer than its index row (an index write failed after the PUT) repairs the row.
        """
        with self.engine.connect() as conn:
            row = self.index.select_row(conn, session_id, user_id)
        meta = self.index.current_meta(row)
        body, _ = self._doc_for(row)
        if body["meta"]["user_id"] != row.user_id:
            logger.error("session_id=<%s> | session object names another owner", session_id)
            self._mark_damaged(session_id, "owner mismatch")
            raise SessionDamagedError(DAMAGED_MESSAGE)
        if int(body["meta"]["version"]) != row.version or row.damaged:
            logger.warning(
                "session_id=<%s>, index_version=<%s>, object_version=<%s> | index out of date, repairing",
                session_id,
                row.version,
                body["meta"]["version"],
            )
            body = self._repair(body)
            meta = self.get_meta(session_id, user_id)
        return self._to_document(meta, body)

    def _before_turn(self, session_id: str, user_id: str, text: str) -> None:
        """Before :meth:`begin_turn`'s transaction: settle a turn PUT that timed out here.

        S3 may apply a PUT after the client gave up on it: the user was told "not saved" and
        presses Retry. When that PUT did land and its turn asked this very question, the send is
        refused (the answer is there; asking again would store the question twice); the index
        has caught up, so the reloaded page shows the answer.

        Raises:
            AnsweredAfterAllError: The earlier attempt of this question was saved after all.
        """
        validate_session_id(session_id)
        if not self.objects.has_unsure_write(session_id):  # the usual case: nothing to read
            return
        with self.engine.connect() as conn:
            row = self.index.select_row(conn, session_id, user_id)
        if self.objects.unsure_write_landed(object_key(row.user_id, session_id), session_id):
            doc = self.load(session_id, user_id)  # one GET; repairs the index row
            if doc.turns and doc.turns[-1].user_text == text:
                logger.info("session_id=<%s> | timed-out turn write had landed; not asking again", session_id)
                raise AnsweredAfterAllError(ANSWERED_AFTER_ALL)

    def commit_turn(
        self, session_id: str, user_id: str, *, expected_version: int | None, commit: TurnCommit
    ) -> SessionMeta:
        """Append a turn: one PUT (If-Match) of the whole document, then the index and ledger.

        Args:
            session_id: Session to append to.
            user_id: Owner (a session of another user is "not found").
            expected_version: The version the writer loaded; None appends to the current one.
            commit: Messages, turn record, agent snapshot and ledger rows of the turn.

        Returns:
            The updated session metadata.

        Raises:
            SessionConflictError: The session changed elsewhere; nothing was written.
            StorageUnavailableError: S3 failed; nothing was written (retry sends the turn once).
        """
        now = self.clock()
        with self.objects.session_lock(session_id):
            with self.engine.connect() as conn:
                row = self.index.select_row(conn, session_id, user_id)
            self.index.check_writable(row, expected_version)
            body, etag = self._doc_for(row)
            if int(body["meta"]["version"]) != row.version:
                self._repair(body)
                self.objects.cache_drop(session_id)
                raise SessionConflictError(CONFLICT_MESSAGE)
            start = len(body["messages"])
            new_messages = [{"role": m["role"], "content": m["content"]} for m in commit.messages]
            turn = commit.turn.to_dict() | {
                "message_range": [start, start + len(new_messages)],
                "usage": [u.to_dict() for u in commit.usage],
            }
            new_version = row.version + 1
            meta = dict(body["meta"]) | {"version": new_version, "updated_at": now.isoformat()}
            if commit.title:
                meta["title"] = clean_title(commit.title)
            new_body = {
                "schema": SCHEMA_VERSION,
                "meta": meta,
                "messages": body["messages"] + new_messages,
                "turns": [*body["turns"], turn],
                "agent_snapshot": commit.agent_snapshot,
            }
            written = self.objects.put(object_key(row.user_id, session_id), session_id, new_body, if_match=etag)
            self.objects.cache_put(session_id, written)
            new_body = written.body
            new_messages = new_body["messages"][start:]
            try:
                with self.index.tx() as conn:
                    new_row = index_turn(
                        conn,
                        self.index,
                        row,
                        commit,
                        new_messages,
                        new_version,
                        now,
                        self.objects,
                        storage_name=self.storage_name,
                    )
            except StorageUnavailableError:
                return self._after_index_failure(row, commit, new_body, session_id, user_id, new_version)
        logger.debug(
            "session_id=<%s>, turn=<%s>, messages=<%s> | committed turn", session_id, commit.turn.idx, len(new_messages)
        )
        return row_to_meta(new_row)

    def _after_index_failure(
        self, row: Any, commit: TurnCommit, new_body: dict[str, Any], session_id: str, user_id: str, new_version: int
    ) -> SessionMeta:
        """The turn is in S3 but its index transaction failed: rebuild the row once, else report it from the object."""
        logger.error(
            "session_id=<%s>, version=<%s> | turn saved in s3 but index update failed; rebuilding from object",
            session_id,
            new_version,
        )
        try:  # once more, from the object just written (idempotent; charges the ledger now)
            self._repair(new_body)
            with self.engine.connect() as conn:
                return row_to_meta(self.index.select_row(conn, session_id, user_id))
        except StorageUnavailableError:
            logger.error(
                "session_id=<%s>, version=<%s> | index rebuild failed; repaired on next load", session_id, new_version
            )
        totals = usage_totals(commit.usage)
        return self._meta_from(
            row,
            new_body,
            input_tokens=row.input_tokens + totals["input_tokens"],
            output_tokens=row.output_tokens + totals["output_tokens"],
            cost_usd=row.cost_usd + totals["cost_usd"],
        )

    def _mutate_doc(
        self, session_id: str, user_id: str, change: Callable[[dict[str, Any]], None], **index_values: Any
    ) -> SessionMeta:
        """Read-modify-write of the document (one PUT, If-Match), then the index row."""
        with self.objects.session_lock(session_id):
            with self.engine.connect() as conn:
                row = self.index.select_row(conn, session_id, user_id)
            body, etag = self._doc_for(row)
            if int(body["meta"]["version"]) != row.version:
                self._repair(body)
                with self.engine.connect() as conn:
                    row = self.index.select_row(conn, session_id, user_id)
                body, etag = self._doc_for(row)
            new_body = json.loads(jsonutil.dumps(body))
            change(new_body)
            new_version = row.version + 1
            new_body["meta"]["version"] = new_version
            written = self.objects.put(object_key(row.user_id, session_id), session_id, new_body, if_match=etag)
            self.objects.cache_put(session_id, written)
            new_body = written.body
            try:
                with self.index.tx() as conn:
                    conn.execute(
                        update(db.sessions)
                        .where(and_(db.sessions.c.id == session_id, db.sessions.c.version == row.version))
                        .values(version=new_version, **index_values)
                    )
                    if "title" in index_values:
                        set_title_text(conn, session_id, index_values["title"])
            except StorageUnavailableError:
                logger.error(
                    "session_id=<%s>, version=<%s> | change saved in s3 but index update failed; repaired on next load",
                    session_id,
                    new_version,
                )
                return self._meta_from(row, new_body)
        return self.get_meta(session_id, user_id)

    def rename(self, session_id: str, user_id: str, title: str) -> SessionMeta:
        """Change a session's title (one PUT)."""
        cleaned = clean_title(title)
        if not cleaned:
            raise ValueError("A title cannot be empty.")
        logger.info("user_id=<%s>, session_id=<%s> | renaming session", user_id, session_id)

        def change(body: dict[str, Any]) -> None:
            body["meta"]["title"] = cleaned

        return self._mutate_doc(session_id, user_id, change, title=cleaned)

    def set_state(self, session_id: str, user_id: str, state: SessionState) -> SessionMeta:
        """Complete (or expire) a session (one PUT); a state that is none of SessionState's is a ValueError."""
        state = checked_state(state)
        logger.info("user_id=<%s>, session_id=<%s>, state=<%s> | changing session state", user_id, session_id, state)

        def change(body: dict[str, Any]) -> None:
            body["meta"]["state"] = state

        return self._mutate_doc(session_id, user_id, change, state=state)

    def set_feedback(self, session_id: str, user_id: str, turn_idx: int, value: int | None) -> None:
        """Store thumbs up (+1) / down (-1) / cleared (None) for one turn (one PUT)."""
        if value not in (1, -1, None):
            raise ValueError("Feedback must be +1, -1 or empty.")

        def change(body: dict[str, Any]) -> None:
            for turn in body["turns"]:
                if int(turn["idx"]) == turn_idx:
                    turn["feedback"] = value
                    return
            raise SessionNotFoundError("That answer was not found in this session.")

        self._mutate_doc(session_id, user_id, change)

    def delete(self, session_id: str, user_id: str) -> None:
        """Delete the session object, then its index row (ledger rows stay: the money was spent)."""
        with self.objects.session_lock(session_id):
            with self.engine.connect() as conn:
                row = self.index.select_row(conn, session_id, user_id)
            self.objects.delete(object_key(row.user_id, session_id), session_id)
            self.objects.cache_drop(session_id)
            with self.index.tx() as conn:
                self.index.delete_rows(conn, session_id)
        logger.info("user_id=<%s>, session_id=<%s>, bucket=<%s> | deleted session", user_id, session_id, self.bucket)

    # -- maintenance -------------------------------------------------------------------
    def reindex(self) -> int:
        """Rebuild the index rows (and the ledger rows of committed turns) from the bucket.

        See :func:`assistant.sessions.s3_index.reindex`.

        Returns:
            The number of sessions indexed.
        """
        return reindex(
            self.index,
            self.objects,
            storage_name=self.storage_name,
            get=lambda key, sid: self._get(key, sid).body,
            refetch=lambda key, sid: self.objects.get(key, sid).body,
        )


__all__ = ["S3SessionStore", "object_key", "validate_session_id"]
