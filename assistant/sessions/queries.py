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
  text, one row each). It first checks the newest candidates in sort order, one session at
  a time, and stops at a window of :data:`SEARCH_WINDOW` of them: a common term fills the
  page there, and its count and totals are extrapolated from the window (``approximate``,
  shown as "about N"). A rarer term falls back to the index (a pg_trgm GIN index on
  PostgreSQL, an FTS5 trigram index ``session_text_fts`` on SQLite, ``LIKE`` for terms
  shorter than three characters), where the matches are few, with an exact count;
- latency and TTFT figures are computed from the usage ledger for the rows of the page only.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol

import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import session_meetings, session_text, session_totals, sessions, usage
from assistant.inputs import strip_control_chars
from assistant.sessions.base import SessionState, parse_utc, to_utc

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
        text: Case-insensitive substring searched in the title and the transcript text.
        states: Keep only these states (empty = all).
        models: Keep only sessions whose model is one of these (empty = all).
        since: Inclusive lower bound on ``date_field`` (UTC).
        meeting_id: Keep only the prep sessions of this meeting (started from the Prep queue).
        until: Exclusive upper bound on ``date_field`` (UTC).
        date_field: Which timestamp the date range applies to.
        sort: One of :data:`SORT_KEYS`.
        descending: Sort direction.
        limit: Page size (1..500).
        offset: Rows to skip.
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


@dataclass(frozen=True)
class SessionRow:
    """One row of the sessions table.

    Attributes:
        cost_usd: Total cost, or None when at least one call of the session has an unknown
            price (``known_cost_usd`` then holds the priced part).
        models: Model ids used by the session's calls, in order of first use (the
            session's model when it has no calls yet).
        avg_latency_ms: Mean model-call latency (None without measured calls).
        ttft_p50_ms: Median time to first token over the session's calls.
        ttft_p95_ms: 95th percentile time to first token.
    """

    id: str
    user_id: str
    user_email: str | None
    title: str
    state: str
    created_at: datetime
    updated_at: datetime
    model: str
    turn_count: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    known_cost_usd: float
    errors: int
    calls: int
    models: tuple[str, ...]
    avg_latency_ms: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    continued_from: str | None = None
    damaged: bool = False

    @property
    def started(self) -> datetime:
        """When the session started (alias of ``created_at``)."""
        return self.created_at

    @property
    def last_activity(self) -> datetime:
        """When the session last changed (alias of ``updated_at``)."""
        return self.updated_at


@dataclass(frozen=True)
class SessionTotals:
    """Sums over the whole filtered set (not just the page).

    Attributes:
        cost_usd: Sum of the priced costs.
        unknown_cost_sessions: Sessions with at least one unpriced call (their unpriced
            part is not in ``cost_usd``).
        approximate: The figures are extrapolated from the newest :data:`SEARCH_WINDOW`
            candidates of a search with many matches (rounded to three significant
            digits; show them as "about N"); exact otherwise.
    """

    sessions: int
    turns: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    unknown_cost_sessions: int
    errors: int
    approximate: bool = False


