"""Keeping the SQL index in step with S3 session documents: rows, search rows and ledger rows from a document.

Used after every write the index could not follow (a failed index transaction after a PUT,
an index row behind its object) and by ``reindex``; each function is idempotent.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from assistant import db
from assistant.sessions.base import UsageRecord, _parse_dt
from assistant.sessions.rows import clean_title, turn_search_text, usage_row

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
        "storage": storage_name,
        "agent_snapshot": None,
    }


def text_rows(body: dict[str, Any]) -> dict[int, str]:
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


def upsert_from_doc(conn: Connection, body: dict[str, Any], storage_name: str) -> None:
    """Make the index row and the ledger match one document (idempotent)."""
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
