"""Transcript search conditions of the sessions table (``session_text``, migration 0003).

A search looks in the lower-cased title and each turn's text, one row each: a pg_trgm GIN
index on PostgreSQL, an FTS5 trigram index ``session_text_fts`` on SQLite (``LIKE`` for
terms shorter than three characters and within one user's sessions).

A search is a set of words (:func:`search_words`): a session matches when every word is in
its title or one of its turns, not necessarily the same one, in any order; each word is a
case-insensitive substring, as the whole text was before. Text in double quotes is one
phrase ("acme qbr" finds those two words side by side). At most :data:`MAX_SEARCH_WORDS`
words are searched: the first ones typed.
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
_PHRASES = re.compile(f"[{_DOUBLE_QUOTES}]([^{_DOUBLE_QUOTES}]*)[{_DOUBLE_QUOTES}]")

MAX_SEARCH_WORDS = 8
"""Words (or quoted phrases) a search looks for: the first ones typed, the rest are not searched."""


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
    """The search text as typed, cleaned: without control characters, each run of spaces one space.

    The search index holds no control characters (the stores strip them,
    :func:`assistant.inputs.strip_control_chars`), so a NUL or an escape typed or pasted in a
    search box is dropped here, before any SQL is built: Postgres refuses NUL in a parameter
    and SQLite's FTS5 refuses it in a phrase. Both search boxes (the chat sidebar through the
    store, the sessions page and the CLI through :func:`list_sessions`) come through here.

    Spaces are collapsed: "Acme  QBR" typed with two spaces is the two words of "Acme QBR".
    Double quotes are kept: :func:`search_words` reads them as phrases.

    Args:
        text: What the user typed (None for no search).

    Returns:
        The cleaned text; empty when nothing is left (no text filter).
    """
    return " ".join(strip_control_chars(text).split()) if text else ""


def search_words(text: str | None) -> list[str]:
    """The words and phrases a session must all contain, lower-cased, in the order typed.

    Text between two double quotes (straight or curly) is one phrase; an unmatched quote is
    dropped. A repeated word, or a word inside another one ("budg" with "budget": a session
    with the longer one has the shorter one too), is searched once. Only the first
    :data:`MAX_SEARCH_WORDS` are kept.

    Args:
        text: What the user typed (None for no search).

    Returns:
        The words; empty when nothing is left to search.
    """
    cleaned = search_term(text).lower()
    parts: list[str] = []
    for i, piece in enumerate(_PHRASES.split(cleaned)):
        if i % 2:  # inside a pair of quotes
            parts.append(" ".join(piece.split()))
        else:
            parts.extend(piece.translate({ord(q): " " for q in _DOUBLE_QUOTES}).split())
    straight = {ord(a): "'" for a in APOSTROPHES}  # any apostrophe matches any
    words: list[str] = []
    for part in parts:
        if part and part.translate(straight) not in {w.translate(straight) for w in words}:
            words.append(part)
        if len(words) == MAX_SEARCH_WORDS:
            break
    folded = [w.translate(straight) for w in words]
    return [w for w, f in zip(words, folded, strict=True) if not any(f != o and f in o for o in folded)]


def text_condition(engine: Engine, text: str, *, scoped_to_user: bool = False) -> Any:
    """SQL condition on ``sessions``: every word of ``text`` is in the title or a turn's text.

    Searches ``session_text`` (lower-cased title and per-turn text; LIKE wildcards in
    ``text`` are literal) for each word of :func:`search_words` (case-insensitive; the words
    may be in different rows). On PostgreSQL the sessions of each word, from the text index,
    are intersected (``INTERSECT``, hashed: as ``id IN (…) AND id IN (…)`` its planner walked
    every session against a nested loop when nothing matched, 0.8 s at 100k sessions). On
    SQLite the longest word (the rarest, as a rule) is looked up in the FTS index and each
    row found is checked for the other words through its session's rows
    (:func:`session_has`): two common words rarely together ("maria aurora") cost one
    word's lookup, ~130 ms at 100k sessions where intersecting took ~470 ms.

    On SQLite the FTS5 trigram index ``session_text_fts`` serves all-users lookups of three
    characters or more; a search within one user's sessions checks that user's rows with
    ``LIKE`` through the (session_id, turn_idx) index instead (faster for common terms than
    joining a large FTS match set back to the sessions), one word after the other
    (:func:`session_has`). On PostgreSQL ``LIKE '%word%'`` uses the pg_trgm GIN index
    ``ix_session_text_trgm``.

    Args:
        engine: The engine the query will run on (chooses FTS5 on SQLite when present).
        text: The search text, read with :func:`search_words` here.
        scoped_to_user: Whether the query is already limited to one user's sessions.

    Returns:
        A boolean SQL expression over ``sessions`` (always true when nothing is left to search).
    """
    words = by_length(search_words(text))
    if not words:
        return sa.true()
    if scoped_to_user and engine.dialect.name == "sqlite":
        return sa.and_(*(session_has(sessions.c.id, word) for word in words))
    if engine.dialect.name == "sqlite":
        first = _word_sessions(engine, words[0])
        return sessions.c.id.in_(first.where(*(session_has(first.selected_columns[0], w) for w in words[1:])))
    found = [_word_sessions(engine, word) for word in words]
    return sessions.c.id.in_(found[0] if len(found) == 1 else sa.intersect(*found))


def session_has(session_id: Any, word: str) -> Any:
    """SQL condition: a ``session_text`` row of ``session_id`` (a column of the outer query) contains ``word``.

    A correlated subquery through ``uq_session_text_session_turn`` that stops at the first
    matching row (a scalar subquery with ``LIMIT 1``: evaluated per session, never turned
    into a join over every row holding the word).
    """
    st = session_text.alias().c  # its own name: ``session_id`` may be a column of session_text itself
    found = sa.select(sa.literal(1)).where(st.session_id == session_id, text_matches(st.text, word)).limit(1)
    return found.scalar_subquery().is_not(None)


def by_length(words: list[str]) -> list[str]:
    """The longest words first: the rarest, as a rule, so an AND of the words stops early."""
    return sorted(words, key=len, reverse=True)


def _word_sessions(engine: Engine, term: str) -> Any:
    """``SELECT session_id`` of the title and turn rows holding ``term`` (lower-cased), through the text index."""
    st = session_text.c
    if engine.dialect.name == "sqlite":
        fts = _fts_query(term)
        if fts is not None and _has_sqlite_fts(engine):
            rowids = (
                sa.text("SELECT rowid FROM session_text_fts WHERE session_text_fts MATCH :fts_phrase")
                .bindparams(sa.bindparam("fts_phrase", fts, unique=True))
                .columns(sa.column("rowid", sa.Integer))
            )
            found: Any = st.id.in_(rowids)
            if any(ch in APOSTROPHES for ch in term):  # the phrases around the apostrophes, in order
                found = sa.and_(found, text_matches(st.text, term))
            return sa.select(st.session_id).where(found)
    return sa.select(st.session_id).where(text_matches(st.text, term))
