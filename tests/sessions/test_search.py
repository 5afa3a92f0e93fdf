"""Transcript search conditions (``sessions/search.py``): what is searched for, and which sessions hold it.

The SQL conditions run on SQLite (FTS5 trigram index, or LIKE within one user's sessions) and
PostgreSQL (pg_trgm), on rows written as the stores write them.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, select

from assistant.db import sessions
from assistant.sessions.search import (
    MAX_SEARCH_WORDS,
    search_term,
    search_words,
    text_condition,
    uses_text_index,
)
from assistant.sessions.sql_store import SqlSessionStore
from tests.fixtures.db import flush_text_index, insert_sessions


@pytest.mark.parametrize(
    ("typed", "searched"),
    [
        (None, ""),
        ("", ""),
        ("  \t\n ", ""),
        ("Acme  \tQBR ", "Acme QBR"),
        ("bud\x00get\x1b[2J", "budget"),  # a terminal escape goes whole
        ("https:\u200b//acme.example", "https://acme.example"),
        ('"Board  prep"', '"Board prep"'),
    ],
)
def test_the_search_text_is_cleaned_of_what_the_index_never_holds(typed: str | None, searched: str) -> None:
    assert search_term(typed) == searched


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("Acme QBR", ["acme", "qbr"]),
        ('"Acme  QBR" budget', ["acme qbr", "budget"]),
        ("\u201cboard prep\u201d notes", ["board prep", "notes"]),  # curly quotes from a phone
        ('o"r', ["or"]),  # an unmatched quote is dropped where it stands
        ('"', ['"']),  # a lone quote is searched for, never no search
        ('""', ['""']),
        ("budget BUDGET budg", ["budget"]),  # repeated, or inside another word: searched once
        ("what's what\u2019s", ["what's"]),  # any apostrophe is the same word
        # punctuation at a word's edges is a sentence's, not the word's ("budget?" found nothing)
        ("budget? (budget) budg*", ["budget"]),
        ("Acme, QBR. [board] 1:1 C++ $40M", ["acme", "qbr", "board", "1:1", "c++", "$40m"]),
        ("'; DROP TABLE sessions;--", ["'", "drop", "table", "sessions"]),  # an apostrophe stays
        ("?", ["?"]),  # nothing but punctuation: searched as typed, never no search
        ("", []),
    ],
)
def test_the_words_a_session_must_hold(typed: str, words: list[str]) -> None:
    assert search_words(typed) == words


def test_only_the_first_words_typed_are_searched() -> None:
    typed = " ".join(f"word{i:02d}" for i in range(MAX_SEARCH_WORDS + 5))
    assert search_words(typed) == [f"word{i:02d}" for i in range(MAX_SEARCH_WORDS)]


def test_the_text_index_narrows_only_words_of_a_trigram() -> None:
    assert uses_text_index(["qbr"]) and uses_text_index(["ab", "what's"])  # "what" around the apostrophe
    assert not uses_text_index(["ab", "x"]) and not uses_text_index(["it's"]) and not uses_text_index([])


SESSIONS = [
    {"id": "s-exchange", "user_id": "alice", "title": "Board prep", "search_text": "the acme qbr budget is $40k"},
    {"id": "s-title", "user_id": "alice", "title": "Acme QBR", "search_text": "nothing about money"},
    {"id": "s-percent", "user_id": "alice", "title": "Raise", "search_text": "a 50% raise for plan_a"},
    {"id": "s-near-miss", "user_id": "alice", "title": "Numbers", "search_text": "500 raise for planxa"},
    {"id": "s-apostrophe", "user_id": "bob", "title": "Agenda", "search_text": "what\u2019s on the agenda"},
]


@pytest.fixture(params=["waiting", "indexed"])
def indexed(query_engine: Engine, request: pytest.FixtureRequest) -> Engine:
    """The sessions' search rows as just written (on SQLite: waiting for the FTS5 index), or indexed."""
    insert_sessions(query_engine, SESSIONS)
    if request.param == "indexed":
        assert flush_text_index(query_engine) == (2 * len(SESSIONS) if query_engine.dialect.name == "sqlite" else 0)
    return query_engine


