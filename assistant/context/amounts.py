"""A budget file's amount cells, where a ;-separated file (Excel's European layout) changes how they read.

In a ;-separated file a comma is a decimal one ("1200,50", "1.250.000,75") and a dot groups
thousands when it comes twice ("2.500.000"); a single group ("1.200", "1,200": 1200 or 1.2?)
is refused rather than guessed, and so is "1.200" in any file (a German Google Sheet's CSV).
Everything else is :func:`~assistant.context.row_checks.parse_amount`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from assistant.context.row_checks import Problem, parse_amount

# "1.200" in a ;-separated file (the European layout, where "." groups thousands): 1200 or 1.2?
_DOT_THOUSANDS = re.compile(r"\D*\d{1,3}(\.\d{3})+\D*")
# A decimal comma in a ;-separated file ("1200,50", "1.250.000,75"); "1,200" alone is 1200 or 1.2.
_DECIMAL_COMMA = re.compile(r"(\D*?)(\d{1,3}(?:\.\d{3})+|\d+),(\d+)(\D*)")
_ONE_COMMA_GROUP = re.compile(r"\d{1,3},\d{3}")
_DIGIT_SPACES = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d)")


def budget_amount(
    raw: Any, column: str, row: int, problems: list[Problem], *, dot_groups_thousands: bool
) -> float | None:
    """One amount cell (see :func:`parse_amount`); "1.200" (1200 or 1.2?) is refused in any file."""
    if isinstance(raw, str) and _DOT_THOUSANDS.fullmatch(raw.strip()):
        number = re.sub(r"[^\d.]", "", raw)
        if number.count(".") > 1 and dot_groups_thousands:  # "2.500.000": only a thousands separator comes twice
            return parse_amount(raw.replace(".", ""), column=column, row=row, problems=problems)
        head, tail = number.split(".", 1)
        if number.count(".") == 1 and head != "0":  # "0.500" can only be a decimal
            problems.append(_two_readings(raw, head, tail, column, row, dot_groups_thousands=dot_groups_thousands))
            return None
    if dot_groups_thousands and isinstance(raw, str):
        return _semicolon_amount(raw, column, row, problems)
    return parse_amount(raw, column=column, row=row, problems=problems)


def _two_readings(raw: str, head: str, tail: str, column: str, row: int, *, dot_groups_thousands: bool) -> Problem:
    """The problem of "1.200": a German sheet's 1,200 (Google Sheets writes its CSV with commas in
    every locale, so a comma file holds such amounts too) or 1.2; refused rather than guessed."""
    decimal = f"{head}.{tail.rstrip('0') or '0'}"
    if dot_groups_thousands:
        where, other = " in a file separated by semicolons", f"with a decimal comma ({decimal.replace('.', ',')})"
    else:
        where, other = "", f"as {decimal}"
    return Problem(
        row,
        column,
        f"'{raw.strip()[:40]}' could be read two ways{where} ({head}{tail} or {decimal}); "
        f"write it without the dot ({head}{tail}) or {other}",
    )


def _semicolon_amount(raw: str, column: str, row: int, problems: list[Problem]) -> float | None:
    """An amount of a ;-separated file, where a comma is a decimal one (Excel's European layout):
    "1200,50" is 1200.5 and "1.250.000,75" 1250000.75; "1,200" (1200 or 1.2?) is refused."""
    text = _DIGIT_SPACES.sub("", raw.strip())
    match = _DECIMAL_COMMA.fullmatch(text)
    if match is None:
        return parse_amount(raw, column=column, row=row, problems=problems)
    before, whole, fraction, after = match.groups()
    if _ONE_COMMA_GROUP.fullmatch(f"{whole},{fraction}"):
        problems.append(
            Problem(
                row,
                column,
                f"'{raw.strip()[:40]}' could be read two ways in a file separated by semicolons "
                f"({whole}{fraction} or {whole}.{fraction.rstrip('0') or '0'}); write it without the comma "
                f"({whole}{fraction}) or with a decimal point ({whole}.{fraction.rstrip('0') or '0'})",
            )
        )
        return None
    if before.strip().startswith(("-", "(")):  # refused as negative, quoted as the user wrote it
        return parse_amount(raw, column=column, row=row, problems=problems)
    decimal = f"{before}{whole.replace('.', '')}.{fraction}{after}"
    return parse_amount(decimal, column=column, row=row, problems=problems)


# The signs an amount may carry (parse_amount drops them) and the currency each one writes.
CURRENCY_CODES = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
CURRENCY_SIGNS = {code: sign for sign, code in CURRENCY_CODES.items()}


def file_currency(cells: Iterable[tuple[int, str, Any]], problems: list[Problem]) -> str | None:
    """The currency a file's amounts are written in, from their signs ("2.500.000,00 €": EUR), or
    None when none carries one. Amounts in two currencies are a problem: a budget is in one.

    Args:
        cells: ``(row, column, cell)`` of every amount cell.
        problems: Where a problem is added.
    """
    first: dict[str, int] = {}
    for row, column, raw in cells:
        for sign in dict.fromkeys(c for c in raw if c in CURRENCY_CODES) if isinstance(raw, str) else ():
            if first and sign not in first:
                other, at = next(iter(first.items()))
                problems.append(
                    Problem(row, column, f"is in {sign} but row {at} is in {other}; a budget is in one currency")
                )
            first.setdefault(sign, row)
    return CURRENCY_CODES[next(iter(first))] if len(first) == 1 else None


def records_currency(
    records: Sequence[tuple[int, Sequence[Any]]], columns: Sequence[tuple[str, int]], problems: list[Problem]
) -> str | None:
    """:func:`file_currency` of the amount cells of ``records`` (``(row, cells)``), ``columns``
    naming each amount column and its cell index."""
    cells = ((n, name, row[i]) for n, row in records for name, i in columns if i < len(row))
    return file_currency(cells, problems)


def total_rows(rows: Sequence[tuple[int, str, tuple[float, ...]]]) -> list[Problem]:
    """Rows whose every amount (plan, actual, forecast) is the sum of all the other rows': a
    total row under any name ("Total:", "TOTAL BUDGET", "Gesamt"), which would count every
    amount twice in the totals the page and the agent give.

    Args:
        rows: ``(row number, area, amounts)`` of each row.
    """
    if len(rows) < 3:
        return []
    sums = [sum(amounts[i] for _, _, amounts in rows) for i in range(len(rows[0][2]))]
    return [
        Problem(
            number,
            "area",
            f"'{area}' adds up the other rows (plan, actual and forecast); remove it: "
            "the page adds the areas up itself",
        )
        for number, area, amounts in rows
        if all(abs(2 * amount - total) < 0.01 for amount, total in zip(amounts, sums, strict=True))
    ]


__all__ = ["CURRENCY_CODES", "CURRENCY_SIGNS", "budget_amount", "file_currency", "records_currency", "total_rows"]
