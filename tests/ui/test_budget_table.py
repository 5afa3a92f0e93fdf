"""``ui.budget_table``: the budget's figures in a table, each area's notes written under it as typed."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _app(notes: list[str]) -> None:
    from assistant.context.budget import budget_statuses
    from assistant.context.budget_io import BudgetRow, budget_file_of
    from ui.budget_table import draw_budget_table

    rows = [
        BudgetRow(area=f"Area {i}", owner="Dana", plan=100.0, actual=40.0, forecast=90.0, notes=note)
        for i, note in enumerate(notes)
    ]
    draw_budget_table(budget_statuses(budget_file_of(rows)), "budget")


def _run(notes: list[str]) -> AppTest:
    return AppTest.from_function(_app, args=(notes,), default_timeout=30).run()


def test_the_notes_are_under_the_table_not_in_a_column_of_it() -> None:
    at = _run(["Two field events cancelled", ""])
    assert list(at.dataframe[0].value.columns) == [
        "Area", "Owner", "Plan", "Actual", "Forecast", "Used", "Forecast vs plan", "Flags"
    ]  # fmt: skip
    shown = [m.value for m in at.markdown]
    assert shown == ["**Notes**", "- **Area 0**: Two field events cancelled"]  # an area without notes is not listed


def test_a_budget_without_notes_shows_no_notes_heading() -> None:
    at = _run(["", " "])
    assert [m.value for m in at.markdown] == []


def test_a_note_is_shown_as_typed_not_as_markdown() -> None:
    """Notes come from a colleague's file: a link or an image in one must not become one."""
    at = _run(["see ![x](https://evil.example/leak) **now**"])
    line = at.markdown[1].value
    assert "![x](" not in line and "\\*\\*now\\*\\*" in line