def _found(engine: Engine, text: str, *, user: str | None = None) -> list[str]:
    query = select(sessions.c.id).where(text_condition(engine, text, scoped_to_user=user is not None))
    if user is not None:
        query = query.where(sessions.c.user_id == user)
    with engine.connect() as conn:
        return sorted(conn.execute(query).scalars())


@pytest.mark.parametrize("user", [None, "alice"])
def test_every_word_must_be_in_the_title_or_in_one_exchange(indexed: Engine, user: str | None) -> None:
    assert _found(indexed, "ACME budget", user=user) == ["s-exchange"]  # any case, any order
    assert _found(indexed, "acme qbr", user=user) == ["s-exchange", "s-title"]
    assert _found(indexed, "qbr money", user=user) == []  # one word in the title, one in the exchange


@pytest.mark.parametrize("user", [None, "alice"])
def test_like_wildcards_typed_are_literal(indexed: Engine, user: str | None) -> None:
    assert _found(indexed, "50%", user=user) == ["s-percent"]
    assert _found(indexed, "plan_a", user=user) == ["s-percent"]
    assert _found(indexed, "%", user=user) == ["s-percent"]
    assert _found(indexed, "\\", user=user) == []


@pytest.mark.parametrize("typed", ["what's", "what\u2019s", "WHAT\u2018S on"])
def test_any_apostrophe_finds_any_other(indexed: Engine, typed: str) -> None:
    assert _found(indexed, typed) == ["s-apostrophe"]
    assert _found(indexed, typed, user="bob") == ["s-apostrophe"]


def test_nothing_left_to_search_is_no_filter(indexed: Engine) -> None:
    assert _found(indexed, " \x00 ") == sorted(row["id"] for row in SESSIONS)


def test_all_users_search_finds_rows_waiting_for_the_index_and_indexed_ones_through_renames_and_deletes(
    sqlite_engine: Engine,
) -> None:
    """SQLite's FTS5 index takes new search rows 64 at a time; what waits is searched with LIKE."""
    store = SqlSessionStore(sqlite_engine)
    titles: dict[str, str] = {}

    def add(count: int) -> None:
        for i in range(count):
            word = ("falcon", "heron", "osprey")[len(titles) % 3]
            meta = store.create_session(f"user-{i % 4}", model="offline", title=f"{word} review {len(titles)}")
            titles[meta.id] = meta.title

    def check() -> None:
        for word in ("falcon", "heron", "osprey", "review", "owl"):
            expected = sorted(sid for sid, title in titles.items() if word in title.lower())
            assert _found(sqlite_engine, word) == expected, word
        with sqlite_engine.begin() as conn:  # FTS5's own check of its index, and every segment merged into one
            conn.execute(sa.text("INSERT INTO session_text_fts(session_text_fts) VALUES ('integrity-check')"))
            conn.execute(sa.text("INSERT INTO session_text_fts(session_text_fts) VALUES ('optimize')"))
        for word in ("falcon", "owl"):
            expected = sorted(sid for sid, title in titles.items() if word in title.lower())
            assert _found(sqlite_engine, word) == expected, word

    add(100)  # one batch of 64 indexed (title rows), the rest waiting
    with sqlite_engine.connect() as conn:
        waiting = conn.execute(sa.text("SELECT count(*) FROM session_text_fts_pending")).scalar_one()
    assert 0 < waiting < 64
    check()
    ids = list(titles)
    for sid in ids[::7]:  # renamed: indexed rows and waiting ones
        titles[sid] = store.rename(sid, store.get_meta(sid, None).user_id, f"owl renamed {sid[:4]}").title
    for sid in ids[3::11]:  # deleted: indexed rows and waiting ones
        store.delete(sid, store.get_meta(sid, None).user_id)
        del titles[sid]
    check()
    add(90)  # more batches over the renamed and deleted rows' gaps
    check()
    flush_text_index(sqlite_engine)
    check()
