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

import collections
import hashlib
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update

from assistant import db
from assistant.sessions import jsonutil
from assistant.sessions.base import (
    SessionConflictError,
    SessionDamagedError,
    SessionDocument,
    SessionMeta,
    SessionNotFoundError,
    SessionState,
    StorageUnavailableError,
    TurnCommit,
    TurnRecord,
    UsageRecord,
    _parse_dt,
    utcnow,
)
from assistant.sessions.index import (
    _DELETE_PENDING,
    _INSERT_TEXT,
    _INSERT_USAGE,
    _UPDATE_TURN,
    CONFLICT_MESSAGE,
    IndexedStore,
    clean_title,
    new_session_id,
    row_to_meta,
    set_title_text,
    turn_search_text,
    usage_row,
    usage_totals,
)

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
KEY_PREFIX = "sessions/"
CACHE_SIZE = 256
LOCK_STRIPES = 64
WRITE_ID_META = "write-id"
_SESSION_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}

UNAVAILABLE_WRITE = "Session storage is unavailable; your last change was not saved. Try again in a moment."
UNAVAILABLE_READ = "Session storage is unavailable; the session could not be opened. Try again in a moment."
DAMAGED_MESSAGE = "This session's stored conversation is damaged and cannot be opened. Other sessions are unaffected."
MISSING_MESSAGE = (
    "This session's stored conversation is missing from storage and cannot be opened. Other sessions are unaffected."
)


def validate_session_id(session_id: str) -> str:
    """Return ``session_id`` if it is safe to use in an object key.

    Args:
        session_id: An opaque session id (uuid4 for sessions this app creates).

    Returns:
        The id, unchanged.

    Raises:
        SessionNotFoundError: The id cannot name any session (wrong characters or length).
    """
    if not isinstance(session_id, str) or not _SESSION_ID_RE.match(session_id):
        raise SessionNotFoundError("That session was not found.")
    return session_id


def object_key(user_id: str, session_id: str) -> str:
    """The S3 key of one session's document.

    The user id is percent-encoded (``:``, ``@``, ``/`` ... become ``%XX``), so every user
    has exactly one key prefix and no user id can reach another user's prefix.

    Args:
        user_id: Owner of the session (any non-empty string up to 255 characters).
        session_id: The session id (see :func:`validate_session_id`).

    Returns:
        ``sessions/<quoted user id>/<session id>.json``.
    """
    if not user_id or len(user_id) > 255:
        raise ValueError("A user id must be 1 to 255 characters long.")
    return f"{KEY_PREFIX}{quote(user_id, safe='')}/{validate_session_id(session_id)}.json"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _is_conflict(error: ClientError) -> bool:
    return _error_code(error) in _CONFLICT_CODES or _http_status(error) in (409, 412)


def _is_missing(error: ClientError) -> bool:
    return _error_code(error) in _MISSING_CODES or _http_status(error) == 404


