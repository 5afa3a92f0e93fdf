"""The dashboard's cost per session (``usage/session_costs.py``) and the ``session_cost_daily`` histogram it reads
(migration 0010, kept by triggers on ``sessions``).

Turns through a real ChatService on every store (SQLite, Postgres, S3 over a Postgres index)
keep it equal to a recomputation from the sessions and their ledger rows, including a failed
then retried turn and a deleted session; the dashboard's cost-per-session figures read from it
agree with the exact ones computed from every session of the period.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from assistant import db
from assistant.chat import Done, ErrorEvent
from assistant.sessions.base import parse_utc
from assistant.usage import session_costs
from assistant.usage.session_costs import session_cost_distribution
from tests.fixtures.chat import make_service
from tests.fixtures.db import insert_sessions
from tests.fixtures.scripted_model import Fail, ScriptedModel, Text
from tests.fixtures.stores import MakeStore

NOVA = "bedrock:us.amazon.nova-lite-v1:0"


def _bucket(cost: float, unknown: bool) -> tuple[int, int]:
    """(coarse, fine) of a session cost, computed here independently of the SQL."""
    if unknown:
        return -1, session_costs.ZERO_FINE
    coarse = sum(1 for edge in session_costs.SESSION_COST_BUCKETS if cost >= edge)
    fine = session_costs.ZERO_FINE if cost <= 0 else math.floor(math.log10(cost) * session_costs.FINE_PER_DECADE)
    return coarse, fine


def _expected(engine: Engine) -> Counter[tuple[str, str, int, int]]:
    """Sessions per (day, scope, coarse, fine), each session's cost and unknown flag taken from its ledger rows."""
    with engine.connect() as conn:
        metas = conn.execute(sa.select(db.sessions.c.id, db.sessions.c.user_id, db.sessions.c.updated_at)).all()
        ledger = conn.execute(sa.select(db.usage.c.session_id, db.usage.c.cost_usd)).all()
    cost: dict[str, float] = {}
    unknown: set[str] = set()
    for sid, c in ledger:
        if c is None:
            unknown.add(sid)
        else:
            cost[sid] = cost.get(sid, 0.0) + float(c)
    out: Counter[tuple[str, str, int, int]] = Counter()
    for sid, user, updated in metas:
        day = parse_utc(updated).date().isoformat()
        key = _bucket(cost.get(sid, 0.0), sid in unknown)
        out[(day, user, *key)] += 1
        out[(day, "*", *key)] += 1
    return out


def _stored(engine: Engine) -> Counter[tuple[str, str, int, int]]:
    h = db.session_cost_daily.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(h.day, h.scope, h.coarse, h.fine, h.sessions).where(h.sessions != 0)).all()
    return Counter({(str(d)[:10], s, int(c), int(f)): int(n) for d, s, c, f, n in rows})


def _answer(events: list[Any]) -> Done:
    assert isinstance(events[-1], Done), events[-1]
    return events[-1]


def test_turns_on_every_store_keep_the_histogram_equal_to_a_recomputation(
    store_engine: Engine, make_store: MakeStore
) -> None:
    models: dict[str, ScriptedModel] = {}

    def factory(name: str) -> ScriptedModel:
        script: list[Any] = [Text("First answer."), Fail(RuntimeError("the model connection dropped"))]
        script += [Text(f"Answer {i}.") for i in range(10)]
        return models.setdefault(name, ScriptedModel(script))

    service = make_service(store_engine, model=factory, store=make_store(), models=f"offline,{NOVA}")
    assert _stored(store_engine) == Counter()
    priced = service.start_turn("alice", "What meetings do I have?", model=NOVA)
    _answer(list(priced.events))
    sid = priced.session.id
    assert _stored(store_engine) == _expected(store_engine) and _expected(store_engine)
    failed = service.run_turn(sid, "alice", "And my budget?")
    assert isinstance(failed[-1], ErrorEvent) and failed[-1].retryable
    assert _stored(store_engine) == _expected(store_engine)
    _answer(service.run_turn(sid, "alice", "And my budget?"))  # the retry
    _answer(service.run_turn(sid, "alice", "Anything else?"))
    free = service.start_turn("bob", "Hello", model="offline")
    _answer(list(free.events))
    doomed = service.start_turn("bob", "Draft a note", model=NOVA)
    _answer(list(doomed.events))
    assert _stored(store_engine) == _expected(store_engine)
    with store_engine.connect() as conn:
        cost = conn.execute(sa.select(db.sessions.c.cost_usd).where(db.sessions.c.id == sid)).scalar_one()
    assert cost > 0  # the priced session is in a priced bucket, not the zero one
    service.delete(doomed.session.id, "bob")
    assert _stored(store_engine) == _expected(store_engine)
    assert sum(n for (_d, scope, _c, _f), n in _stored(store_engine).items() if scope == "*") == 2