class SessionPage(NamedTuple):
    """``(rows, total_count, totals)`` of one page."""

    rows: list[SessionRow]
    total_count: int
    totals: SessionTotals


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear-interpolated percentile (same definition as SQL ``percentile_cont``).

    Args:
        values: The sample (any order).
        p: The fraction, 0..1.

    Returns:
        The percentile, or None for an empty sample.
    """
    if not values:
        return None
    ordered = sorted(values)
    pos = p * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


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


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_term(text: str | None) -> str:
    """The search text as the query uses it: without control characters and surrounding spaces.

    The search index holds no control characters (the stores strip them,
    :func:`assistant.inputs.strip_control_chars`), so a NUL or an escape typed or pasted in a
    search box is dropped here, before any SQL is built: Postgres refuses NUL in a parameter
    and SQLite's FTS5 refuses it in a phrase. Both search boxes (the chat sidebar through the
    store, the sessions page and the CLI through :func:`list_sessions`) come through here.

    Args:
        text: What the user typed (None for no search).

    Returns:
        The cleaned text; empty when nothing is left (no text filter).
    """
    return strip_control_chars(text).strip() if text else ""


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
        if not scoped_to_user and len(term) >= 3 and _has_sqlite_fts(engine):
            phrase = '"' + term.replace('"', '""') + '"'
            rowids = (
                sa.text("SELECT rowid FROM session_text_fts WHERE session_text_fts MATCH :fts_phrase")
                .bindparams(fts_phrase=phrase)
                .columns(sa.column("rowid", sa.Integer))
            )
            return sessions.c.id.in_(sa.select(st.session_id).where(st.id.in_(rowids)))
        if scoped_to_user:
            return sa.exists().where(st.session_id == sessions.c.id, st.text.like(_like_pattern(term), escape="\\"))
    return sessions.c.id.in_(sa.select(st.session_id).where(st.text.like(_like_pattern(term), escape="\\")))


def _validated(query: SessionQueryLike) -> tuple[str, int, int]:
    if query.sort not in SORT_KEYS:
        raise SessionQueryError(f"Cannot sort sessions by {query.sort!r}; choose one of: {', '.join(SORT_KEYS)}.")
    if not 1 <= int(query.limit) <= MAX_LIMIT:
        raise SessionQueryError(f"Page size must be between 1 and {MAX_LIMIT} (got {query.limit}).")
    if int(query.offset) < 0:
        raise SessionQueryError(f"Page offset cannot be negative (got {query.offset}).")
    if len(search_term(query.text)) > MAX_SEARCH_CHARS:
        raise SessionQueryError(f"Search text is too long: keep it under {MAX_SEARCH_CHARS} characters.")
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
    text = search_term(query.text)
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
    text = search_term(query.text)
    logger.debug(
        "user_id=<%s>, sort=<%s>, offset=<%d>, searching=<%s> | listing sessions",
        query.user_id,
        sort,
        offset,
        bool(text),
    )
    sort_col = sessions.c[sort]
    order = [sort_col.desc(), sessions.c.id.desc()] if query.descending else [sort_col.asc(), sessions.c.id.asc()]
    with engine.connect() as conn:
        found = _search_window(engine, conn, query, text, order, limit, offset) if text else None
        if found is not None:
            page_ids, totals = found
        else:
            conds = _conditions(engine, query)
            if text:  # a rare term: the text index finds its few matches
                conds = [*_conditions(engine, query, with_text=False), text_condition(engine, text)]
            ids_stmt = sa.select(sessions.c.id).where(*conds).order_by(*order).limit(limit).offset(offset)
            page_ids = [r[0] for r in conn.execute(ids_stmt)]
            if not text and _totals_from_rollup(query):
                totals = _rollup_totals(conn, query)
            else:
                totals = _totals(conn.execute(sa.select(*_totals_columns(sessions.c)).where(*conds)).one())
        rows = _load_rows(conn, page_ids)
    return SessionPage(rows, totals.sessions, totals)


def _totals_columns(c: Any) -> list[Any]:
    return [
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(c.turn_count), 0),
        sa.func.coalesce(sa.func.sum(c.input_tokens), 0),
        sa.func.coalesce(sa.func.sum(c.output_tokens), 0),
        sa.func.coalesce(sa.func.sum(c.cost_usd), 0.0),
        sa.func.coalesce(sa.func.sum(sa.case((c.cost_unknown, 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(c.errors), 0),
    ]


def _totals(t: Any, scale: float | None = None) -> SessionTotals:
    if scale is None:
        return SessionTotals(
            sessions=int(t[0]),
            turns=int(t[1]),
            input_tokens=int(t[2]),
            output_tokens=int(t[3]),
            cost_usd=float(t[4]),
            unknown_cost_sessions=int(t[5]),
            errors=int(t[6]),
        )
    return SessionTotals(
        sessions=_about(t[0] * scale),
        turns=_about(t[1] * scale),
        input_tokens=_about(t[2] * scale),
        output_tokens=_about(t[3] * scale),
        cost_usd=float(f"{float(t[4]) * scale:.3g}"),
        unknown_cost_sessions=_about(t[5] * scale),
        errors=_about(t[6] * scale),
        approximate=True,
    )


def _about(value: float) -> int:
    """An extrapolated figure rounded to three significant digits (12,345 -> 12,300)."""
    return int(float(f"{value:.3g}"))


def _totals_from_rollup(query: SessionQueryLike) -> bool:
    """Whether ``session_totals`` holds the totals of this filter (users, states and models only)."""
    return query.since is None and query.until is None and not getattr(query, "meeting_id", None)


def _rollup_totals(conn: sa.Connection, query: SessionQueryLike) -> SessionTotals:
    """Totals of a users/states/models filter from the ``session_totals`` rollup (a few rows per user)."""
    t = session_totals.c
    conds: list[Any] = [t.sessions > 0]
    if query.user_id is not None:
        conds.append(t.user_id == query.user_id)
    if query.states:
        conds.append(t.state.in_(list(query.states)))
    if query.models:
        conds.append(t.model.in_(list(query.models)))
    stmt = sa.select(
        sa.func.coalesce(sa.func.sum(t.sessions), 0),
        sa.func.coalesce(sa.func.sum(t.turns), 0),
        sa.func.coalesce(sa.func.sum(t.input_tokens), 0),
        sa.func.coalesce(sa.func.sum(t.output_tokens), 0),
        sa.func.coalesce(sa.func.sum(t.cost_usd), 0.0),
        sa.func.coalesce(sa.func.sum(t.unknown_cost_sessions), 0),
        sa.func.coalesce(sa.func.sum(t.errors), 0),
    ).where(*conds)
    totals = _totals(conn.execute(stmt).one())
    if totals.sessions == 0:  # float sums of sessions that moved away leave rounding dust
        return SessionTotals(0, 0, 0, 0, 0.0, 0, 0)
    return totals


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
    it holds the page but not every candidate, the count and totals are the window's scaled
    to all candidates (``approximate``). When the page is not filled inside a full window the
    term is rare: None, and the caller asks the text index.
    """
    window = max(SEARCH_WINDOW, 4 * (offset + limit))
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
        )
        .where(*_conditions(engine, query, with_text=False))
        .order_by(*order)
        .limit(window)
        .subquery("candidates")
    )
    st = session_text.c
    matches = (
        sa.select(sa.literal(1))
        .where(st.session_id == candidates.c.id, st.text.like(_like_pattern(text.lower()), escape="\\"))
        .limit(1)
        .scalar_subquery()
    )
    walked = conn.execute(sa.select(sa.func.count()).select_from(candidates)).scalar_one()
    sort_col = candidates.c[str(query.sort)]
    hit_order = (
        [sort_col.desc(), candidates.c.id.desc()] if query.descending else [sort_col.asc(), candidates.c.id.asc()]
    )
    hits = conn.execute(sa.select(candidates).where(matches.is_not(None)).order_by(*hit_order)).all()
    exhausted = walked < window
    if not exhausted and len(hits) < offset + limit:
        return None
    page_ids = [h.id for h in hits[offset : offset + limit]]
    sums = (
        len(hits),
        sum(h.turn_count for h in hits),
        sum(h.input_tokens for h in hits),
        sum(h.output_tokens for h in hits),
        sum(float(h.cost_usd) for h in hits),
        sum(1 for h in hits if h.cost_unknown),
        sum(h.errors for h in hits),
    )
    if exhausted:
        return page_ids, _totals(sums)
    if _totals_from_rollup(query):
        everyone = _rollup_totals(conn, query).sessions
    else:
        everyone = conn.execute(
            sa.select(sa.func.count()).select_from(sessions).where(*_conditions(engine, query, with_text=False))
        ).scalar_one()
    return page_ids, _totals(sums, scale=everyone / walked)


