"""Continuing a session in a new one: its title, and the continuation an earlier click already made
(the sessions tables are read here, in the sessions package, not by the chat service).

Continue clicked twice (a double click, the chat and the Sessions page, two tabs) made two empty
"Continued: …" sessions, side by side in the list. A continuation that holds nothing yet - no
answer, no question, still active - is opened again instead; once it has a question, Continue
makes a new one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select

from assistant import db
from assistant.sessions.base import SessionError, SessionMeta, SessionStore

CONTINUED = "Continued: "


def continuation_title(title: str) -> str:
    """The title of a session continuing one titled ``title`` ("Continued: " once, not twice)."""
    return title if title.startswith(CONTINUED) else f"{CONTINUED}{title}"


def unused_continuation(
    store: SessionStore, user_id: str, session_id: str, title: str, now: datetime
) -> SessionMeta | None:
    """The user's newest active session that continues ``session_id`` under ``title`` and holds
    nothing yet (no turn, no question kept), or None.

    A model comparison also continues the session it compares, under another title: it is never
    taken for a continuation.
    """
    s, p = db.sessions.c, db.pending_turns.c
    found = (
        select(s.id)
        .where(
            s.user_id == user_id,
            s.continued_from == session_id,
            s.title == title,
            s.turn_count == 0,
            s.state == "active",
            s.updated_at >= now - timedelta(hours=store.expiry_hours),
            ~exists().where(p.session_id == s.id),
        )
        .order_by(s.created_at.desc())
        .limit(1)
    )
    with store.engine.connect() as conn:
        sid = conn.execute(found).scalar_one_or_none()
    if sid is None:
        return None
    try:
        return store.get_meta(sid, user_id)
    except SessionError:  # deleted or expired in between: make a new one
        return None
