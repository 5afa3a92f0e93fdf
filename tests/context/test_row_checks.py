"""The checks budget and big-rock rows share: a problem names its row and column, every problem
is listed (up to fifty) under one summary; amounts read as people write them and refused in a
sentence quoting the cell otherwise; text cells cleaned and capped; ids made from names."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from assistant.context.row_checks import (
    FORMULA,
    UNCALCULATED,
    UNCALCULATED_MESSAGE,
    ContextInputError,
    Problem,
    clean_text,
    is_blank,
    parse_amount,
    shorten,
    slugify,
)


def amount(value: Any) -> tuple[float | None, list[str]]:
    found: list[Problem] = []
    return parse_amount(value, column="plan", row=2, problems=found), [str(p) for p in found]


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (1234.5, 1234.5),
        ("1,234.50", 1234.5),
        ("$1,234", 1234),
        ("€ 1 234", 1234),
        ("12 345.6 €", 12345.6),
        ("1'234'567", 1234567),  # Swiss grouping
        ("1_000", 1000),
        (".5", 0.5),
        ("\u202e123", 123),  # a bidi override is dropped, not read
        ("999999999999999", 999999999999999),
    ],
)
def test_amounts_are_read_as_people_write_them(value: Any, number: float) -> None:
    assert amount(value) == (number, [])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("lots", "'lots' is not a number (write it like 1250000 or 1,250,000)"),
        ("1e3", "'1e3' is not a number (write it like 1250000 or 1,250,000)"),
        ("inf", "'inf' is not a number (write it like 1250000 or 1,250,000)"),
        ("$", "'$' is not a number (write it like 1250000 or 1,250,000)"),
        ("1,5", "'1,5' has a decimal comma; write it with a decimal point (1.5)"),
        ("1.200,50", "'1.200,50' has a decimal comma; write it with a decimal point (1200.50)"),
        (" -5", "'-5' is negative; amounts must be 0 or more"),
        ("(5)", "'(5)' is negative; amounts must be 0 or more"),
        # a minus sign before something that is no number is not a negative amount
        ("-inf", "'-inf' is not a number (write it like 1250000 or 1,250,000)"),
        ("-", "'-' is not a number (write it like 1250000 or 1,250,000)"),
        ("(tbd)", "'(tbd)' is not a number (write it like 1250000 or 1,250,000)"),
        ("-1,5", "'-1,5' is negative; amounts must be 0 or more"),
        ("($1,200)", "'($1,200)' is negative; amounts must be 0 or more"),
        ("-€5", "'-€5' is negative; amounts must be 0 or more"),
        ("$-5", "'$-5' is negative; amounts must be 0 or more"),
        ("=A1*2", "formulas are not accepted; paste values"),
        (FORMULA, "formulas are not accepted; paste values"),
        (UNCALCULATED, UNCALCULATED_MESSAGE),
        ("#DIV/0!", "is #DIV/0!, an error of the sheet's formula; fix it or type the amount"),
        ("#N/A", "is #N/A, an error of the sheet's formula; fix it or type the amount"),
        (True, "is a date or a yes/no value, not an amount"),
        (date(2026, 1, 1), "is a date or a yes/no value, not an amount"),
        (datetime(2026, 1, 1, 9, 0), "is a date or a yes/no value, not an amount"),
        (float("inf"), "'inf' is too large; amounts must be under 1,000,000,000,000,000"),
        (float("-inf"), "'-inf' is not a number (write it like 1250000 or 1,250,000)"),
        (1e15, "'1000000000000000' is too large; amounts must be under 1,000,000,000,000,000"),
        # quoted as typed, as every other refusal is (it read "column plan: is too large")
        (
            "99999999999999999999999",
            "'99999999999999999999999' is too large; amounts must be under 1,000,000,000,000,000",
        ),
        ("x" * 200, f"'{'x' * 39}…' is not a number (write it like 1250000 or 1,250,000)"),
    ],
)
def test_a_bad_amount_is_refused_in_a_sentence_quoting_the_cell(value: Any, message: str) -> None:
    assert amount(value) == (None, [f"row 2, column plan: {message}"])


@pytest.mark.parametrize("value", [None, "", "   ", "\u200b\u200b", "\x07", float("nan")])
def test_an_empty_cell_is_no_amount_and_no_problem(value: Any) -> None:
    assert is_blank(value) and amount(value) == (None, [])


def test_zero_and_text_that_draws_are_not_blank() -> None:
    assert not is_blank(0) and not is_blank("0") and not is_blank(0.0) and not is_blank("-")


def test_text_cells_lose_control_characters_and_extra_space_and_are_capped() -> None:
    found: list[Problem] = []
    assert clean_text("  Ops\x07 \t team ", limit=20, column="area", row=2, problems=found) == "Ops team"
    assert clean_text("l1  \n\n  l2\r\n", limit=20, column="notes", row=2, problems=found, multiline=True) == "l1\nl2"
    assert clean_text(12.0, limit=20, column="owner", row=2, problems=found) == "12"  # not "12.0"
    assert found == []
    assert clean_text("x" * 21, limit=20, column="area", row=3, problems=found) == ""
    assert clean_text(FORMULA, limit=20, column="notes", row=4, problems=found) == ""
    assert clean_text(UNCALCULATED, limit=20, column="owner", row=5, problems=found) == ""
    assert [str(p) for p in found] == [
        "row 3, column area: is 21 characters long; at most 20 are allowed",
        "row 4, column notes: formulas are not accepted; paste values",
        "row 5, column owner: is a formula whose result was never saved (the file was written by a program, not by "
        "a spreadsheet); open it in Excel or LibreOffice, save it and upload it again, or paste values",
    ]


def test_a_problem_names_its_row_and_columns_or_reads_as_a_sentence() -> None:
    assert str(Problem(3, "actual, forecast", "are empty")) == "row 3, columns actual, forecast: are empty"
    assert str(Problem(3, None, "unknown column 'x'")) == "row 3: unknown column 'x'"
    assert str(Problem(None, None, "the file is empty")) == "The file is empty"


def test_every_problem_is_listed_under_one_summary_up_to_fifty() -> None:
    error = ContextInputError([Problem(n, "plan", "must be more than 0") for n in range(2, 62)])
    lines = str(error).split("\n")
    assert lines[0] == "60 problems found; nothing was saved. Fix them and try again."
    assert lines[1] == "- row 2, column plan: must be more than 0" and len(lines) == 52
    assert lines[-1] == "- … and 10 more"
    assert len(error.problems) == 60
    # one problem is "it", not "them"
    assert str(ContextInputError([Problem(2, "plan", "must be more than 0")])).split("\n")[0] == (
        "1 problem found; nothing was saved. Fix it and try again."
    )
    one = ContextInputError.single("The CSV file is empty.")
    assert str(one) == one.summary == "The CSV file is empty." and isinstance(one, ValueError)
    assert str(ContextInputError([Problem(2, "plan", "x")])).startswith("1 problem found; nothing was saved.")


def test_ids_made_from_names_are_short_unique_and_never_empty() -> None:
    taken: set[str] = set()
    made = [slugify(name, taken) for name in ("Cloud Infrastructure", "cloud infrastructure!", "★★", "", "x" * 100)]
    assert made == ["cloud-infrastructure", "cloud-infrastructure-2", "item", "item-2", "x" * 60]
    assert taken == set(made)
    assert shorten("a   b\n c") == "a b c" and shorten("x" * 50) == "x" * 39 + "…"


@pytest.mark.parametrize(("value", "quoted"), [(-5, "-5"), (-5.0, "-5"), (-1234567.5, "-1234567.5")])
def test_a_negative_number_from_a_spreadsheet_is_refused_as_negative_text_is(value: float, quoted: str) -> None:
    """A refund written as -5 in an Excel cell passed the row check and then failed the row's own
    model (actual >= 0): the Context page showed a pydantic traceback instead of the row's problem."""
    assert amount(value) == (None, [f"row 2, column plan: '{quoted}' is negative; amounts must be 0 or more"])


def test_a_text_cell_loses_the_invisible_characters_a_copied_cell_brings() -> None:
    # "Ops" and "Ops" + a zero-width space looked alike on the page and were two budget areas
    problems: list[Problem] = []
    for cell in ("Ops\u200b", "\ufeffOps", "\u200e Ops \u2060", "O\u200bps"):
        assert clean_text(cell, limit=40, column="area", row=2, problems=problems) == "Ops", repr(cell)
    # a joiner inside an emoji sequence is part of it; across lines each line is trimmed
    assert clean_text("R&D \U0001f469\u200d\U0001f4bb", limit=40, column="area", row=2, problems=problems) == (
        "R&D \U0001f469\u200d\U0001f4bb"
    )
    assert clean_text(" a\u200b\n\u200b\nb ", limit=40, column="notes", row=2, problems=problems, multiline=True) == (
        "a\nb"
    )
    assert problems == []


def test_an_area_named_again_with_an_invisible_character_is_the_same_area() -> None:
    from assistant.context.budget_io import parse_budget_csv

    with pytest.raises(ContextInputError, match="'Ops' is already on row 2"):
        parse_budget_csv("area,plan,actual,forecast\nOps,10,1,9\nOps\u200b,20,2,19\n".encode())
