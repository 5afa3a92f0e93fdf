"""Budget amounts as a file writes them: a ;-separated file's decimal commas and dot groups, "1.200"
refused rather than guessed, the currency the signs say, and a row that adds up the others."""

from __future__ import annotations

import pytest

from assistant.context.amounts import budget_amount, file_currency, records_currency, total_rows
from assistant.context.budget_io import budget_file_of, parse_budget_csv
from assistant.context.row_checks import ContextInputError, Problem

HEADER = "area,owner,plan,actual,forecast,notes\n"


def problems(data: bytes) -> list[str]:
    with pytest.raises(ContextInputError) as info:
        parse_budget_csv(data)
    return [str(p) for p in info.value.problems]


def test_a_row_that_adds_up_the_others_is_refused_whatever_its_name() -> None:
    """'Total:', 'TOTAL BUDGET', 'Gesamt' or 'Total company' at the foot of a sheet were saved as one
    more area: the page's plan, actual and forecast and the agent's totals all counted twice."""
    for name in ("Total:", "TOTAL BUDGET", "Gesamt", "Total company"):
        data = (HEADER + f"Engineering,,100,50,90,\nSales,,200,50,190,\n{name},,300,100,280,\n").encode()
        assert problems(data) == [
            f"row 4, column area: '{name}' adds up the other rows (plan, actual and forecast); remove it: "
            "the page adds the areas up itself"
        ], name
    rows = parse_budget_csv((HEADER + "Engineering,,100,50,90,\nSales,,200,50,190,\nOps,,300,100,100,\n").encode())
    assert [r.area for r in rows] == ["Engineering", "Sales", "Ops"]  # a plan alone adding up is an area


def test_a_decimal_comma_in_a_semicolon_file_is_read_as_one() -> None:
    """A European export ("1200,50" in a ;-separated file) was refused with "write it like 1250000
    or 1,250,000": a thousands comma, for a cell whose comma is a decimal one. A comma that is not
    a thousands group there (two decimals, a dot-grouped whole part) can only be decimal."""
    rows = parse_budget_csv("area;plan;actual;forecast\nOps;1200,50;\u20ac 1.250.000,75;0,5\n".encode())
    assert (rows[0].plan, rows[0].actual, rows[0].forecast) == (1200.5, 1250000.75, 0.5)
    assert parse_budget_csv(b"area;plan;actual;forecast\nOps;1,250,000;1;1\n")[0].plan == 1250000
    assert problems(b"area;plan;actual;forecast\nOps;1,200;1;1\n") == [
        "row 2, column plan: '1,200' could be read two ways in a file separated by semicolons (1200 or 1.2); "
        "write it without the comma (1200) or with a decimal point (1.2)"
    ]
    assert problems(b"area;plan;actual;forecast\nOps;-12,50;1;1\n") == [
        "row 2, column plan: '-12,50' is negative; amounts must be 0 or more"
    ]


def test_a_dot_grouped_amount_in_a_semicolon_file_is_refused_not_guessed() -> None:
    found = problems(b"area;plan;actual;forecast\nOps;1.200;1200.50;\xe2\x82\xac 12.500\n")
    assert found == [
        "row 2, column plan: '1.200' could be read two ways in a file separated by semicolons (1200 or 1.2); "
        "write it without the dot (1200) or with a decimal comma (1,2)",
        "row 2, column forecast: '€ 12.500' could be read two ways in a file separated by semicolons "
        "(12500 or 12.5); write it without the dot (12500) or with a decimal comma (12,5)",
    ]
    rows = parse_budget_csv(b"area;plan;actual;forecast\nOps;\xe2\x82\xac 2.500.000;1;1.200,5\n")
    assert (rows[0].plan, rows[0].forecast) == (2500000, 1200.5), "a dot given twice groups thousands"
    assert parse_budget_csv(b"area,plan,actual,forecast\nOps,1.25,1,1\n")[0].plan == 1.25, (
        "a comma file: a decimal point"
    )


def test_the_currency_of_the_amounts_is_kept_and_two_currencies_are_refused() -> None:
    """'2.500.000,00 €' was read as 2500000 and told in dollars by the page and the agent."""
    rows = parse_budget_csv("area;plan;actual;forecast\nF&E;2.500.000,00 €;1.400.000 €;2.750.000,00 €\n".encode())
    assert {r.currency for r in rows} == {"EUR"}
    assert budget_file_of(rows).currency == "EUR"
    assert parse_budget_csv(b"area,plan,actual,forecast\nOps,100,50,90\n")[0].currency is None  # the default then
    assert budget_file_of(parse_budget_csv(b"area,plan,actual,forecast\nOps,100,50,90\n")).currency == "USD"
    assert problems("area,plan,actual,forecast\nOps,£100,£50,£90\nR&D,$100,$50,$90\n".encode()) == [
        "row 3, column plan: is in $ but row 2 is in £; a budget is in one currency"
    ]