def _load_rows(conn: sa.Connection, ids: list[str]) -> list[SessionRow]:
    if not ids:
        return []
    cols = [
        sessions.c.id,
        sessions.c.user_id,
        sessions.c.user_email,
        sessions.c.title,
        sessions.c.state,
        sessions.c.created_at,
        sessions.c.updated_at,
        sessions.c.model,
        sessions.c.turn_count,
        sessions.c.input_tokens,
        sessions.c.output_tokens,
        sessions.c.cost_usd,
        sessions.c.cost_unknown,
        sessions.c.errors,
        sessions.c.continued_from,
        sessions.c.damaged.is_not(None).label("is_damaged"),
    ]
    meta = {r.id: r for r in conn.execute(sa.select(*cols).where(sessions.c.id.in_(ids)))}
    calls = conn.execute(
        sa.select(usage.c.session_id, usage.c.model_id, usage.c.latency_ms, usage.c.ttft_ms)
        .where(usage.c.session_id.in_(ids))
        .order_by(usage.c.session_id, usage.c.started_at, usage.c.call_id)
    ).all()
    stats = _call_stats((c.session_id, c.model_id, c.latency_ms, c.ttft_ms) for c in calls)
    rows: list[SessionRow] = []
    for sid in ids:
        r = meta.get(sid)
        if r is None:  # deleted between the two reads
            continue
        n_calls, models, avg_latency, p50, p95 = stats.get(sid, (0, (), None, None, None))
        rows.append(
            SessionRow(
                id=r.id,
                user_id=r.user_id,
                user_email=r.user_email,
                title=r.title,
                state=r.state,
                created_at=parse_utc(r.created_at),
                updated_at=parse_utc(r.updated_at),
                model=r.model,
                turn_count=int(r.turn_count),
                input_tokens=int(r.input_tokens),
                output_tokens=int(r.output_tokens),
                cost_usd=None if r.cost_unknown else float(r.cost_usd),
                known_cost_usd=float(r.cost_usd),
                errors=int(r.errors),
                calls=n_calls,
                models=models or (r.model,),
                avg_latency_ms=avg_latency,
                ttft_p50_ms=p50,
                ttft_p95_ms=p95,
                continued_from=r.continued_from,
                damaged=bool(r.is_damaged),
            )
        )
    return rows


def _call_stats(
    calls: Iterable[tuple[str, str, float | None, float | None]],
) -> dict[str, tuple[int, tuple[str, ...], float | None, float | None, float | None]]:
    grouped: dict[str, tuple[list[str], list[float], list[float], list[int]]] = {}
    for sid, model_id, latency, ttft in calls:
        models, latencies, ttfts, count = grouped.setdefault(sid, ([], [], [], [0]))
        count[0] += 1
        if model_id not in models:
            models.append(model_id)
        if latency is not None:
            latencies.append(float(latency))
        if ttft is not None:
            ttfts.append(float(ttft))
    return {
        sid: (
            count[0],
            tuple(models),
            sum(latencies) / len(latencies) if latencies else None,
            percentile(ttfts, 0.5),
            percentile(ttfts, 0.95),
        )
        for sid, (models, latencies, ttfts, count) in grouped.items()
    }


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
