"""Transcript search conditions of the sessions table (``session_text``, migration 0003).

A search looks in the lower-cased title and each turn's text, one row each: a pg_trgm GIN
index on PostgreSQL, an FTS5 trigram index ``session_text_fts`` on SQLite (``LIKE`` for
terms shorter than three characters and within one user's sessions).

A search is a set of words (:func:`search_words`): a session matches when its title, or one
of its exchanges (a question and its answer), holds every word, in any order; each word is a
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


def _fts_whole(word: str) -> bool:
    """Whether the FTS5 trigram index checks ``word`` whole (three characters or more, no apostrophe)."""
    return len(word) >= 3 and not any(ch in APOSTROPHES for ch in word)


def _fts_query(words: list[str]) -> str | None:
    """The FTS5 query of ``words``, all in one row: each word's parts between apostrophes of three
    characters or more as phrases (any apostrophe, and shorter words, are checked by LIKE), or
    None when no part is long enough."""
    phrases = [c for word in words for c in re.split(f"[{APOSTROPHES}]", word) if len(c) >= 3]
    if not phrases:
        return None
    return " AND ".join('"' + c.replace('"', '""') + '"' for c in phrases)


def uses_text_index(words: list[str]) -> bool:
    """Whether the text index narrows a search for ``words``: one of them has three characters or
    more between apostrophes (a trigram). Otherwise a search through it reads every text row."""
    return _fts_query(words) is not None


def search_term(text: str | None) -> str:
    """The search text as typed, cleaned: without control characters, each run of spaces one space.

    The search index holds no control characters (the stores strip them,
    :func:`assistant.inputs.strip_control_chars`), so a NUL or an escape typed or pasted in a
    search box is dropped here, before any SQL is built: Postgres refuses NUL in a parameter
    and SQLite's FTS5 refuses it in a phrase. Both search boxes (the chat sidebar through the
    store, the sessions page and the CLI through :func:`list_sessions`) come through here.

    Spaces are collapsed: "Acme  QBR" typed with two spaces is the two words of "Acme QBR".
    Double quotes are kept: :func:`search_words` reads them as phrases. Zero-width spaces are
    dropped, as the index drops them (:func:`assistant.markdown_text.visible_text`): the page
    shows an address with one after its "://" (no link), and a copied address brings it along.

    Args:
        text: What the user typed (None for no search).

    Returns:
        The cleaned text; empty when nothing is left (no text filter).
    """
    return " ".join(strip_control_chars(text).replace("\u200b", "").split()) if text else ""


_EDGE_PUNCTUATION = "?!.,;:()[]{}<>*-\u2013\u2014\u2026"
"""A sentence's punctuation around a word typed ("budget?", "(budget)", "budg*"), not the word's.
Apostrophes stay: ``'budget'`` finds the title quoting it (any apostrophe matching any)."""


def search_words(text: str | None) -> list[str]:
    """The words and phrases a session must all contain, lower-cased, in the order typed.

    Text between two double quotes (straight or curly) is one phrase; an unmatched quote is
    dropped where it stands (``o"r`` is the word "or", not the letters "o" and "r", which
    every session holds). Punctuation at the edges of a word outside quotes is dropped
    ("budget?", "(budget)", "budg*" search "budget" and "budg"; "1:1" and "C++" stay). Text
    with no word left (``"``, ``""``, ``?``) is one word as typed: a lone quote is searched
    for, never read as no search (which listed every session).
    A repeated word, or a word inside another one ("budg" with "budget": a session
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
            unquoted = piece.translate({ord(q): None for q in _DOUBLE_QUOTES}).split()
            parts.extend(word for w in unquoted if (word := w.strip(_EDGE_PUNCTUATION)))
    if cleaned and not any(parts):
        parts = [cleaned]
    straight = {ord(a): "'" for a in APOSTROPHES}  # any apostrophe matches any
    words: list[str] = []
    for part in parts:
        if part and part.translate(straight) not in {w.translate(straight) for w in words}:
            words.append(part)
        if len(words) == MAX_SEARCH_WORDS:
            break
    folded = [w.translate(straight) for w in words]
    return [w for w, f in zip(words, folded, strict=True) if not any(f != o and f in o for o in folded)]


# the search rows waiting for the FTS5 index (see migration 0013)
_FTS_PENDING = sa.text("SELECT id FROM session_text_fts_pending").columns(sa.column("id", sa.Integer))


def text_condition(engine: Engine, text: str, *, scoped_to_user: bool = False) -> Any:
    """SQL condition on ``sessions``: one of its rows - the title or one exchange - holds every word of ``text``.

    Searches ``session_text`` (the lower-cased title, and each turn's text: the question and
    its answer; LIKE wildcards in ``text`` are literal) for a row holding each word of
    :func:`search_words` (case-insensitive, any order). Every word in the same row keeps a
    search one text-index lookup: the index ANDs the words inside a row (pg_trgm's GIN index
    on PostgreSQL, ``"a" AND "b"`` in the FTS5 trigram index on SQLite). Words spread over
    several turns were tried (2026-12-05): the words' sessions must then be intersected, and
    two common words that rarely meet took 8.5 s at 1M sessions on PostgreSQL.

    On SQLite the FTS5 trigram index ``session_text_fts`` serves all-users searches whose
    words have three characters or more (shorter words, and the parts around an apostrophe,
    are checked with ``LIKE`` on the rows it finds; so are the newest rows, which wait to be
    indexed in a batch, see migration 0013); a search within one user's sessions
    checks that user's rows with ``LIKE`` through the (session_id, turn_idx) index instead
    (faster for common terms than joining a large FTS match set back to the sessions). On
    PostgreSQL ``LIKE '%word%'`` uses the pg_trgm GIN index ``ix_session_text_trgm``.

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
    st = session_text.c
    every = [text_matches(st.text, word) for word in words]
    if engine.dialect.name == "sqlite":
        if scoped_to_user:
            return sa.exists().where(st.session_id == sessions.c.id, *every)
        fts = _fts_query(words)
        if fts is not None and _has_sqlite_fts(engine):
            rowids = (
                sa.text("SELECT rowid FROM session_text_fts WHERE session_text_fts MATCH :fts_phrase")
                .bindparams(fts_phrase=fts)
                .columns(sa.column("rowid", sa.Integer))
            )
            # the words the index cannot check whole: shorter than a trigram, or with an apostrophe
            partial = [m for word, m in zip(words, every, strict=True) if not _fts_whole(word)]
            indexed = sa.select(st.session_id).where(st.id.in_(rowids), *partial)
            # the rows still waiting to be indexed (at most 64, see migration 0013), checked with LIKE
            waiting = sa.select(st.session_id).where(st.id.in_(_FTS_PENDING), *every)
            return sessions.c.id.in_(sa.union_all(indexed, waiting))
    found = sa.select(st.session_id).where(*every)
    if len(words) > 1 and engine.dialect.name == "postgresql":
        # OFFSET 0 keeps the lookup one bitmap scan of the GIN index: flattened into a semi-join,
        # PostgreSQL misjudged two LIKEs together as common and walked every session newest first
        # looking for 50 (0.55 s at 100k sessions for two words no row holds both of; ~5 s at 1M)
        found = found.offset(0)
    return sessions.c.id.in_(found)


def session_has(session_id: Any, words: list[str]) -> Any:
    """SQL condition: one ``session_text`` row of ``session_id`` (a column of the outer query) holds every word.

    A correlated subquery through ``uq_session_text_session_turn`` that stops at the first
    matching row (a scalar subquery with ``LIMIT 1``: evaluated per session, never turned
    into a join over every row holding the words).
    """
    st = session_text.alias().c  # its own name: ``session_id`` may be a column of session_text itself
    every = [text_matches(st.text, word) for word in by_length(words)]
    found = sa.select(sa.literal(1)).where(st.session_id == session_id, *every).limit(1)
    return found.scalar_subquery().is_not(None)


def by_length(words: list[str]) -> list[str]:
    """The longest words first: the rarest, as a rule, so an AND of the words stops early."""
    return sorted(words, key=len, reverse=True)
