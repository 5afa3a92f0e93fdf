"""Keeping the SQL index in step with S3 session documents: rows, search rows and ledger rows.

:func:`index_turn` follows one committed turn incrementally. :func:`upsert_from_doc` rebuilds a
row from its document after a write the index could not follow (a failed index transaction
after a PUT, an index row behind its object), and :func:`reindex` does it for the whole bucket;
both are idempotent. The S3 object I/O itself is :mod:`assistant.sessions.s3_objects`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import Connection, and_, delete, func, insert, select, update

from assistant import db
from assistant.sessions.base import (
    UNTITLED,
    SessionConflictError,
    SessionDamagedError,
    StorageUnavailableError,
    TurnCommit,
    UsageRecord,
    _parse_dt,
)
from assistant.sessions.index import SqlIndex
from assistant.sessions.rows import (
    _DELETE_PENDING,
    _INSERT_TEXT,
    _INSERT_USAGE,
    _UPDATE_TURN,
    CONFLICT_MESSAGE,
    clean_title,
    set_title_text,
    turn_search_text,
    usage_row,
    usage_totals,
)
from assistant.sessions.s3_objects import SessionObjects, object_key

logger = logging.getLogger(__name__)


def row_values(conn: Connection, body: dict[str, Any], storage_name: str) -> dict[str, Any]:
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
        "title": clean_title(str(meta["title"])) or UNTITLED,
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
        "storage": storage_name,
        "agent_snapshot": None,
    }


def text_rows(body: dict[str, Any]) -> dict[int, str]:
    """The ``session_text`` rows of a document: ``{turn_idx: text}`` (title row included)."""
    meta = body["meta"]
    messages = body["messages"]
    rows = {db.TITLE_TURN_IDX: (clean_title(str(meta["title"])) or UNTITLED).lower()}
    for t in body["turns"]:
        start, end = t.get("message_range") or (t.get("first_message_idx", 0), t.get("end_message_idx", 0))
        text = turn_search_text(messages[int(start) : int(end)])
        if text:
            rows[int(t["idx"])] = text
    return rows


def sync_text(conn: Connection, session_id: str, body: dict[str, Any]) -> None:
    """Make the session's ``session_text`` rows match the document (untouched when they already do)."""
    wanted = text_rows(body)
    c = db.session_text.c
    have = {int(r[0]): str(r[1]) for r in conn.execute(select(c.turn_idx, c.text).where(c.session_id == session_id))}
    if have == wanted:
        return
    conn.execute(delete(db.session_text).where(c.session_id == session_id))
    conn.execute(
        insert(db.session_text),
        [{"session_id": session_id, "turn_idx": idx, "text": text} for idx, text in sorted(wanted.items())],
    )