def _usage_to_dict(record: UsageRecord) -> dict[str, Any]:
    return {
        "call_id": record.call_id,
        "turn_idx": record.turn_idx,
        "provider": record.provider,
        "model_id": record.model_id,
        "started_at": record.started_at.isoformat(),
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


def _usage_from_dict(data: dict[str, Any], session_id: str, user_id: str) -> UsageRecord:
    return UsageRecord(
        call_id=str(data["call_id"]),
        session_id=session_id,
        user_id=user_id,
        turn_idx=int(data.get("turn_idx", 0)),
        provider=str(data.get("provider", "")),
        model_id=str(data.get("model_id", "")),
        started_at=_parse_dt(data["started_at"]),
        input_tokens=int(data.get("input_tokens", 0)),
        output_tokens=int(data.get("output_tokens", 0)),
        cache_read_tokens=int(data.get("cache_read_tokens", 0)),
        cache_write_tokens=int(data.get("cache_write_tokens", 0)),
        latency_ms=data.get("latency_ms"),
        ttft_ms=data.get("ttft_ms"),
        error=data.get("error"),
        cost_usd=data.get("cost_usd"),
        price_version=data.get("price_version"),
    )


@dataclass(frozen=True)
class _Cached:
    """A session document this process read or wrote, with the ETag S3 gave it."""

    etag: str
    version: int
    body: dict[str, Any]


class S3SessionStore(IndexedStore):
    """Sessions in S3 (one object each), indexed and costed in the SQL database.

    Args:
        engine: SQLAlchemy engine of the index/ledger database (already migrated).
        client: The process's shared boto3 S3 client (see :func:`assistant.factory.get_s3_client`).
        bucket: Bucket holding the session objects.
        expiry_hours: Idle time after which an active session becomes expired.
        clock: Source of "now" (tests pass a fixed clock).
        cache_size: How many session documents to keep in memory (least recently used go first).
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
    ) -> None:
        super().__init__(engine, expiry_hours=expiry_hours, clock=clock)
        self.client = client
        self.bucket = bucket
        self._cache: collections.OrderedDict[str, _Cached] = collections.OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]

    # -- cache -----------------------------------------------------------------------
    def _cache_get(self, session_id: str) -> _Cached | None:
        with self._cache_lock:
            entry = self._cache.get(session_id)
            if entry is not None:
                self._cache.move_to_end(session_id)
            return entry

    def _cache_put(self, session_id: str, entry: _Cached) -> None:
        with self._cache_lock:
            self._cache[session_id] = entry
            self._cache.move_to_end(session_id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _cache_drop(self, session_id: str) -> None:
        with self._cache_lock:
            self._cache.pop(session_id, None)

    def _session_lock(self, session_id: str) -> threading.Lock:
        digest = hashlib.blake2b(session_id.encode("utf-8"), digest_size=2).digest()
        return self._stripes[int.from_bytes(digest, "big") % LOCK_STRIPES]

    # -- S3 I/O ----------------------------------------------------------------------
    def _put(
        self, key: str, session_id: str, body: dict[str, Any], *, if_match: str | None = None, create: bool = False
    ) -> _Cached:
        """One conditional PutObject; returns what to cache: the new ETag and the document as written.

        The cached document is parsed back from the bytes written, never ``body`` itself:
        ``body`` may reference live agent state (the snapshot's message list, raw bytes), and
        a cache sharing it would see a later failed turn's messages and hold values JSON
        cannot encode.
        """
        data = jsonutil.dumps(body).encode("utf-8")
        write_id = uuid.uuid4().hex
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": data,
            "ContentType": "application/json",
            "Metadata": {WRITE_ID_META: write_id},
        }
        if create:
            kwargs["IfNoneMatch"] = "*"
        elif if_match is not None:
            kwargs["IfMatch"] = if_match
        logger.debug(
            "session_id=<%s>, bucket=<%s>, bytes=<%s> | writing session object", session_id, self.bucket, len(data)
        )
        try:
            response = self.client.put_object(**kwargs)
        except ClientError as e:
            if _is_conflict(e) or (if_match is not None and _is_missing(e)):
                landed = self._own_write_landed(key, write_id)
                if landed is not None:
                    return _Cached(etag=landed, version=int(body["meta"]["version"]), body=json.loads(data))
                self._cache_drop(session_id)
                logger.warning(
                    "session_id=<%s>, bucket=<%s>, code=<%s> | session object changed elsewhere",
                    session_id,
                    self.bucket,
                    _error_code(e),
                )
                raise SessionConflictError(CONFLICT_MESSAGE) from e
            logger.error(
                "session_id=<%s>, bucket=<%s>, code=<%s> | session object write failed",
                session_id,
                self.bucket,
                _error_code(e),
            )
            raise StorageUnavailableError(UNAVAILABLE_WRITE) from e
        except BotoCoreError as e:
            logger.error(
                "session_id=<%s>, bucket=<%s>, error=<%s> | session object write failed",
                session_id,
                self.bucket,
                e.__class__.__name__,
            )
            raise StorageUnavailableError(UNAVAILABLE_WRITE) from e
        return _Cached(etag=str(response["ETag"]), version=int(body["meta"]["version"]), body=json.loads(data))

    def _own_write_landed(self, key: str, write_id: str) -> str | None:
        """After a 412: did an earlier attempt of this very PUT land (a retried request)?

        botocore retries a PUT whose response was lost; the retry then fails its own
        precondition. The object's ``write-id`` metadata tells the two cases apart.
        """
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError):
            return None
        if (head.get("Metadata") or {}).get(WRITE_ID_META) == write_id:
            logger.info("bucket=<%s>, key=<%s> | retried write had already landed", self.bucket, key)
            return str(head["ETag"])
        return None

    def _get(self, key: str, session_id: str) -> tuple[dict[str, Any], str]:
        """One GetObject; returns the parsed document and its ETag."""
        logger.debug("session_id=<%s>, bucket=<%s> | reading session object", session_id, self.bucket)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            raw = response["Body"].read()
        except ClientError as e:
            if _is_missing(e):
                self._mark_damaged(session_id, "object missing")
                logger.error("session_id=<%s>, bucket=<%s> | session object is missing", session_id, self.bucket)
                raise SessionDamagedError(MISSING_MESSAGE) from e
            logger.error(
                "session_id=<%s>, bucket=<%s>, code=<%s> | session object read failed",
                session_id,
                self.bucket,
                _error_code(e),
            )
            raise StorageUnavailableError(UNAVAILABLE_READ) from e
        except BotoCoreError as e:
            logger.error(
                "session_id=<%s>, bucket=<%s>, error=<%s> | session object read failed",
                session_id,
                self.bucket,
                e.__class__.__name__,
            )
            raise StorageUnavailableError(UNAVAILABLE_READ) from e
        try:
            body = self._parse(raw, session_id)
        except SessionDamagedError:
            self._mark_damaged(session_id, "object unreadable")
            raise
        return body, str(response["ETag"])

    @staticmethod
    def _parse(raw: bytes, session_id: str | None) -> dict[str, Any]:
        """Parse and check a session document (raises SessionDamagedError)."""
        try:
            body = json.loads(raw)
            if not isinstance(body, dict) or body.get("schema") != SCHEMA_VERSION:
                raise ValueError(f"unknown document schema {body.get('schema') if isinstance(body, dict) else None}")
            meta = body["meta"]
            if session_id is not None and meta["id"] != session_id:
                raise ValueError("document belongs to another session")
            if not isinstance(body.get("messages"), list) or not isinstance(body.get("turns"), list):
                raise ValueError("messages and turns must be lists")
            for key in ("user_id", "title", "state", "created_at", "updated_at", "model", "version"):
                if key not in meta:
                    raise ValueError(f"meta.{key} is missing")
            int(meta["version"])
            _parse_dt(meta["created_at"])
            _parse_dt(meta["updated_at"])
            for t in body["turns"]:
                TurnRecord.from_dict(t)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            logger.error("session_id=<%s>, error=<%s> | session object is damaged", session_id, str(e)[:200])
            raise SessionDamagedError(DAMAGED_MESSAGE) from e
        return body

    def _doc_for(self, row: Any) -> tuple[dict[str, Any], str]:
        """The document matching the index row: the cached one if current, else one GET."""
        cached = self._cache_get(row.id)
        if cached is not None and cached.version == row.version:
            return cached.body, cached.etag
        body, etag = self._get(object_key(row.user_id, row.id), row.id)
        self._cache_put(row.id, _Cached(etag=etag, version=int(body["meta"]["version"]), body=body))
        return body, etag

    # -- index -----------------------------------------------------------------------
    def _mark_damaged(self, session_id: str, reason: str) -> None:
        try:
            with self.index.tx() as conn:
                conn.execute(update(db.sessions).where(db.sessions.c.id == session_id).values(damaged=reason))
        except StorageUnavailableError:
            logger.error("session_id=<%s> | could not mark session damaged in the index", session_id)

    def _row_values(self, conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
        """The full index row for a document; aggregates come from the session's ledger rows."""
        meta = body["meta"]
        u = db.usage.c
        sums = conn.execute(
            select(
                func.coalesce(func.sum(u.input_tokens), 0),
                func.coalesce(func.sum(u.output_tokens), 0),
                func.coalesce(func.sum(u.cost_usd), 0.0),
                func.count().filter(u.cost_usd.is_(None)),
                func.count().filter(u.error.is_not(None)),
            ).where(u.session_id == meta["id"])
        ).one()
        messages = body["messages"]
        return {
            "id": meta["id"],
            "user_id": meta["user_id"],
            "user_email": meta.get("user_email"),
            "title": clean_title(str(meta["title"])) or "New session",
            "state": meta["state"],
            "created_at": _parse_dt(meta["created_at"]),
            "updated_at": _parse_dt(meta["updated_at"]),
            "model": meta["model"],
            "version": int(meta["version"]),
            "message_count": len(messages),
            "turn_count": len(body["turns"]),
            "input_tokens": int(sums[0]),
            "output_tokens": int(sums[1]),
            "cost_usd": float(sums[2]),
            "cost_unknown": bool(sums[3]),
            "errors": int(sums[4]),
            "continued_from": meta.get("continued_from"),
            "damaged": None,
            "storage": self.storage_name,
            "agent_snapshot": None,
        }

    @staticmethod
    def _text_rows(body: dict[str, Any]) -> dict[int, str]:
        """The ``session_text`` rows of a document: ``{turn_idx: text}`` (title row included)."""
        meta = body["meta"]
        messages = body["messages"]
        rows = {db.TITLE_TURN_IDX: (clean_title(str(meta["title"])) or "New session").lower()}
        for t in body["turns"]:
            start, end = t.get("message_range") or (t.get("first_message_idx", 0), t.get("end_message_idx", 0))
            text = turn_search_text(messages[int(start) : int(end)])
            if text:
                rows[int(t["idx"])] = text
        return rows

    def _sync_text(self, conn: Connection, session_id: str, body: dict[str, Any]) -> None:
        """Make the session's ``session_text`` rows match the document (untouched when they already do)."""
        wanted = self._text_rows(body)
        c = db.session_text.c
        have = {
            int(r[0]): str(r[1]) for r in conn.execute(select(c.turn_idx, c.text).where(c.session_id == session_id))
        }
        if have == wanted:
            return
        conn.execute(delete(db.session_text).where(c.session_id == session_id))
        conn.execute(
            insert(db.session_text),
            [{"session_id": session_id, "turn_idx": idx, "text": text} for idx, text in sorted(wanted.items())],
        )

    def _insert_missing_usage(self, conn: Connection, body: dict[str, Any]) -> int:
        meta = body["meta"]
        records = [
            _usage_from_dict(u, meta["id"], meta["user_id"]) for t in body["turns"] for u in t.get("usage") or []
        ]
        if not records:
            return 0
        existing = set(
            conn.execute(select(db.usage.c.call_id).where(db.usage.c.call_id.in_([r.call_id for r in records])))
            .scalars()
            .all()
        )
        missing = [usage_row(r) for r in records if r.call_id not in existing]
        if missing:
            conn.execute(insert(db.usage), missing)
        return len(missing)

    def _upsert_from_doc(self, conn: Connection, body: dict[str, Any]) -> None:
        """Make the index row and the ledger match one document (idempotent)."""
        added = self._insert_missing_usage(conn, body)
        values = self._row_values(conn, body)
        sid = values["id"]
        exists = conn.execute(select(db.sessions.c.id).where(db.sessions.c.id == sid)).first() is not None
        if exists:
            conn.execute(update(db.sessions).where(db.sessions.c.id == sid).values(**values))
        else:
            conn.execute(insert(db.sessions).values(**values))
        self._sync_text(conn, sid, body)
        logger.info(
            "session_id=<%s>, version=<%s>, ledger_rows_added=<%s> | index row rebuilt from session object",
            sid,
            values["version"],
            added,
        )

    def _repair(self, body: dict[str, Any]) -> None:
        with self.index.tx() as conn:
            self._upsert_from_doc(conn, body)

    # -- documents ---------------------------------------------------------------------
    def _to_document(self, meta: SessionMeta, body: dict[str, Any]) -> SessionDocument:
        try:
            turns = [TurnRecord.from_dict(t) for t in body["turns"]]
        except (ValueError, KeyError, TypeError) as e:
            raise SessionDamagedError(DAMAGED_MESSAGE) from e
        snapshot = body.get("agent_snapshot")
        return SessionDocument(
            meta=meta,
            messages=list(body["messages"]),
            turns=turns,
            agent_snapshot=dict(snapshot) if isinstance(snapshot, dict) else None,
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
        title: str = "New session",
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
                "title": clean_title(title) or "New session",
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
        written = self._put(key, sid, body, create=True)
        try:
            self._repair(written.body)
        except StorageUnavailableError:
            logger.error("session_id=<%s>, bucket=<%s> | index insert failed, removing new object", sid, self.bucket)
            try:
                self.client.delete_object(Bucket=self.bucket, Key=key)
            except (ClientError, BotoCoreError):
                logger.error("session_id=<%s>, bucket=<%s> | orphan session object left", sid, self.bucket)
            raise
        self._cache_put(sid, written)
        logger.info("user_id=<%s>, session_id=<%s>, bucket=<%s> | creating session", user_id, sid, self.bucket)
        return self.get_meta(sid, user_id)

    def get_meta(self, session_id: str, user_id: str | None) -> SessionMeta:
        """Read one session's index row (applies expiry; no S3 request)."""
        validate_session_id(session_id)
        return self.index.get_meta(session_id, user_id)

    def load(self, session_id: str, user_id: str | None) -> SessionDocument:
        """The whole session: no S3 request when this process holds the current version, else one GET.

        A document newer than its index row (an index write failed after the PUT) repairs the row.
        """
        validate_session_id(session_id)
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
            self._repair(body)
            meta = self.get_meta(session_id, user_id)
        return self._to_document(meta, body)

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
        validate_session_id(session_id)
        now = self.clock()
        with self._session_lock(session_id):
            with self.engine.connect() as conn:
                row = self.index.select_row(conn, session_id, user_id)
            self.index.check_writable(row, expected_version)
            body, etag = self._doc_for(row)
            if int(body["meta"]["version"]) != row.version:
                self._repair(body)
                self._cache_drop(session_id)
                raise SessionConflictError(CONFLICT_MESSAGE)
            start = len(body["messages"])
            new_messages = [{"role": m["role"], "content": m["content"]} for m in commit.messages]
            turn = commit.turn.to_dict() | {
                "message_range": [start, start + len(new_messages)],
                "usage": [_usage_to_dict(u) for u in commit.usage],
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
            written = self._put(object_key(row.user_id, session_id), session_id, new_body, if_match=etag)
            self._cache_put(session_id, written)
            new_body = written.body
            new_messages = new_body["messages"][start:]
            try:
                with self.index.tx() as conn:
                    new_row = self._index_turn(conn, row, commit, new_messages, new_version, now)
            except StorageUnavailableError:
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
                        "session_id=<%s>, version=<%s> | index rebuild failed; repaired on next load",
                        session_id,
                        new_version,
                    )
                totals = usage_totals(commit.usage)
                return self._meta_from(
                    row,
                    new_body,
                    input_tokens=row.input_tokens + totals["input_tokens"],
                    output_tokens=row.output_tokens + totals["output_tokens"],
                    cost_usd=row.cost_usd + totals["cost_usd"],
                )
        logger.debug(
            "session_id=<%s>, turn=<%s>, messages=<%s> | committed turn", session_id, commit.turn.idx, len(new_messages)
        )
        return row_to_meta(new_row)

    def _index_turn(
        self,
        conn: Connection,
        row: Any,
        commit: TurnCommit,
        new_messages: list[dict[str, Any]],
        new_version: int,
        now: datetime,
    ) -> Any:
        """Incremental index update for one committed turn (same aggregates as the SQL store).

        Appends the ledger rows and one ``session_text`` row, updates the locked index row
        with absolute values, and returns the new row (no re-read).
        """
        locked = self.index.select_row(conn, row.id, row.user_id, lock=True)
        if locked.version != row.version:
            # Someone moved the index meanwhile; rebuild the row from the document we wrote.
            cached = self._cache_get(row.id)
            if cached is not None and cached.version == new_version:
                self._upsert_from_doc(conn, cached.body)
                return self.index.select_row(conn, row.id, row.user_id)
            raise SessionConflictError(CONFLICT_MESSAGE)
        if commit.usage:
            conn.execute(_INSERT_USAGE, [usage_row(r) for r in commit.usage])
        text = turn_search_text(new_messages)
        if text:
            conn.execute(_INSERT_TEXT, {"session_id": row.id, "turn_idx": commit.turn.idx, "text": text})
        totals = usage_totals(commit.usage)
        new: dict[str, Any] = {
            "version": new_version,
            "message_count": locked.message_count + len(new_messages),
            "turn_count": locked.turn_count + 1,
            "input_tokens": locked.input_tokens + totals["input_tokens"],
            "output_tokens": locked.output_tokens + totals["output_tokens"],
            "cost_usd": locked.cost_usd + totals["cost_usd"],
            "errors": locked.errors + totals["errors"],
            "updated_at": now,
            "cost_unknown": bool(locked.cost_unknown or totals["cost_unknown"]),
        }
        if commit.title:
            new["title"] = clean_title(commit.title)
            set_title_text(conn, row.id, new["title"])
        conn.execute(_DELETE_PENDING, {"sid": row.id})
        conn.execute(_UPDATE_TURN, {"sid": row.id, **new})
        return SimpleNamespace(**{**locked._mapping, **new})

    def _mutate_doc(
        self, session_id: str, user_id: str, change: Callable[[dict[str, Any]], None], **index_values: Any
    ) -> SessionMeta:
        """Read-modify-write of the document (one PUT, If-Match), then the index row."""
        validate_session_id(session_id)
        with self._session_lock(session_id):
            with self.engine.connect() as conn:
                row = self.index.select_row(conn, session_id, user_id)
            body, etag = self._doc_for(row)
            if int(body["meta"]["version"]) != row.version:
                self._repair(body)
                with self.engine.connect() as conn:
                    row = self.index.select_row(conn, session_id, user_id)
            new_body = json.loads(jsonutil.dumps(body))
            change(new_body)
            new_version = row.version + 1
            new_body["meta"]["version"] = new_version
            written = self._put(object_key(row.user_id, session_id), session_id, new_body, if_match=etag)
            self._cache_put(session_id, written)
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
        """Complete (or expire) a session (one PUT)."""
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
        validate_session_id(session_id)
        with self._session_lock(session_id):
            with self.engine.connect() as conn:
                row = self.index.select_row(conn, session_id, user_id)
            try:
                self.client.delete_object(Bucket=self.bucket, Key=object_key(row.user_id, session_id))
            except (ClientError, BotoCoreError) as e:
                logger.error("session_id=<%s>, bucket=<%s> | session object delete failed", session_id, self.bucket)
                raise StorageUnavailableError(
                    "Session storage is unavailable; the session was not deleted. Try again in a moment."
                ) from e
            self._cache_drop(session_id)
            with self.index.tx() as conn:
                conn.execute(delete(db.session_text).where(db.session_text.c.session_id == session_id))
                conn.execute(_DELETE_PENDING, {"sid": session_id})
                conn.execute(delete(db.sessions).where(db.sessions.c.id == session_id))
        logger.info("user_id=<%s>, session_id=<%s>, bucket=<%s> | deleted session", user_id, session_id, self.bucket)

    # -- maintenance -------------------------------------------------------------------
    def _iter_keys(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=KEY_PREFIX):
            for item in page.get("Contents", []) or []:
                key = str(item["Key"])
                if key.endswith(".json"):
                    yield key

    def reindex(self) -> int:
        """Rebuild the index rows (and the ledger rows of committed turns) from the bucket.

        Every readable object upserts its session row; ledger rows are added by ``call_id``
        only where missing, so running it twice changes nothing. Unreadable objects are
        logged and marked damaged; index rows of S3 sessions whose object is gone are marked
        damaged too.

        Returns:
            The number of sessions indexed.
        """
        started = self.clock()
        seen: set[str] = set()
        count = 0
        try:
            keys = list(self._iter_keys())
        except (ClientError, BotoCoreError) as e:
            logger.error("bucket=<%s> | listing session objects failed", self.bucket)
            raise StorageUnavailableError("Session storage is unavailable; the index was not rebuilt.") from e
        for key in keys:
            sid = key.rsplit("/", 1)[-1][: -len(".json")]
            seen.add(sid)
            try:
                body, _ = self._get(key, sid)
            except SessionDamagedError:
                logger.error("bucket=<%s>, key=<%s> | skipping damaged session object", self.bucket, key)
                continue
            if object_key(str(body["meta"]["user_id"]), sid) != key:
                logger.error("bucket=<%s>, key=<%s> | session object is under another user's prefix", self.bucket, key)
                self._mark_damaged(sid, "owner mismatch")
                continue
            self._repair(body)
            self._cache_drop(sid)
            count += 1
        with self.index.tx() as conn:
            rows = conn.execute(
                select(db.sessions.c.id).where(
                    and_(db.sessions.c.storage == self.storage_name, db.sessions.c.created_at < started)
                )
            ).all()
            orphans = [r.id for r in rows if r.id not in seen]
            if orphans:
                conn.execute(update(db.sessions).where(db.sessions.c.id.in_(orphans)).values(damaged="object missing"))
        logger.info(
            "bucket=<%s>, sessions=<%s>, missing_objects=<%s> | reindexed sessions", self.bucket, count, len(orphans)
        )
        return count


__all__ = ["S3SessionStore", "object_key", "validate_session_id"]
