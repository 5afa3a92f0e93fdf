"""The sessions table at scale, on real SQLite files and Postgres schemas: totals from the
``session_totals`` rollup (kept by triggers, migration 0009) agree with the sessions, and a
search with many matches stops at a window of candidates and says its count is approximate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import session_totals, sessions, write_tx
from assistant.sessions import queries
from assistant.sessions.queries import SessionFilter, distinct_models, list_sessions
from assistant.sessions.totals import SessionTotals, totals_columns, totals_of
from tests.fixtures.db import insert_sessions, set_search_text

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def _exact(engine: Engine, **filters: object) -> SessionTotals:
    """Totals summed over the session rows themselves (what the rollup must equal)."""
    c = sessions.c
    conds = [c.user_id == filters["user_id"]] if "user_id" in filters else []
    if "states" in filters:
        conds.append(c.state.in_(filters["states"]))  # type: ignore[arg-type]
    with engine.connect() as conn:
        row = conn.execute(sa.select(*totals_columns(c)).where(*conds)).one()
    return totals_of(row)


def _rows(n: int, user: str = "alice", **extra: object) -> list[dict[str, object]]:
    return [
        dict(
            id=f"{user}-{i:04d}",
            user_id=user,
            title=f"Session {i}",
            state=("active", "completed", "expired")[i % 3],
            created_at=T0 - timedelta(hours=n - i + 1),
            updated_at=T0 - timedelta(hours=n - i),
            model=("offline", "bedrock:us.amazon.nova-lite-v1:0")[i % 2],
            turn_count=i % 5,
            input_tokens=100 * i,
            output_tokens=10 * i,
            cost_usd=0.01 * (i % 7),
            cost_unknown=i % 11 == 0,
            errors=i % 2,
            **extra,
        )
        for i in range(n)
    ]


def _close(a: SessionTotals, b: SessionTotals) -> None:
    assert (a.sessions, a.turns, a.input_tokens, a.output_tokens, a.unknown_cost_sessions, a.errors) == (
        b.sessions,
        b.turns,
        b.input_tokens,
        b.output_tokens,
        b.unknown_cost_sessions,
        b.errors,
    )
    assert a.cost_usd == pytest.approx(b.cost_usd)


def test_rollup_totals_follow_inserts_updates_and_deletes(query_engine: Engine) -> None:
    insert_sessions(query_engine, _rows(30) + _rows(7, user="bob"))
    for filters in ({}, {"user_id": "alice"}, {"user_id": "bob", "states": ("active",)}):
        page = list_sessions(query_engine, SessionFilter(**filters))  # type: ignore[arg-type]
        _close(page.totals, _exact(query_engine, **filters))
        assert page.total_count == page.totals.sessions
    c = sessions.c
    with write_tx(query_engine) as conn:  # a turn, a state change, a rename of the model, deletions
        conn.execute(
            sa.update(sessions)
            .where(c.id == "alice-0003")
            .values(turn_count=c.turn_count + 1, cost_usd=c.cost_usd + 0.5, cost_unknown=True, errors=c.errors + 2)
        )
        conn.execute(sa.update(sessions).where(c.user_id == "bob").values(state="expired"))
        conn.execute(sa.update(sessions).where(c.id == "alice-0004").values(model="bedrock:other", user_id="carol"))
        conn.execute(sa.delete(sessions).where(c.id.in_(["alice-0005", "alice-0006"])))
    for filters in ({}, {"user_id": "alice"}, {"user_id": "bob"}, {"user_id": "carol"}, {"states": ("expired",)}):
        page = list_sessions(query_engine, SessionFilter(**filters))  # type: ignore[arg-type]
        _close(page.totals, _exact(query_engine, **filters))
    assert list_sessions(query_engine, SessionFilter(user_id="bob", states=("active",))).totals.sessions == 0
    assert distinct_models(query_engine, "carol") == ["bedrock:other"]
    with query_engine.connect() as conn:  # the rollup holds one row per (user, state, model)
        assert conn.execute(sa.select(sa.func.count()).select_from(session_totals)).scalar_one() <= 3 * 2 * 3 + 1


def test_date_and_meeting_filters_still_count_the_rows(query_engine: Engine) -> None:
    insert_sessions(query_engine, _rows(20))
    since = T0 - timedelta(hours=5)
    page = list_sessions(query_engine, SessionFilter(since=since))
    assert page.total_count == 5  # updated 5..1 hours before T0
    assert not page.totals.approximate


def test_search_with_many_matches_stops_at_the_window(query_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    insert_sessions(query_engine, _rows(40))
    for i in range(40):
        set_search_text(query_engine, f"alice-{i:04d}", "project aurora budget" if i % 2 == 0 else "other words")
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 10)
    page = list_sessions(query_engine, SessionFilter(text="aurora", limit=3))
    assert [r.id for r in page.rows] == ["alice-0038", "alice-0036", "alice-0034"]  # newest first, only matches
    assert page.totals.approximate
    assert page.total_count == 20  # 6 matches of 12 walked (window = 4 x the page), scaled to 40 candidates
    # a page past what the window can hold, or a window that holds every candidate: exact
    deep = list_sessions(query_engine, SessionFilter(text="aurora", limit=3, offset=15))
    assert not deep.totals.approximate and deep.total_count == 20
    assert [r.id for r in deep.rows] == ["alice-0008", "alice-0006", "alice-0004"]
    scoped = list_sessions(query_engine, SessionFilter(text="aurora", states=("active",), limit=50))
    assert not scoped.totals.approximate
    assert scoped.total_count == len([i for i in range(0, 40, 2) if i % 3 == 0])


def test_search_whose_matches_are_all_recent_is_not_extrapolated_over_history(
    query_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A word of the last few sessions only (a new project's name, a message pasted this morning):
    # the window holds its matches at its newest end and none further back. Scaled to the whole
    # history as if it were as common everywhere, 6 matches read "about 20" sessions and their
    # cost; at 80k sessions, 60 read "about 2,120" (and the count dropped to 60 on page 3).
    insert_sessions(query_engine, _rows(40))
    for i in range(40):
        set_search_text(query_engine, f"alice-{i:04d}", "project falcon q3" if i >= 34 else "other words")
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 10)
    for user in (None, "alice"):
        page = list_sessions(query_engine, SessionFilter(user_id=user, text="falcon", limit=3))
        assert [r.id for r in page.rows] == ["alice-0039", "alice-0038", "alice-0037"]
        assert page.total_count == 6 and not page.totals.approximate
        assert page.totals.input_tokens == sum(100 * i for i in range(34, 40))
        # a word too short for the text index (it would read every row) keeps the whole window's
        # rate: an overestimate, so that paging on still reaches matches older than the window
        short = list_sessions(query_engine, SessionFilter(user_id=user, text="q3", limit=3))
        assert short.totals.approximate and short.total_count == 20  # 6 of 12 walked, over 40
        assert [r.id for r in short.rows] == ["alice-0039", "alice-0038", "alice-0037"]


def test_search_extrapolates_from_the_older_half_of_its_window(
    query_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Matches thick among the newest sessions and thinner further back: the rest of history is
    # estimated at the rate of the window's older half (2 of 6), not of the whole window (5 of 12).
    insert_sessions(query_engine, _rows(40))
    hit = {39, 38, 37, 34, 31, 28} | {i for i in range(28) if i % 3 == 1}
    for i in range(40):
        set_search_text(query_engine, f"alice-{i:04d}", "falcon" if i in hit else "other words")
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 10)
    page = list_sessions(query_engine, SessionFilter(text="falcon", limit=3))
    assert page.totals.approximate
    assert page.total_count == 15  # 6 in the 12 walked + 2/6 of the 28 older candidates (9.33)
    assert len(hit) == 15


def test_rare_term_is_found_through_the_text_index_with_an_exact_count(
    query_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    insert_sessions(query_engine, _rows(40))
    set_search_text(query_engine, "alice-0001", "the only kestrel")
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 10)
    for user in (None, "alice"):
        page = list_sessions(query_engine, SessionFilter(user_id=user, text="kestrel", limit=3))
        assert [r.id for r in page.rows] == ["alice-0001"]
        assert page.total_count == 1 and not page.totals.approximate


def test_a_short_rare_word_searches_a_bounded_part_of_the_list_and_says_so(
    query_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "q3" or "zq": no trigram, so the text index cannot narrow it and the search read every text
    # row of history: 15-17 s at 1M sessions on Postgres for a word no session holds. It now looks
    # through the first SHORT_SEARCH_SESSIONS of the list (in its order) and says it stopped there.
    insert_sessions(query_engine, _rows(40))
    for i in range(40):
        set_search_text(query_engine, f"alice-{i:04d}", {3: "the zq memo", 30: "zq again"}.get(i, "other words"))
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 4)
    monkeypatch.setattr(queries, "SHORT_SEARCH_SESSIONS", 20)
    for user in (None, "alice"):
        page = list_sessions(query_engine, SessionFilter(user_id=user, text="zq", limit=3))
        assert [r.id for r in page.rows] == ["alice-0030"]  # in the newest 20; alice-0003 is older
        assert page.total_count == 1 and not page.totals.approximate
        assert page.totals.searched == 20  # the page says only the first 20 were searched
        # a longer word goes through the index: the whole history, no bound
        whole = list_sessions(query_engine, SessionFilter(user_id=user, text="zq memo", limit=3))
        assert [r.id for r in whole.rows] == ["alice-0003"] and whole.totals.searched is None
        # a list no longer than the bound is searched whole: exact, and nothing to say
        few = list_sessions(query_engine, SessionFilter(user_id=user, text="zq", states=("active",), limit=3))
        assert [r.id for r in few.rows] == ["alice-0030", "alice-0003"] and few.totals.searched is None


def test_the_chat_sidebars_search_walks_the_users_sessions_as_the_sessions_page_does(
    query_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sidebar's search (SessionStore.list_sessions) asked the text index for every search, for
    # every user's rows at once, and counted every match exactly: at 1M sessions on Postgres "q3"
    # took 5 s for a user with 15k sessions (11 s with 278k), "budget" 0.4 s (5.3 s), on every rerun
    # of the chat page while the search box held it. It now answers as the sessions page does.
    from assistant.sessions.base import SessionQuery
    from assistant.sessions.index import SqlIndex

    insert_sessions(query_engine, _rows(40) + _rows(5, user="bob"))
    for i in range(40):
        set_search_text(query_engine, f"alice-{i:04d}", {3: "the zq memo", 30: "zq again"}.get(i, "budget words"))
    set_search_text(query_engine, "bob-0004", "zq from bob")
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 4)
    monkeypatch.setattr(queries, "SHORT_SEARCH_SESSIONS", 20)
    index = SqlIndex(query_engine, expiry_hours=24 * 365 * 10)
    found, total = index.list_sessions(SessionQuery(user_id="alice", text="zq", limit=3))
    assert [m.id for m in found] == ["alice-0030"] and total == 1  # alice-0003 is past her newest 20
    found, total = index.list_sessions(SessionQuery(user_id="alice", text="zq memo", limit=3))
    assert [m.id for m in found] == ["alice-0003"] and total == 1  # a longer word: all her history
    found, total = index.list_sessions(SessionQuery(user_id="alice", text="budget", limit=3))
    assert [m.id for m in found] == ["alice-0039", "alice-0038", "alice-0037"]  # newest first, hers only
    assert 30 <= total <= 45  # 38 of hers hold it: estimated from her newest 12 (the window), not counted
    found, total = index.list_sessions(SessionQuery(user_id="bob", text="zq", limit=3))
    assert [m.id for m in found] == ["bob-0004"] and total == 1


def test_a_search_nearly_every_session_matches_is_never_estimated_above_the_sessions_there_are(
    query_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rounded to three digits, the estimate of a word in all of a user's 2,207 sessions read
    "about 2,210" sessions, more than the unfiltered list's 2,207."""
    insert_sessions(query_engine, _rows(1_007))
    for i in range(1_007):
        set_search_text(query_engine, f"alice-{i:04d}", "acme renewal")
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 10)
    page = list_sessions(query_engine, SessionFilter(text="acme", limit=3))
    assert page.totals.approximate and page.total_count == 1_007, page.total_count
