"""ContextStore on SQLite and Postgres: versioned saves, conflicts, races, two users, demo data, tool views."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, update

from assistant.context.big_rocks import big_rocks_status_of
from assistant.context.budget import budget_context_of
from assistant.context.budget_io import BudgetRow
from assistant.context.rocks_io import RockRow
from assistant.context.user_data import (
    ContextConflictError,
    ContextDataError,
    ContextStore,
    budget_for,
    rocks_for,
)
from assistant.db import user_context
from tests.fixtures.streamlit_server import ROOT

DATA = ROOT / "data"
TODAY = date(2026, 3, 10)
ALICE, BOB = "alice-sub", "bob-sub"
BUDGET = [BudgetRow(area="Alice Ops", owner="Alice", plan=1000, actual=900, forecast=1200)]
ROCKS = [RockRow(name="Alice's rock", status="at_risk", progress_pct=30, next_milestone="Pilot", due_date=TODAY)]


def test_first_save_then_versioned_saves(any_engine: Engine) -> None:
    store = ContextStore(any_engine)
    assert store.get(ALICE, "budget") is None
    first = store.save(ALICE, "budget", BUDGET, None)
    assert first.version == 1
    got = store.get(ALICE, "budget")
    assert got is not None and got.version == 1 and got.budget_rows() == BUDGET and got.rock_rows() == []
    assert got.updated_at.tzinfo is not None
    second = store.save(ALICE, "budget", [BUDGET[0].model_copy(update={"actual": 950.0})], 1)
    assert second.version == 2
    again = store.get(ALICE, "budget")
    assert again is not None and again.budget_rows()[0].actual == 950


def test_stale_version_is_a_conflict_and_saves_nothing(any_engine: Engine) -> None:
    store = ContextStore(any_engine, clock=lambda: datetime(2026, 3, 10, 14, 5, tzinfo=UTC))
    store.save(ALICE, "big_rocks", ROCKS, None)
    store.save(ALICE, "big_rocks", ROCKS, 1)  # the other tab
    stale = [ROCKS[0].model_copy(update={"name": "Stale"})]
    with pytest.raises(ContextConflictError) as info:
        store.save(ALICE, "big_rocks", stale, 1)
    assert str(info.value) == "Your big rocks were changed in another tab at 14:05; reload to see it."
    assert info.value.message(ZoneInfo("Europe/Paris")).endswith("at 15:05; reload to see it.")
    with pytest.raises(ContextConflictError):
        store.save(ALICE, "big_rocks", stale, None)  # "I saw none" when there is one
    stored = store.get(ALICE, "big_rocks")
    assert stored is not None and stored.version == 2 and stored.rock_rows() == ROCKS


def test_two_concurrent_savers_with_the_same_version_exactly_one_wins(any_engine: Engine) -> None:
    store = ContextStore(any_engine)
    for expected in (None, 1):  # a first save race, then an update race
        barrier = threading.Barrier(4)
        outcomes: list[str] = []

        def saver(n: int, expected: int | None = expected) -> None:
            rows = [BUDGET[0].model_copy(update={"notes": f"tab {n}"})]
            barrier.wait()
            try:
                store.save(ALICE, "budget", rows, expected)
                outcomes.append(f"won {n}")
            except ContextConflictError:
                outcomes.append("lost")

        threads = [threading.Thread(target=saver, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [o for o in outcomes if o.startswith("won")]
        assert len(winners) == 1, outcomes
        stored = store.get(ALICE, "budget")
        assert stored is not None
        assert stored.version == (1 if expected is None else 2)
        assert stored.budget_rows()[0].notes == "tab " + winners[0].split()[1]


def test_two_users_are_isolated(any_engine: Engine) -> None:
    store = ContextStore(any_engine)
    store.save(ALICE, "budget", BUDGET, None)
    store.save(ALICE, "big_rocks", ROCKS, None)
    assert store.get(BOB, "budget") is None and store.get(BOB, "big_rocks") is None
    bob_budget, bob_demo = budget_for(any_engine, BOB, DATA)
    bob_rocks, bob_rocks_demo = rocks_for(any_engine, BOB, DATA, TODAY)
    assert bob_demo and bob_rocks_demo
    assert "Alice Ops" not in [a.name for a in bob_budget.areas]
    assert "Alice's rock" not in [r.name for r in bob_rocks]
    # Bob's own save never touches Alice's, and clearing his leaves hers.
    store.save(BOB, "budget", [BudgetRow(area="Bob Sales", plan=5, actual=1, forecast=5)], None)
    store.clear(BOB, "budget")
    alice_budget, alice_demo = budget_for(any_engine, ALICE, DATA)
    assert not alice_demo and [a.name for a in alice_budget.areas] == ["Alice Ops"]


def test_tools_read_the_users_own_data_with_demo_thresholds(any_engine: Engine) -> None:
    store = ContextStore(any_engine)
    store.save(ALICE, "budget", BUDGET, None)
    store.save(ALICE, "big_rocks", ROCKS, None)
    budget, is_demo = budget_for(any_engine, ALICE, DATA)
    assert not is_demo and budget.currency == "USD"
    [ops] = budget_context_of(budget, "alice ops")
    assert ops.id == "alice-ops" and ops.flags == ["over_budget"] and ops.utilisation_pct == 90.0
    rocks, rocks_demo = rocks_for(any_engine, ALICE, DATA, date(2026, 3, 11))
    assert not rocks_demo
    [mine] = big_rocks_status_of(rocks, "alice")
    assert mine.target_date == TODAY and mine.milestones[0].overdue and mine.needs_attention


def test_load_demo_fills_both_kinds_over_what_is_there(any_engine: Engine) -> None:
    store = ContextStore(any_engine)
    store.save(ALICE, "budget", BUDGET, None)
    loaded = store.load_demo(ALICE, DATA, TODAY)
    assert loaded["budget"].version == 2 and loaded["big_rocks"].version == 1
    budget, is_demo = budget_for(any_engine, ALICE, DATA)
    demo_budget, _ = budget_for(any_engine, BOB, DATA)
    assert not is_demo
    assert [a.model_dump(exclude={"id"}) for a in budget.areas] == [
        a.model_dump(exclude={"id"}) for a in demo_budget.areas
    ]
    rocks, _ = rocks_for(any_engine, ALICE, DATA, TODAY)
    assert [r.name for r in rocks][:2] == ["Launch Platform v3", "Grow Enterprise ARR to $40M"]
    # the rock's own target date (it read as its next milestone's, EU data residency GA's)
    assert rocks[0].target_date == date(2026, 4, 24)
    assert rocks[0].next_milestone() is not None and rocks[0].next_milestone().due == date(2026, 3, 30)  # type: ignore[union-attr]
    demo_rocks, _ = rocks_for(any_engine, BOB, DATA, TODAY)
    assert [(r.name, r.target_date, r.summary) for r in rocks] == [
        (r.name, r.target_date, r.summary) for r in demo_rocks
    ]


def test_clear_with_and_without_a_version(any_engine: Engine) -> None:
    store = ContextStore(any_engine)
    assert store.clear(ALICE, "budget") is False
    store.save(ALICE, "budget", BUDGET, None)
    with pytest.raises(ContextConflictError):
        store.clear(ALICE, "budget", expected_version=7)
    assert store.get(ALICE, "budget") is not None
    assert store.clear(ALICE, "budget", expected_version=1) is True
    assert store.get(ALICE, "budget") is None
    with pytest.raises(ContextConflictError, match="cleared in another tab"):
        store.save(ALICE, "budget", BUDGET, 1)


def test_bad_calls_save_nothing(any_engine: Engine) -> None:
    store = ContextStore(any_engine)
    with pytest.raises(ValueError, match="no rows"):
        store.save(ALICE, "budget", [], None)
    with pytest.raises(TypeError):
        store.save(ALICE, "budget", ROCKS, None)
    with pytest.raises(ValueError, match="Unknown context kind"):
        store.get(ALICE, "calendar")  # type: ignore[arg-type]
    assert store.get(ALICE, "budget") is None


def test_damaged_stored_rows_raise_a_readable_error(any_engine: Engine) -> None:
    store = ContextStore(any_engine)
    store.save(ALICE, "budget", BUDGET, None)
    with any_engine.begin() as conn:
        conn.execute(update(user_context).values(data_json='{"rows": [{"area": ""}]}'))
    with pytest.raises(ContextDataError, match="could not be read; save them again or clear them"):
        budget_for(any_engine, ALICE, DATA)


@pytest.mark.parametrize(
    "module",
    ["assistant.context.budget_io", "assistant.context.rocks_io", "assistant.context.user_data", "assistant.tools"],
)
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    # assistant.tools imports user_data when it is initialised; no import order may be circular.
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
