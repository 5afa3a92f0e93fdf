"""A budget sheet's columns: the template's names and common others read as the budget's
columns by a fixed order, every other column ignored and named, a repeated or missing one refused."""

from __future__ import annotations

from datetime import datetime

import pytest

from assistant.context.budget_columns import (
    COLUMNS,
    REQUIRED,
    SYNONYMS,
    HeaderCell,
    column_letter,
    column_of,
    header_index,
    match_header,
    read_header,
)
from assistant.context.row_checks import UNCALCULATED, ContextInputError


def test_each_name_reads_as_one_column_and_the_templates_own_name_comes_first() -> None:
    names = [name for column in COLUMNS for name in SYNONYMS[column]]
    assert len(names) == len(set(names))  # no header could mean two columns
    assert all(SYNONYMS[column][0] == column for column in COLUMNS)
    assert set(SYNONYMS) == set(COLUMNS)


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Department", "area"),
        (" DEPARTMENT ", "area"),
        ("Annual budget", "plan"),
        ("Full-year budget", "plan"),
        ("YTD actuals", "actual"),
        ("Actual to date", "actual"),
        ("Spent", "actual"),
        ("Full year forecast", "forecast"),
        ("Year-end forecast", "forecast"),
        ("Outlook", "forecast"),
        ("Comments", "notes"),
        ("Responsible", "owner"),
        ("YTD plan", "plan_to_date"),
        ("Budget to date", "plan_to_date"),
        ("plan_to_date", "plan_to_date"),
        ("Cost center", None),  # a code beside the department's name, never the area
        ("Variance", None),
        ("Budget ($K)", "plan"),
        ("Actual (YTD)", "actual"),  # not a unit: part of the name
        ("Spent (%)", None),  # a share, not an amount
        ("Budget (FY26)", "plan"),  # a fiscal year in brackets is no unit, and no part of the name
        (UNCALCULATED, None),
        (None, None),
    ],
)
def test_a_header_names_a_column_whatever_its_case_spaces_and_dashes(header: object, column: str | None) -> None:
    assert column_of(header) == column


def test_a_sheet_with_both_department_and_cost_center_reads_the_department() -> None:
    columns = match_header(["Cost center", "Department", "Budget", "Spent", "Forecast"], 1, [[4100, "Ops", 1, 1, 1]])
    assert columns.positions == {"area": 1, "plan": 2, "actual": 3, "forecast": 4}
    assert columns.ignored == ("Cost center",)
    assert columns.note() == (
        "Read area from “Department”, plan from “Budget”, actual from “Spent”. Ignored columns: Cost center."
    )


def test_many_ignored_columns_are_named_up_to_twelve_then_counted() -> None:
    months = [datetime(2026, m, 1) for m in range(1, 13)]
    columns = match_header(["area", "plan", "actual", "forecast", *months, "Variance", "% spent"], 3, [])
    assert columns.ignored[:2] == ("2026-01", "2026-02")
    assert columns.note().endswith("2026-11, 2026-12 and 2 more.")


def test_a_repeated_column_read_is_refused_but_a_repeated_ignored_one_is_not() -> None:
    with pytest.raises(ContextInputError) as info:
        match_header(["Area", "Plan", "Actual", "Forecast", "Forecast"], 2, [])
    assert [str(p) for p in info.value.problems] == [
        "row 2, column forecast: “Forecast” appears twice (columns D and E); keep one"
    ]
    assert "does not name the budget's columns" in info.value.summary
    # "Projection" twice is no problem: "Forecast" is read
    assert match_header(["Area", "Plan", "Actual", "Forecast", "Projection", "Projection"], 2, []).ignored == (
        "Projection",
        "Projection",
    )


def test_the_header_is_the_first_row_naming_every_required_column() -> None:
    rows = [(1, ["FY26 budget"]), (2, ["Prepared by Finance"]), (4, ["Department", "Budget", "Spent", "Projection"])]
    assert header_index(rows) == 2
    assert header_index(rows[:2]) is None
    assert set(REQUIRED) <= set(COLUMNS)


def test_column_letters_are_the_spreadsheets() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


@pytest.mark.parametrize(
    ("header", "currency", "scale"),
    [
        ("Budget ($K)", "USD", 1e3),
        ("Annual budget (EUR)", "EUR", 1),
        ("Spent ($ in thousands)", "USD", 1e3),
        ("Forecast (in millions)", None, 1e6),
        ("Plan ('000)", None, 1e3),
        ("Budget (M$)", "USD", 1e6),
        ("Budget [£m]", "GBP", 1e6),
        ("Budget", None, 1),
    ],
)
def test_a_headers_bracket_gives_its_currency_and_scale(header: str, currency: str | None, scale: float) -> None:
    assert read_header(header) == HeaderCell(read_header(header).name, currency, scale)
    assert column_of(header) is not None


def test_scaled_columns_are_said_and_two_currencies_in_the_header_refused() -> None:
    columns = match_header(["Area", "Plan ($K)", "Actual ($K)", "Forecast ($K)", "Spent (%)"], 1, [])
    assert columns.scales == {"plan": 1e3, "actual": 1e3, "forecast": 1e3} and columns.currency == "USD"
    assert columns.note() == (
        "Read plan from “Plan ($K)” ×1,000, actual from “Actual ($K)” ×1,000, forecast from “Forecast ($K)” ×1,000. "
        "Ignored columns: Spent (%)."
    )
    with pytest.raises(ContextInputError) as info:
        match_header(["Area", "Budget (€)", "Spent ($)", "Forecast"], 1, [])
    assert [str(p) for p in info.value.problems] == [
        "row 1: “Budget (€)” and “Spent ($)” name two currencies; a budget is in one"
    ]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Budget FY26", "plan"),
        ("FY2026 Budget", "plan"),
        ("FY 2026 budget ($K)", "plan"),
        ("Budget 2026/27", "plan"),
        ("YTD actual 2026", "actual"),
        ("Forecast FY'26", "forecast"),
        ("Dept.", "area"),
        ("Q3 2026 forecast", None),  # a quarter's forecast is not the full-year one: ignored
        ("2026", None),
    ],
)
def test_a_headers_fiscal_year_and_a_closing_dot_do_not_hide_its_name(header: str, column: str | None) -> None:
    # "Budget FY26" and "Dept." were not recognised: "missing column plan" on a sheet that had one
    assert column_of(header) == column


def test_a_missing_column_names_the_header_that_looked_like_it() -> None:
    # "Plan (lol)" read as a missing plan column, with nothing pointing at the header that was there
    with pytest.raises(ContextInputError) as refused:
        match_header(["Area", "Plan (lol)", "Actual", "Forecast"], 1, [["Ops", 1, 1, 1]])
    assert "missing column plan; name it plan, budget or annual budget (“Plan (lol)” is not read as plan)" in str(
        refused.value
    )
    with pytest.raises(ContextInputError) as refused:  # no such header: no hint
        match_header(["Area", "Actual", "Forecast"], 1, [["Ops", 1, 1]])
    assert str(refused.value).count("is not read as") == 0
