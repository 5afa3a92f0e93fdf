"""My context with a big budget (hundreds of areas): the line above the table names a few.

With 500 areas, 385 flagged, "Needs attention: …" named all 385 in one caption: a wall of
text two screens high between the totals and the table, which has a Flags column anyway.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from assistant.context.budget_io import BudgetRow
from assistant.context.user_data import ContextStore
from tests.pages.test_context_page import ALICE, budget_table, engine, open_page

__all__ = ["engine"]


def _attention(at: object) -> str:
    captions = [str(c.value) for c in at.caption if str(c.value).startswith("Needs attention")]  # type: ignore[attr-defined]
    assert len(captions) == 1, captions
    return captions[0]


def test_a_budget_of_hundreds_of_flagged_areas_names_the_largest_gaps_and_counts_the_rest(
    engine: Callable[[str], Engine],
) -> None:
    db = engine(ALICE)
    rows = [
        BudgetRow(area=f"Area {n:03d}", plan=100_000, actual=50_000, forecast=110_000 + 100 * n) for n in range(300)
    ]  # every area over budget; Area 299 by the most
    ContextStore(db).save(ALICE, "budget", rows, None)
    at = open_page()
    line = _attention(at)
    assert len(line) < 400, line
    assert line.index("Area 299") < line.index("Area 298"), "the largest forecast gaps first"
    assert "Area 000" not in line
    assert "294 more" in line, line
    assert len(budget_table(at)) == 300, "every area is still in the table"
    assert {m.label: m.value for m in at.metric}["Areas needing attention"] == "300 of 300"


def test_a_small_budget_still_names_every_flagged_area_in_file_order(engine: Callable[[str], Engine]) -> None:
    db = engine(ALICE)
    rows = [
        BudgetRow(area="Engineering", plan=100, actual=50, forecast=120),
        BudgetRow(area="Sales", plan=100, actual=50, forecast=100),
        BudgetRow(area="Marketing", plan=100, actual=10, forecast=150),
    ]
    ContextStore(db).save(ALICE, "budget", rows, None)
    line = _attention(open_page())
    assert line.startswith("Needs attention: Engineering (")
    assert line.index("Engineering") < line.index("Marketing") and "Sales" not in line and "more" not in line
