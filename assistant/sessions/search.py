"""Transcript search conditions of the sessions table (``session_text``, migration 0003).

A search looks in the lower-cased title and each turn's text, one row each: a pg_trgm GIN
index on PostgreSQL, an FTS5 trigram index ``session_text_fts`` on SQLite (``LIKE`` for
terms shorter than three characters and within one user's sessions).
"""

from __future__ import annotations

import re
import threading
import weakref
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import session_text, sessions
from assistant.inputs import strip_control_chars

_fts_cache: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()
_fts_lock = threading.Lock()


def _has_sqlite_fts(engine: Engine) -> bool:
    with _fts_lock:
        cached = _fts_cache.get(engine)
    if cached is not None:
        return cached
    with engine.connect() as conn:
        found = bool(
            conn.execute(sa.text("SELECT count(*) FROM sqlite_master WHERE name = 'session_text_fts'")).scalar_one()
        )
    if found:  # only remember a positive answer: a later migration may add it
        with _fts_lock:
            _fts_cache[engine] = True
    return found


# Apostrophes and single quotes as keyboards type them: a phone (or a Mac's smart punctuation)
# writes "what’s" where a laptop writes "what's", and pasted titles bring either.
APOSTROPHES = "'\u2018\u2019\u02bc"
_DOUBLE_QUOTES = '"\u201c\u201d\u201e'


def like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_matches(column: Any, term: str) -> Any:
    """``column`` contains ``term`` (lower-cased; LIKE wildcards literal), any apostrophe matching any.

    A term with an apostrophe is matched twice: with each apostrophe a one-character wildcard
    (what the text indexes serve), then exactly with every apostrophe made straight.
    """
    if not any(ch in APOSTROPHES for ch in term):
        return column.like(like_pattern(term), escape="\\")
    folded = column
    for curly in APOSTROPHES[1:]:
        folded = sa.func.replace(folded, curly, "'")
    any_apostrophe = like_pattern(term).translate({ord(a): "_" for a in APOSTROPHES})
    straight = like_pattern(term.translate({ord(a): "'" for a in APOSTROPHES}))
    return sa.and_(column.like(any_apostrophe, escape="\\"), folded.like(straight, escape="\\"))


def _fts_query(term: str) -> str | None:
    """The FTS5 query of ``term``: its parts between apostrophes of three characters or more as
    phrases (any apostrophe is then checked by LIKE), or None when no part is long enough."""
    phrases = [c for c in re.split(f"[{APOSTROPHES}]", term) if len(c) >= 3]
    if not phrases:
        return None
    return " AND ".join('"' + c.replace('"', '""') + '"' for c in phrases)


def search_term(text: str | None) -> str:
    """The search text as the query uses it: without control characters, each run of spaces one space.

    The search index holds no control characters (the stores strip them,
    :func:`assistant.inputs.strip_control_chars`), so a NUL or an escape typed or pasted in a
    search box is dropped here, before any SQL is built: Postgres refuses NUL in a parameter
    and SQLite's FTS5 refuses it in a phrase. Both search boxes (the chat sidebar through the
    store, the sessions page and the CLI through :func:`list_sessions`) come through here.

    Spaces are collapsed: the text searched has the words of a message as it was written, and
    "Acme  QBR" typed with two spaces found nothing where "Acme QBR" found every QBR session.
    Double quotes around the whole text (a phrase, as on a web search) are dropped: the search
    is a phrase search already, and the quotes themselves are in no message.

    Args:
        text: What the user typed (None for no search).

    Returns:
        The cleaned text; empty when nothing is left (no text filter).
    """
    cleaned = " ".join(strip_control_chars(text).split()) if text else ""
    if len(cleaned) >= 2 and cleaned[0] in _DOUBLE_QUOTES and cleaned[-1] in _DOUBLE_QUOTES:
        cleaned = cleaned[1:-1].strip()
    return cleaned


def text_condition(engine: Engine, text: str, *, scoped_to_user: bool = False) -> Any:
    """SQL condition on ``sessions``: the title or a turn's text contains ``text`` (case-insensitive).

    Searches ``session_text`` (lower-cased title and per-turn text; LIKE wildcards in
    ``text`` are literal). On SQLite the FTS5 trigram index ``session_text_fts`` serves
    all-users searches of three characters or more; a search within one user's sessions
    checks that user's rows with ``LIKE`` through the (session_id, turn_idx) index instead
    (faster for common terms than joining a large FTS match set back to the sessions). On
    PostgreSQL ``LIKE '%term%'`` uses the pg_trgm GIN index ``ix_session_text_trgm``.

    Args:
        engine: The engine the query will run on (chooses FTS5 on SQLite when present).
        text: The search term, cleaned with :func:`search_term` here.
        scoped_to_user: Whether the query is already limited to one user's sessions.

    Returns:
        A boolean SQL expression over ``sessions`` (always true when nothing is left to search).
    """
    term = search_term(text).lower()
    if not term:
        return sa.true()
    st = session_text.c
    if engine.dialect.name == "sqlite":
        fts = _fts_query(term) if not scoped_to_user else None
        if fts is not None and _has_sqlite_fts(engine):
            rowids = (
                sa.text("SELECT rowid FROM session_text_fts WHERE session_text_fts MATCH :fts_phrase")
                .bindparams(fts_phrase=fts)
                .columns(sa.column("rowid", sa.Integer))
            )
            found: Any = st.id.in_(rowids)
            if any(ch in APOSTROPHES for ch in term):  # the phrases around the apostrophes, in order
                found = sa.and_(found, text_matches(st.text, term))
            return sessions.c.id.in_(sa.select(st.session_id).where(found))
        if scoped_to_user:
            return sa.exists().where(st.session_id == sessions.c.id, text_matches(st.text, term))
    return sessions.c.id.in_(sa.select(st.session_id).where(text_matches(st.text, term)))
