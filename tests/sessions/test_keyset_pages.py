"""Keyset pages of the sessions table (each page starts after the previous page's last row),
on real SQLite files and Postgres schemas: no row is skipped or repeated across pages when
rows tie on the sort key, nor when a new session arrives between two page loads."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from assistant.sessions.queries import SessionFilter, list_sessions
from tests.fixtures.db import insert_sessions

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def _tied_rows(n: int) -> list[dict[str, object]]:
    """Sessions whose activity times and costs come in groups of four equal values."""
    return [
        dict(
            id=f"s-{(i * 37) % 101:03d}",  # ids not in insertion order
            user_id="alice",
            title=f"Session {i % 3}",
            updated_at=T0 - timedelta(hours=i // 4),
            created_at=T0 - timedelta(days=1),
            cost_usd=0.01 * (i // 4),
            turn_count=i % 2,
        )
        for i in range(n)
    ]


def _walk(engine: Engine, query: SessionFilter) -> list[list[str]]:
    """Every page, each one asked with the previous page's cursor (as the sessions page does)."""
    pages: list[list[str]] = []
    cursor = None
    for _ in range(100):
        page = list_sessions(engine, replace(query, after=cursor, offset=len(pages) * query.limit))
        if not page.rows:
            break
        pages.append([r.id for r in page.rows])
        cursor = page.next_cursor
    return pages


@pytest.mark.parametrize(
    ("sort", "descending"),
    [("updated_at", True), ("updated_at", False), ("cost_usd", True), ("title", False), ("turn_count", True)],
)
def test_pages_cover_every_row_once_when_rows_tie_on_the_sort_key(
    query_engine: Engine, sort: str, descending: bool
) -> None:
    insert_sessions(query_engine, _tied_rows(23))
    query = SessionFilter(sort=sort, descending=descending, limit=3)
    everything = [r.id for r in list_sessions(query_engine, replace(query, limit=100)).rows]
    pages = _walk(query_engine, query)
    assert [i for page in pages for i in page] == everything  # same order, nothing skipped or repeated
    assert len(everything) == 23 and all(len(p) == 3 for p in pages[:-1])


def test_a_session_arriving_between_page_loads_neither_repeats_nor_hides_a_row(query_engine: Engine) -> None:
    insert_sessions(query_engine, _tied_rows(12))
    query = SessionFilter(user_id="alice", limit=5)
    first = list_sessions(query_engine, query)
    before = [r.id for r in list_sessions(query_engine, replace(query, limit=100)).rows]
    insert_sessions(query_engine, [dict(id="new", user_id="alice", updated_at=T0 + timedelta(minutes=1))])
    second = list_sessions(query_engine, replace(query, after=first.next_cursor, offset=5))
    third = list_sessions(query_engine, replace(query, after=second.next_cursor, offset=10))
    seen = [r.id for page in (first, second, third) for r in page.rows]
    assert seen == before  # the new session is on page 1 now, not pushed into page 2
    assert second.total_count == 13  # the count follows the set
    by_offset = list_sessions(query_engine, replace(query, offset=5))
    assert by_offset.rows[0].id == first.rows[-1].id  # what offset paging would have shown: a repeat


def test_a_search_pages_by_offset_and_gives_no_cursor(query_engine: Engine) -> None:
    rows = _tied_rows(8)
    for r in rows:
        r["search_text"] = "project aurora"
    insert_sessions(query_engine, rows)
    page = list_sessions(query_engine, SessionFilter(text="aurora", limit=3))
    assert page.next_cursor is None
    second = list_sessions(query_engine, SessionFilter(text="aurora", limit=3, offset=3, after=("x", "y")))
    assert [r.id for r in second.rows] == [
        r.id for r in list_sessions(query_engine, SessionFilter(text="aurora", limit=8)).rows[3:6]
    ]