def test_a_dot_grouped_amount_in_a_comma_file_is_refused_not_read_a_thousand_times_smaller() -> None:
    """Google Sheets writes its CSV with commas in every locale, and the amounts as a German sheet
    shows them: '750.000 €' (750,000) was read as 750, the whole budget a thousand times smaller."""
    data = 'Area,Owner,Plan,Actual,Forecast,Notes\r\nVertrieb,Anna,"750.000 €","300.000 €","0.500",\r\n'.encode()
    assert problems(data) == [
        "row 2, column plan: '750.000 €' could be read two ways (750000 or 750.0); "
        "write it without the dot (750000) or as 750.0",
        "row 2, column actual: '300.000 €' could be read two ways (300000 or 300.0); "
        "write it without the dot (300000) or as 300.0",
    ]


def amount(raw: object, *, semicolons: bool) -> tuple[float | None, list[str]]:
    found: list[Problem] = []
    value = budget_amount(raw, "plan", 2, found, dot_groups_thousands=semicolons)
    return value, [str(p) for p in found]


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1 200,50", 1200.5),  # a space groups thousands, as a French or German sheet shows them
        ("\u00a01\u202f250\u202f000,75 €", 1250000.75),  # no-break and narrow no-break spaces
        ("£ 12,5", 12.5),
        ("1.234.567", 1234567),
        ("0.500", 0.5),  # a leading zero: only a decimal
        (1200.5, 1200.5),  # a spreadsheet's number is taken as it is
    ],
)
def test_amounts_of_a_semicolon_file_read_as_europe_writes_them(raw: object, value: float) -> None:
    assert amount(raw, semicolons=True) == (value, [])


def test_a_negative_amount_in_parentheses_is_refused_as_written() -> None:
    assert amount("(1.200,50)", semicolons=True) == (
        None,
        ["row 2, column plan: '(1.200,50)' is negative; amounts must be 0 or more"],
    )


def test_words_and_dot_grouped_amounts_of_a_comma_file_are_refused_with_a_hint() -> None:
    assert amount("lots", semicolons=True) == (
        None,
        ["row 2, column plan: 'lots' is not a number (write it like 1250000 or 1,250,000)"],
    )
    assert amount("2.500.000", semicolons=False) == (
        None,
        ["row 2, column plan: '2.500.000' is not a number (write it like 1250000 or 1,250,000)"],
    )
    assert amount(" 1.200 ", semicolons=False)[1] == [
        "row 2, column plan: '1.200' could be read two ways (1200 or 1.2); write it without the dot (1200) or as 1.2"
    ]
    assert amount("$1,200.75", semicolons=False) == (1200.75, [])


def test_the_currency_is_the_one_sign_the_amounts_carry() -> None:
    found: list[Problem] = []
    assert file_currency([(2, "plan", "€1"), (2, "actual", "1 €"), (3, "plan", 5)], found) == "EUR"
    assert file_currency([(2, "plan", "¥1000")], found) == "JPY"
    assert file_currency([(2, "plan", "1000"), (3, "plan", 12.5)], found) is None  # no sign: the default applies
    assert found == []


def test_every_amount_in_another_currency_is_named_and_none_is_chosen() -> None:
    found: list[Problem] = []
    cells = [(2, "plan", "€1"), (3, "plan", "$5"), (4, "actual", "£5")]
    assert file_currency(cells, found) is None
    assert [str(p) for p in found] == [
        "row 3, column plan: is in $ but row 2 is in €; a budget is in one currency",
        "row 4, column actual: is in £ but row 2 is in €; a budget is in one currency",
    ]


def test_records_currency_reads_only_the_amount_columns() -> None:
    """An area named "Café €urope" or a note "$ saved" is not an amount in dollars or euros."""
    found: list[Problem] = []
    records = [(2, ["Café €urope", "1000 €", "note: $ saved"]), (3, ["Ops", "200 €"])]
    assert records_currency(records, [("plan", 1)], found) == "EUR"
    assert found == []


def test_two_areas_cannot_be_a_total_and_a_total_of_rows_is_found_wherever_it_sits() -> None:
    assert total_rows([(2, "a", (1.0, 1.0, 1.0)), (3, "b", (1.0, 1.0, 1.0))]) == []  # each is the "sum" of the other
    rows = [
        (2, "All areas", (300.0, 100.0, 280.0)),
        (3, "Eng", (100.0, 50.0, 90.0)),
        (4, "Sales", (200.0, 50.0, 190.0)),
    ]
    assert [(p.row, p.column) for p in total_rows(rows)] == [(2, "area")]
    near = [(2, "Eng", (100.0, 50.0, 90.0)), (3, "Sales", (200.0, 50.0, 190.0)), (4, "Ops", (300.0, 100.0, 281.0))]
    assert total_rows(near) == []  # one amount off: an area