T0 = datetime(2026, 11, 10, tzinfo=UTC)


def _random_sessions(n: int, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        zero = rng.random() < 0.2
        cost = 0.0 if zero else math.exp(rng.gauss(math.log(0.05), 1.5))
        rows.append(
            dict(
                id=f"s{i:04d}",
                user_id=("alice", "bob", "carol")[i % 3],
                title=f"Session {i}",
                state="completed",
                created_at=T0 - timedelta(days=12),
                updated_at=T0 - timedelta(days=rng.randrange(10), seconds=rng.randrange(86400)),
                model="offline" if zero else NOVA,
                cost_usd=round(cost, 6) if i != 7 else 0.05,  # one cost exactly on a range edge
                cost_unknown=rng.random() < 0.03,
            )
        )
    return rows


@pytest.mark.parametrize("user_id", [None, "bob"])
def test_dashboard_figures_from_the_histogram_match_the_exact_ones(query_engine: Engine, user_id: str | None) -> None:
    insert_sessions(query_engine, _random_sessions(600))
    since, until = T0 - timedelta(days=7), T0  # whole UTC days: the histogram
    with query_engine.connect() as conn:
        fast = session_cost_distribution(query_engine, since=since, until=until, user_id=user_id, conn=conn)
        exact = session_costs._exact(conn, since=since, until=until, user_id=user_id)
    assert fast.sessions == exact.sessions > 100
    assert fast.unknown_cost_sessions == exact.unknown_cost_sessions
    assert fast.buckets == exact.buckets  # the cost ranges' counts are exact
    assert fast.max_usd == exact.max_usd
    assert fast.mean_usd == pytest.approx(exact.mean_usd)
    for got, want in ((fast.p50_usd, exact.p50_usd), (fast.p90_usd, exact.p90_usd)):
        assert got is not None and want is not None
        assert got == pytest.approx(want, rel=0.05)  # within a fine bucket (4.7% wide)
    # an unaligned period is computed exactly from the sessions
    odd = session_cost_distribution(query_engine, since=since + timedelta(hours=5), until=until, user_id=user_id)
    with query_engine.connect() as conn:
        assert odd == session_costs._exact(conn, since=since + timedelta(hours=5), until=until, user_id=user_id)


def test_a_period_of_free_sessions_shows_zero_not_a_tiny_cost(query_engine: Engine) -> None:
    rows = _random_sessions(30)
    for r in rows:
        r.update(cost_usd=0.0, cost_unknown=False)
    insert_sessions(query_engine, rows)
    dist = session_cost_distribution(query_engine, since=T0 - timedelta(days=10), until=T0, user_id=None)
    assert dist.sessions == 30
    assert (dist.p50_usd, dist.p90_usd, dist.max_usd, dist.mean_usd) == (0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize("costs", [[5.51168], [0.2, 5.51168], [0.0123, 0.0124, 0.0125]])
def test_no_percentile_is_told_below_the_most_expensive_session_when_it_is_that_session(
    query_engine: Engine, costs: list[float]
) -> None:
    """One session of $5.51168: "Median $5.50 · p90 $5.50 · max $5.51" (the histogram put the only
    session in the middle of its bucket, below the exact maximum beside it)."""
    rows = _random_sessions(len(costs))
    for r, cost in zip(rows, costs, strict=True):
        r.update(cost_usd=cost, cost_unknown=False, user_id="alice")
    insert_sessions(query_engine, rows)
    since, until = T0 - timedelta(days=10), T0  # whole UTC days: the histogram
    dist = session_cost_distribution(query_engine, since=since, until=until, user_id=None)
    with query_engine.connect() as conn:
        exact = session_costs._exact(conn, since=since, until=until, user_id=None)
    assert dist.max_usd == exact.max_usd == max(costs)
    assert dist.p90_usd is not None and dist.p50_usd is not None
    assert dist.p50_usd <= dist.p90_usd <= dist.max_usd
    if len(costs) == 1:
        assert dist.p50_usd == dist.p90_usd == dist.max_usd
    assert dist.p90_usd == pytest.approx(exact.p90_usd, rel=0.05)
