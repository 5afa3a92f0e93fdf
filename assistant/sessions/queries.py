"""The sessions table query: filter, search, sort and page sessions, with totals.

Used by the sessions page and ``python -m assistant sessions``. Everything is computed in
the database with server-side paging:

- the page walks an index matching its sort (``ix_sessions_updated``,
  ``ix_sessions_user_updated``, ``ix_sessions_cost``) and stops at the page;
- the totals of a filter on users, states and models only (the page's default view) come
  from the ``session_totals`` rollup (migration 0009, kept by triggers in the writer's
  transaction): their cost does not grow with history. Other filters (a date range, a
  meeting) sum the per-session aggregates kept on ``sessions`` over the filtered set;
- search looks in ``session_text`` (migration 0003: the lower-cased title and each turn's
  text, one row each) for a row holding every word typed
  (:func:`assistant.sessions.search.search_words`). It first checks the newest candidates
  in sort order, one session at a time, and stops at a window of :data:`SEARCH_WINDOW` of them: a common term fills the
  page there, and its count and totals are the window's plus the older candidates estimated
  at the rate of the window's older half (``approximate``, shown as "about N"). A rarer term,
  or one of recent sessions only (no match in that half), falls back to the index (a pg_trgm GIN index on
  PostgreSQL, an FTS5 trigram index ``session_text_fts`` on SQLite), where the matches are
  few, with an exact count; words all shorter than three characters, which the index cannot
  narrow, are looked for in the first :data:`SHORT_SEARCH_SESSIONS` of the list only;
- pages after the first start after the last row of the previous page (``after``, keyset
  pagination: the sort value and id of that row), so a deep page costs what the first one
  does and a session arriving between two page loads neither repeats nor hides a row;
- the rows' latency and TTFT figures come from the ledger for the page's rows only
  (:mod:`assistant.sessions.page_rows`); the text conditions live in
  :mod:`assistant.sessions.search`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import session_meetings, session_totals, sessions
from assistant.sessions.base import SessionState, to_utc
from assistant.sessions.page_rows import SessionRow, load_rows
from assistant.sessions.search import search_term, search_words, session_has, text_condition, uses_text_index
from assistant.sessions.totals import (
    SessionTotals,
    from_rollup,
    hit_sums,
    rollup_totals,
    totals_columns,
    totals_of,
    totals_over,
)

__all__ = [
    "MAX_LIMIT",
    "SEARCH_WINDOW",
    "SORT_KEYS",
    "PageCursor",
    "SessionFilter",
    "SessionPage",
    "SessionQueryError",
    "SessionRow",
    "SessionTotals",
    "distinct_models",
    "list_sessions",
]

logger = logging.getLogger(__name__)

SortKey = Literal[
    "title", "state", "created_at", "updated_at", "turn_count", "input_tokens", "output_tokens", "cost_usd"
]
DateField = Literal["updated_at", "created_at"]

SORT_KEYS: tuple[str, ...] = (
    "title",
    "state",
    "created_at",
    "updated_at",
    "turn_count",
    "input_tokens",
    "output_tokens",
    "cost_usd",
)
MAX_LIMIT = 500
MAX_SEARCH_CHARS = 200
SEARCH_WINDOW = 2000
"""Candidates a search checks one by one (newest first in sort order) before it uses the text index."""
SHORT_SEARCH_SESSIONS = 5_000
"""Candidates a search checks, at most, when the text index cannot narrow its words (all shorter
than three characters, "q3"): through the index it read every text row of history (15-17 s at 1M
sessions on Postgres for a word no session holds); these take ~0.2 s on the same machine."""

PageCursor = tuple[Any, str]
"""``(sort value, session id)`` of the last row of a page: the next page starts after it."""


class SessionQueryError(ValueError):
    """The query cannot be run as given (unknown sort key, bad paging); the message says why."""


class SessionQueryLike(Protocol):
    """What :func:`list_sessions` reads from a query (``SessionQuery`` or :class:`SessionFilter`)."""

    @property
    def user_id(self) -> str | None: ...
    @property
    def text(self) -> str | None: ...
    @property
    def states(self) -> tuple[SessionState, ...]: ...
    @property
    def models(self) -> tuple[str, ...]: ...
    @property
    def since(self) -> datetime | None: ...
    @property
    def until(self) -> datetime | None: ...
    @property
    def sort(self) -> str: ...
    @property
    def descending(self) -> bool: ...
    @property
    def limit(self) -> int: ...
    @property
    def offset(self) -> int: ...


@dataclass(frozen=True)
class SessionFilter:
    """Filters, sort and paging of the sessions table (a superset of ``SessionQuery``).

    Attributes:
        user_id: Only this user's sessions; None = all users (admins only; callers enforce the role).
        text: Words searched in the title and the transcript text: the title or one exchange of
            a session holds all of them (case-insensitive substrings, any order; "quoted words" as a phrase).
        states: Keep only these states (empty = all).
        models: Keep only sessions whose model is one of these (empty = all).
        since: Inclusive lower bound on ``date_field`` (UTC).
        meeting_id: Keep only the prep sessions of this meeting (started from the Prep queue).
        until: Exclusive upper bound on ``date_field`` (UTC).
        date_field: Which timestamp the date range applies to.
        sort: One of :data:`SORT_KEYS`.
        descending: Sort direction.
        limit: Page size (1..500).
        offset: Rows to skip (a search, or a page reached without the previous page's cursor).
        after: The previous page's :attr:`SessionPage.next_cursor`: this page starts after
            that row (keyset: ``offset`` is then not applied, except to a search).
    """

    user_id: str | None = None
    text: str | None = None
    states: tuple[SessionState, ...] = ()
    models: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    date_field: DateField = "updated_at"
    meeting_id: str | None = None
    sort: str = "updated_at"
    descending: bool = True
    limit: int = 50
    offset: int = 0
    after: PageCursor | None = None


@dataclass(frozen=True)
class SessionPage:
    """One page: its rows, the number of matching sessions, their totals, and where the next page starts.

    Unpacks (and indexes) as ``rows, total_count, totals``. ``next_cursor`` is the sort value and id of the
    page's last row (None for an empty page or a search, which pages by offset): pass it as
    ``after`` for the next page.
    """

    rows: list[SessionRow]
    total_count: int
    totals: SessionTotals
    next_cursor: PageCursor | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.rows, self.total_count, self.totals))

    def __getitem__(self, index: int) -> Any:
        return (self.rows, self.total_count, self.totals)[index]

    def __len__(self) -> int:
        return 3


def _validated(query: SessionQueryLike) -> tuple[str, int, int]:
    if query.sort not in SORT_KEYS:
        raise SessionQueryError(f"Cannot sort sessions by {query.sort!r}; choose one of: {', '.join(SORT_KEYS)}.")
    if not 1 <= int(query.limit) <= MAX_LIMIT:
        raise SessionQueryError(f"Page size must be between 1 and {MAX_LIMIT} (got {query.limit}).")
    if int(query.offset) < 0:
        raise SessionQueryError(f"Page offset cannot be negative (got {query.offset}).")
    if len(search_term(query.text)) > MAX_SEARCH_CHARS:
        raise SessionQueryError(f"Search text is too long: keep it to {MAX_SEARCH_CHARS} characters or fewer.")
    return query.sort, int(query.limit), int(query.offset)


def _conditions(engine: Engine, query: SessionQueryLike, *, with_text: bool = True) -> list[Any]:
    date_field: str = getattr(query, "date_field", "updated_at")
    if date_field not in ("updated_at", "created_at"):
        raise SessionQueryError(f"Date range applies to updated_at or created_at, not {date_field!r}.")
    date_col = sessions.c[date_field]
    conds: list[Any] = []
    if query.user_id is not None:
        conds.append(sessions.c.user_id == query.user_id)
    if query.states:
        conds.append(sessions.c.state.in_(list(query.states)))
    if query.models:
        conds.append(sessions.c.model.in_(list(query.models)))
    meeting_id = getattr(query, "meeting_id", None)
    if meeting_id:
        bound = sa.select(session_meetings.c.session_id).where(session_meetings.c.meeting_id == meeting_id)
        conds.append(sessions.c.id.in_(bound))
    if query.since is not None:
        conds.append(date_col >= to_utc(query.since))
    if query.until is not None:
        conds.append(date_col < to_utc(query.until))
    text = search_term(query.text) if search_words(query.text) else ""
    if text and with_text:
        conds.append(text_condition(engine, text, scoped_to_user=query.user_id is not None))
    return conds


def list_sessions(engine: Engine, query: SessionQueryLike) -> SessionPage:
    """One page of the sessions table, the number of matching sessions and their totals.

    Args:
        engine: The database.
        query: Filters, sort and paging (``SessionQuery`` or :class:`SessionFilter`; a
            ``date_field`` attribute, when present, picks the timestamp of the date range).

    Returns:
        ``SessionPage(rows, total_count, totals)``; ``totals`` covers every matching session
        (extrapolated, ``totals.approximate``, for a search with many matches).

    Raises:
        SessionQueryError: Unknown sort key, bad paging or an over-long search text.
    """
    sort, limit, offset = _validated(query)
    text = search_term(query.text) if search_words(query.text) else ""
    logger.debug(
        "user_id=<%s>, sort=<%s>, offset=<%d>, searching=<%s> | listing sessions",
        query.user_id,
        sort,
        offset,
        bool(text),
    )
    sort_col = sessions.c[sort]
    order = [sort_col.desc(), sessions.c.id.desc()] if query.descending else [sort_col.asc(), sessions.c.id.asc()]
    after: PageCursor | None = getattr(query, "after", None)
    next_cursor: PageCursor | None = None
    with engine.connect() as conn:
        if text and engine.dialect.name == "postgresql":
            # a search's plan is estimated far above jit_above_cost (a subquery per candidate)
            # while it runs in tens of ms: compiling it would cost more than it saves
            conn.exec_driver_sql("SET LOCAL jit = off")
        found = _search_window(engine, conn, query, text, order, limit, offset) if text else None
        if found is not None:
            page_ids, totals = found
        else:
            conds = _conditions(engine, query)
            if text:  # a rare term: the text index finds its few matches
                conds = [*_conditions(engine, query, with_text=False), text_condition(engine, text)]
            # a search's totals come with its page (window sums over every match: the text
            # index is scanned once, not again for the totals)
            over = totals_over(sessions.c) if text else []
            ids_stmt = sa.select(sessions.c.id, sort_col, *over).where(*conds).order_by(*order).limit(limit)
            if after is not None and not text:
                ids_stmt = ids_stmt.where(_after_condition(sort_col, after, query.descending))
            else:
                ids_stmt = ids_stmt.offset(offset)
            keys = conn.execute(ids_stmt).all()
            page_ids = [k[0] for k in keys]
            if keys and not text:
                next_cursor = (keys[-1][1], keys[-1][0])
            if keys and text:
                totals = totals_of(keys[0][2:])
            elif not text and from_rollup(query):
                totals = rollup_totals(conn, query)
            else:  # no filter the rollup serves, or a page past a search's last match
                totals = totals_of(conn.execute(sa.select(*totals_columns(sessions.c)).where(*conds)).one())
        rows = load_rows(conn, page_ids)
    return SessionPage(rows, totals.sessions, totals, next_cursor)


def _after_condition(sort_col: Any, after: PageCursor, descending: bool) -> Any:
    """Rows after ``after`` in the sort order ``(sort_col, id)``.

    Written as a range on the sort column plus the tie-break (not a row-value comparison), so
    both databases walk the sort's index from the cursor: ``col <= v AND (col < v OR id < i)``.
    """
    value, last_id = after
    if descending:
        return sa.and_(sort_col <= value, sa.or_(sort_col < value, sessions.c.id < last_id))
    return sa.and_(sort_col >= value, sa.or_(sort_col > value, sessions.c.id > last_id))


def _search_window(
    engine: Engine,
    conn: sa.Connection,
    query: SessionQueryLike,
    text: str,
    order: list[Any],
    limit: int,
    offset: int,
) -> tuple[list[str], SessionTotals] | None:
    """A search answered from the newest :data:`SEARCH_WINDOW` candidates, or None (a rare term).

    The candidates (every filter but the text) are walked in sort order through the sort's
    index; each one's text rows are checked through ``uq_session_text_session_turn`` (a
    correlated subquery that stops at the first matching row), so the work is bounded by the
    window, not by history. When the window holds every candidate the answer is exact; when
    it holds the page but not every candidate, the count and totals are the window's plus the
    candidates past it estimated at the rate of the window's older half (``approximate``): a
    word of recent sessions fills the window's newest end, and the whole window's rate scaled
    to all of history overstated it (60 matches at 80k sessions read "about 2,120"). When the
    page is not filled inside a full window, or the window's older half holds no match (the
    term is recent, so its matches are few) and the text index can narrow it (a word of three
    characters or more), None: the caller asks the index. Words too short for it (the index
    would read every text row) are looked for in the first :data:`SHORT_SEARCH_SESSIONS`
    candidates instead, and no further (``searched``), or, when their window's older half holds
    no match, estimated at the whole window's rate.
    """
    words = search_words(text)
    window = max(SEARCH_WINDOW, 4 * (offset + limit))
    walked, hits = _walk(engine, conn, query, words, order, window)
    if walked == window and len(hits) < offset + limit:
        if uses_text_index(words):
            return None
        # too short for the index (it would read every text row of history): a bounded walk
        window = max(SHORT_SEARCH_SESSIONS, window)
        walked, hits = _walk(engine, conn, query, words, order, window)
        if walked == window and len(hits) < offset + limit:
            page_ids = [h.id for h in hits[offset : offset + limit]]
            return page_ids, replace(totals_of(hit_sums(hits)), searched=walked)
    exhausted = walked < window
    page_ids = [h.id for h in hits[offset : offset + limit]]
    if exhausted:
        return page_ids, totals_of(hit_sums(hits))
    newer = walked // 2
    older = [h for h in hits if h.walk_rank > newer]
    if not older:
        if uses_text_index(words):
            return None
        # too short for the index: the whole window's rate (the pager still reaches older matches)
        older, newer = list(hits), 0
    if from_rollup(query):
        everyone = rollup_totals(conn, query).sessions
    else:
        everyone = conn.execute(
            sa.select(sa.func.count()).select_from(sessions).where(*_conditions(engine, query, with_text=False))
        ).scalar_one()
    rate = (everyone - walked) / (walked - newer)  # candidates past the window per one of the older half
    estimate = [w + o * rate for w, o in zip(hit_sums(hits), hit_sums(older), strict=True)]
    about = totals_of(estimate, scale=1.0)
    # rounded to three digits, a word nearly every session holds read "about 2,210" of 2,207 sessions
    return page_ids, replace(about, sessions=min(about.sessions, everyone))


def _walk(
    engine: Engine, conn: sa.Connection, query: SessionQueryLike, words: list[str], order: list[Any], window: int
) -> tuple[int, list[Any]]:
    """The first ``window`` candidates in sort order (every filter but the text): how many there
    were, and those holding every word (sort order; ``walk_rank`` is each one's place in the walk)."""
    c = sessions.c
    candidates = (
        sa.select(
            c.id,
            c[str(query.sort)],
            c.turn_count,
            c.input_tokens,
            c.output_tokens,
            c.cost_usd,
            c.cost_unknown,
            c.errors,
            sa.func.row_number().over(order_by=order).label("walk_rank"),
        )
        .where(*_conditions(engine, query, with_text=False))
        .order_by(*order)
        .limit(window)
        .subquery("candidates")
    )
    # every word in one of the candidate's rows (the title, or one exchange)
    matches = session_has(candidates.c.id, words)
    walked = conn.execute(sa.select(sa.func.count()).select_from(candidates)).scalar_one()
    sort_col = candidates.c[str(query.sort)]
    hit_order = (
        [sort_col.desc(), candidates.c.id.desc()] if query.descending else [sort_col.asc(), candidates.c.id.asc()]
    )
    return walked, list(conn.execute(sa.select(candidates).where(matches).order_by(*hit_order)).all())


def distinct_models(engine: Engine, user_id: str | None = None) -> list[str]:
    """The models sessions were started with (for the model filter), sorted.

    Args:
        engine: The database.
        user_id: Restrict to one user's sessions (None = all users).

    Returns:
        Sorted distinct model names.
    """
    t = session_totals.c  # every (user, state, model) with sessions: no scan of the sessions
    stmt = sa.select(t.model).where(t.sessions > 0).distinct()
    if user_id is not None:
        stmt = stmt.where(t.user_id == user_id)
    with engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(stmt))