def insert_missing_usage(conn: Connection, body: dict[str, Any]) -> int:
    """Add the ledger rows of the document's turns that the ledger lacks (by ``call_id``); returns how many."""
    meta = body["meta"]
    records = [
        UsageRecord.from_dict(u, meta["id"], meta["user_id"]) for t in body["turns"] for u in t.get("usage") or []
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


def _first_question_title(conn: Connection, body: dict[str, Any]) -> str | None:
    """The index's title of a session whose first question is pending: it named the session
    (``begin_turn``), and the document, which only a stored turn titles, still says UNTITLED."""
    meta = body["meta"]
    if body["turns"] or (clean_title(str(meta["title"])) or UNTITLED) != UNTITLED:
        return None
    p = db.pending_turns.c
    if conn.execute(select(p.session_id).where(p.session_id == meta["id"], p.turn_idx == 0)).first() is None:
        return None
    title = conn.execute(select(db.sessions.c.title).where(db.sessions.c.id == meta["id"])).scalar_one_or_none()
    return str(title) if title else None


def upsert_from_doc(conn: Connection, body: dict[str, Any], storage_name: str) -> None:
    """Make the index row and the ledger match one document (idempotent)."""
    title = _first_question_title(conn, body)
    if title is not None:
        body = {**body, "meta": {**body["meta"], "title": title}}
    added = insert_missing_usage(conn, body)
    values = row_values(conn, body, storage_name)
    sid = values["id"]
    exists = conn.execute(select(db.sessions.c.id).where(db.sessions.c.id == sid)).first() is not None
    if exists:
        conn.execute(update(db.sessions).where(db.sessions.c.id == sid).values(**values))
    else:
        conn.execute(insert(db.sessions).values(**values))
    sync_text(conn, sid, body)
    logger.info(
        "session_id=<%s>, version=<%s>, ledger_rows_added=<%s> | index row rebuilt from session object",
        sid,
        values["version"],
        added,
    )


def upsert_current(
    index: SqlIndex, body: dict[str, Any], storage_name: str, refetch: Callable[[], dict[str, Any]]
) -> tuple[dict[str, Any], bool]:
    """:func:`upsert_from_doc` under the row's lock, never moving the row back to an older document.

    A turn may be stored between the read of ``body`` and this write (reindex while users chat,
    a repair racing another replica's turn): its PUT came first, so the row is ahead of ``body``.
    The object is then read again (``refetch``, one GET) and that is what the row is made to match.

    Returns:
        The document the row now matches, and whether the row was new.
    """
    sid = str(body["meta"]["id"])
    with index.tx() as conn:
        current = conn.execute(
            select(db.sessions.c.version).where(db.sessions.c.id == sid).with_for_update()
        ).scalar_one_or_none()
        if current is not None and int(current) > int(body["meta"]["version"]):
            logger.info(
                "session_id=<%s>, index_version=<%s>, object_version=<%s> | session stored meanwhile, reading it again",
                sid,
                current,
                body["meta"]["version"],
            )
            body = refetch()
        upsert_from_doc(conn, body, storage_name)
    return body, current is None


def mark_damaged(index: SqlIndex, session_id: str, reason: str) -> None:
    """Mark the session's index row damaged (its object is missing, unreadable or names another owner)."""
    try:
        with index.tx() as conn:
            conn.execute(update(db.sessions).where(db.sessions.c.id == session_id).values(damaged=reason))
    except StorageUnavailableError:
        logger.error("session_id=<%s> | could not mark session damaged in the index", session_id)


def index_turn(
    conn: Connection,
    index: SqlIndex,
    row: Any,
    commit: TurnCommit,
    new_messages: list[dict[str, Any]],
    new_version: int,
    now: datetime,
    objects: SessionObjects,
    *,
    storage_name: str,
) -> Any:
    """Incremental index update for one committed turn (same aggregates as the SQL store).

    Appends the ledger rows and one ``session_text`` row, updates the locked index row
    with absolute values, and returns the new row (no re-read). When someone moved the index
    meanwhile, the row is rebuilt from the document just written (held in ``objects``' cache).
    """
    locked = index.select_row(conn, row.id, row.user_id, lock=True)
    if locked.version != row.version:
        cached = objects.cache_get(row.id)
        if cached is not None and cached.version == new_version:
            upsert_from_doc(conn, cached.body, storage_name)
            return index.select_row(conn, row.id, row.user_id)
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


def reindex(
    index: SqlIndex,
    objects: SessionObjects,
    *,
    storage_name: str,
    get: Callable[[str, str], dict[str, Any]],
    refetch: Callable[[str, str], dict[str, Any]],
) -> int:
    """Rebuild the index rows (and the ledger rows of committed turns) from the bucket.

    Every readable object upserts its session row (read again when a turn was stored
    meanwhile: :func:`upsert_current`, ``refetch``); ledger rows are added by ``call_id``
    only where missing, so running it twice changes nothing. Unreadable objects are
    logged and marked damaged (``get`` does that); index rows of S3 sessions whose object is
    gone are marked damaged too. Sessions chat on meanwhile: a row it had to create, or one not
    listed, is checked with one HeadObject (a session deleted, or created, since it was read).

    Returns:
        The number of sessions indexed.
    """
    started = index.clock()
    seen: set[str] = set()
    count = 0
    try:
        keys = list(objects.iter_keys())
    except (ClientError, BotoCoreError) as e:
        logger.error("bucket=<%s> | listing session objects failed", objects.bucket)
        raise StorageUnavailableError("Session storage is unavailable; the index was not rebuilt.") from e
    for key in keys:
        sid = key.rsplit("/", 1)[-1][: -len(".json")]
        seen.add(sid)
        try:
            body = get(key, sid)
        except SessionDamagedError:
            logger.error("bucket=<%s>, key=<%s> | skipping damaged session object", objects.bucket, key)
            continue
        if object_key(str(body["meta"]["user_id"]), sid) != key:
            logger.error("bucket=<%s>, key=<%s> | session object is under another user's prefix", objects.bucket, key)
            mark_damaged(index, sid, "owner mismatch")
            continue
        try:
            _, new_row = upsert_current(index, body, storage_name, functools.partial(refetch, key, sid))
        except SessionDamagedError as e:  # damaged by the turn stored meanwhile
            logger.error("bucket=<%s>, key=<%s> | skipping damaged session object", objects.bucket, key)
            mark_damaged(index, sid, getattr(e, "reason", "object unreadable"))
            continue
        if new_row and objects.is_missing(key):  # its user deleted it since it was read: not brought back
            with index.tx() as conn:
                index.delete_rows(conn, sid)
            logger.info(
                "bucket=<%s>, session_id=<%s> | session deleted during reindex, left deleted", objects.bucket, sid
            )
            continue
        objects.cache_drop(sid)
        count += 1
    with index.engine.connect() as conn:
        rows = conn.execute(
            select(db.sessions.c.id, db.sessions.c.user_id).where(
                and_(db.sessions.c.storage == storage_name, db.sessions.c.created_at < started)
            )
        ).all()
    # not listed: gone, or stored after the listing (a session created as reindex began): asked again
    orphans = [r.id for r in rows if r.id not in seen and objects.is_missing(object_key(r.user_id, r.id))]
    if orphans:
        with index.tx() as conn:
            conn.execute(update(db.sessions).where(db.sessions.c.id.in_(orphans)).values(damaged="object missing"))
        for sid in orphans:
            logger.error(
                "bucket=<%s>, session_id=<%s> | session object is missing, marked damaged", objects.bucket, sid
            )
    logger.info(
        "bucket=<%s>, sessions=<%s>, missing_objects=<%s> | reindexed sessions", objects.bucket, count, len(orphans)
    )
    return count
