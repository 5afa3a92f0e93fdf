"""The sessions table's totals (``assistant.sessions.totals``) on real SQLite files and Postgres schemas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.db import sessions
from assistant.sessions.queries import SessionFilter
from assistant.sessions.totals import from_rollup, hit_sums, rollup_totals, totals_columns, totals_of
from tests.fixtures.db import insert_sessions

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
LITE = "bedrock:us.amazon.nova-lite-v1:0"


def _sessions(n: int) -> list[dict[str, object]]:
    return [
        dict(id=f"t{i:03d}", user_id=("ann", "ben")[i % 2], state=("active", "completed")[i % 3 == 0],
             model=(LITE, "offline")[i % 4 == 0], updated_at=T0 - timedelta(hours=i), turn_count=i % 6,
             input_tokens=120 * i, output_tokens=30 * i, cost_usd=0.0125 * (i % 5), cost_unknown=i % 7 == 0,
             errors=i % 3 == 1)
        for i in range(30)
    ]  # fmt: skip


@pytest.mark.parametrize(
    "query",
    [
        SessionFilter(),
        SessionFilter(user_id="ann"),
        SessionFilter(states=("completed",)),
        SessionFilter(models=(LITE,)),
    ],
)
def test_the_rollup_agrees_with_the_sessions_it_counts(query_engine: Engine, query: SessionFilter) -> None:
    insert_sessions(query_engine, _sessions(30))
    with query_engine.begin() as conn:  # the triggers keep the rollup as sessions go
        conn.execute(sa.delete(sessions).where(sessions.c.id.in_(["t003", "t010", "t011"])))
        conn.execute(sa.update(sessions).where(sessions.c.id == "t004").values(state="expired", cost_usd=2.5))
    c = sessions.c
    conds = [c.user_id == query.user_id] if query.user_id else []
    conds += [c.state.in_(query.states)] if query.states else []
    conds += [c.model.in_(query.models)] if query.models else []
    with query_engine.connect() as conn:
        exact = totals_of(conn.execute(sa.select(*totals_columns(c)).where(*conds)).one())
        rolled = rollup_totals(conn, query)
    assert from_rollup(query)
    assert rolled.sessions == exact.sessions > 0 and rolled.turns == exact.turns
    assert (rolled.input_tokens, rolled.output_tokens, rolled.errors) == (
        exact.input_tokens,
        exact.output_tokens,
        exact.errors,
    )
    assert rolled.unknown_cost_sessions == exact.unknown_cost_sessions
    assert rolled.cost_usd == pytest.approx(exact.cost_usd, abs=1e-9)


def test_a_user_with_no_sessions_left_totals_exactly_nothing(query_engine: Engine) -> None:
    # float sums that went up and down again: $0.00, not 2.8e-17 (shown as "<$0.00000001")
    insert_sessions(query_engine, [dict(id=f"d{i}", user_id="dana", model=LITE, cost_usd=c) for i, c in
                                   enumerate((0.1, 0.2, 0.3))])  # fmt: skip
    with query_engine.begin() as conn:
        conn.execute(sa.delete(sessions).where(sessions.c.user_id == "dana"))
    with query_engine.connect() as conn:
        totals = rollup_totals(conn, SessionFilter(user_id="dana"))
    assert (totals.sessions, totals.cost_usd, totals.turns) == (0, 0.0, 0)


def test_filters_the_rollup_cannot_answer_are_summed_from_the_sessions() -> None:
    assert not from_rollup(SessionFilter(since=T0))
    assert not from_rollup(SessionFilter(until=T0))
    assert not from_rollup(SessionFilter(meeting_id="m1"))


def test_extrapolated_totals_are_rounded_and_marked_approximate() -> None:
    exact = totals_of((12, 40, 12_345, 678, 0.123456, 1, 2))
    assert not exact.approximate and exact.input_tokens == 12_345 and exact.cost_usd == 0.123456
    about = totals_of((12, 40, 12_345, 678, 0.123456, 1, 2), scale=3.0)
    assert about.approximate  # the page reads "about N"
    assert (about.sessions, about.turns, about.input_tokens, about.output_tokens) == (36, 120, 37_000, 2_030)
    assert about.cost_usd == 0.37 and about.searched is None


def test_window_sums_match_the_same_sums_in_sql(query_engine: Engine) -> None:
    insert_sessions(query_engine, _sessions(30))
    c = sessions.c
    with query_engine.connect() as conn:
        rows = conn.execute(sa.select(c.turn_count, c.input_tokens, c.output_tokens, c.cost_usd, c.cost_unknown,
                                      c.errors).where(c.user_id == "ben")).all()  # fmt: skip
        in_sql = totals_of(conn.execute(sa.select(*totals_columns(c)).where(c.user_id == "ben")).one())
    in_python = totals_of(hit_sums(rows))
    assert in_python.sessions == in_sql.sessions == 15
    assert in_python.cost_usd == pytest.approx(in_sql.cost_usd)
    assert (in_python.turns, in_python.errors, in_python.unknown_cost_sessions) == (
        in_sql.turns,
        in_sql.errors,
        in_sql.unknown_cost_sessions,
    )
