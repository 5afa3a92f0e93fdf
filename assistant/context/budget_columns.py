"""Which columns of a budget sheet are the budget's: header names, their common synonyms, and the rest ignored.

A finance sheet names its columns its own way ("Department", "Annual budget", "YTD actual",
"Full-year forecast", "Comments") and carries more than the budget reads (cost center, quarters,
variance, % spent). Each budget column has accepted names in a fixed order, the template's own
first; a header cell is matched on its name lower-cased, with spaces and dashes as underscores.
When a sheet holds two names for one column ("Plan" and "Budget"), the earlier name in that
order is read and the other is ignored, and both are said. Every other column is ignored and
named. A header cell repeating the name read (two "Owner" columns), or a required column with
no name at all, is a problem of the header row.

A header may end with its unit in brackets: a currency ("Budget ($)", "Spent (EUR)") sets the
budget's currency when the amounts carry no sign, and a scale ("Budget ($K)", "Forecast (in
millions)", "Plan ('000)") multiplies its column's amounts. Any other bracket is part of the
name ("Actual (YTD)" is "actual_ytd"); "Spent (%)" names no column, and is ignored. A fiscal
year beside the name ("Budget FY26", "FY2026 Budget", "Budget 2026/27") and a closing dot
("Dept.") are not part of it.

A "Cost center" is never the area: it is usually a code (4100, "CC-ENG") beside the
department's name, so a sheet with both is read by department, never ambiguously.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from assistant.context.amounts import CURRENCY_CODES, CURRENCY_SIGNS
from assistant.context.row_checks import ContextInputError, FormulaCell, Problem, is_blank, shorten

COLUMNS = ("area", "owner", "plan", "actual", "forecast", "notes", "plan_to_date")
REQUIRED = ("area", "plan", "actual", "forecast")
AMOUNTS = ("plan", "actual", "forecast", "plan_to_date")
# Each column's accepted header names, in the order one is preferred when a sheet has several.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "area": ("area", "department", "category", "budget_area", "dept"),
    "owner": ("owner", "responsible", "lead", "budget_owner"),
    "plan": ("plan", "budget", "annual_budget", "full_year_budget", "fy_budget", "annual_plan", "full_year_plan"),
    "actual": (
        "actual",
        "actuals",
        "spent",
        "actual_to_date",
        "actuals_to_date",
        "ytd_actual",
        "ytd_actuals",
        "actual_ytd",
        "actuals_ytd",
        "spent_to_date",
        "spend",
        "spend_to_date",
        "ytd_spend",
    ),
    "forecast": (
        "forecast",
        "full_year_forecast",
        "projection",
        "outlook",
        "fy_forecast",
        "year_end_forecast",
        "projected_spend",
        "full_year_outlook",
    ),
    "notes": ("notes", "note", "comments", "comment", "remarks"),
    "plan_to_date": ("plan_to_date", "ytd_plan", "plan_ytd", "ytd_budget", "budget_ytd", "budget_to_date"),
}
_COLUMN_OF = {name: column for column, names in SYNONYMS.items() for name in names}
IGNORED_NAMED = 12  # ignored columns named one by one; the rest are counted
HEADER_SEARCH_ROWS = 5  # non-blank rows a title and notes above the header may take
_UNIT = re.compile(r"(?P<name>.*?)\s*[(\[](?P<unit>[^()\[\]]*)[)\]]\s*")
_CURRENCY = {**{sign: code for sign, code in CURRENCY_CODES.items()}, **{c.lower(): c for c in CURRENCY_SIGNS}}
_SCALES = {"k": 1e3, "000": 1e3, "000s": 1e3, "'000": 1e3, "'000s": 1e3, "thousand": 1e3, "thousands": 1e3}
_SCALES |= {"m": 1e6, "mm": 1e6, "mn": 1e6, "million": 1e6, "millions": 1e6}
_CURRENCY_WORD = "|".join(re.escape(c) for c in _CURRENCY)
_SCALE_WORD = "|".join(re.escape(s) for s in sorted(_SCALES, key=len, reverse=True))
_UNIT_WORDS = (
    re.compile(rf"(?P<currency>{_CURRENCY_WORD})?(?P<scale>{_SCALE_WORD})?"),
    re.compile(rf"(?P<scale>{_SCALE_WORD})(?P<currency>{_CURRENCY_WORD})"),
)


@dataclass(frozen=True)
class HeaderCell:
    """A header cell as it is matched.

    Attributes:
        name: Lower case, spaces and dashes as underscores, its unit left out ("" for none).
        currency: The currency its unit names ("EUR"), if any.
        scale: What its amounts are multiplied by (1000 for "$K").
    """

    name: str
    currency: str | None = None
    scale: float = 1.0


# a fiscal year beside a column's name: "Budget FY26", "FY2026 Budget", "Budget 2026/27", "Forecast FY'26"
_YEAR_WORD = re.compile(r"fy|(?:fy)?'?\d{2}(?:\d{2})?(?:/\d{2}(?:\d{2})?)?")


def _name(text: str) -> str:
    words = text.strip().lower().replace("-", " ").replace("(", " ").replace(")", " ").replace(".", " ").split()
    named = [word for word in words if not _YEAR_WORD.fullmatch(word)]
    return "_".join(named or words)


def read_header(value: Any) -> HeaderCell:
    """A header cell's name and the unit its brackets give ("Budget ($K)": budget, USD, ×1000)."""
    if isinstance(value, FormulaCell) or is_blank(value):
        return HeaderCell("")
    text = str(value).strip()
    bracket = _UNIT.fullmatch(text)
    if bracket is not None:
        unit = re.sub(r"\s+", "", re.sub(r"\bin\b", " ", bracket["unit"].lower()))
        for pattern in _UNIT_WORDS:
            words = pattern.fullmatch(unit)
            if words is not None and unit:
                currency = _CURRENCY[words["currency"]] if words["currency"] else None
                return HeaderCell(_name(bracket["name"]), currency, _SCALES.get(words["scale"] or "", 1.0))
    return HeaderCell(_name(text))


def header_name(value: Any) -> str:
    """A header cell as it is matched: lower case, spaces and dashes as underscores, without its unit."""
    return read_header(value).name


def column_of(value: Any) -> str | None:
    """The budget column a header cell names, if it names one."""
    return _COLUMN_OF.get(header_name(value))


def column_letter(index: int) -> str:
    """A 0-based column index as the spreadsheet shows it: 0 → "A", 26 → "AA"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def names_every_required(cells: Sequence[Any]) -> bool:
    """Whether a row names every required column (so it is the header)."""
    found = {column_of(cell) for cell in cells}
    return all(c in found for c in REQUIRED)


def header_index(numbered: Sequence[tuple[int, Sequence[Any]]]) -> int | None:
    """Which of a sheet's first HEADER_SEARCH_ROWS non-blank rows names every required column, if one does."""
    return next((i for i, (_, cells) in enumerate(numbered[:HEADER_SEARCH_ROWS]) if names_every_required(cells)), None)


@dataclass(frozen=True)
class BudgetColumns:
    """The sheet's columns the budget reads, and the ones it ignores.

    Attributes:
        positions: Budget column → its cell index in each row.
        headers: Budget column → the header as written in the sheet.
        ignored: The other columns as written ("column H (no header)" for an unnamed one holding data).
    """

    positions: dict[str, int]
    headers: dict[str, str]
    ignored: tuple[str, ...]
    scales: dict[str, float] = field(default_factory=dict)
    currency: str | None = None

    def renamed(self) -> list[tuple[str, str]]:
        """``(budget column, header)`` for each column read under another name than the template's, or scaled."""
        return [
            (c, self.headers[c])
            for c in COLUMNS
            if c in self.headers and (header_name(self.headers[c]) != c or c in self.scales)
        ]

    def note(self) -> str:
        """What was read from where and what was ignored, as sentences ("" when the sheet is the template's)."""
        parts = []
        renamed = [
            f"{c.replace('_', ' ')} from “{h}”" + (f" ×{self.scales[c]:,.0f}" if c in self.scales else "")
            for c, h in self.renamed()
        ]
        if renamed:
            parts.append("Read " + ", ".join(renamed) + ".")
        if self.ignored:
            named = ", ".join(self.ignored[:IGNORED_NAMED])
            rest = len(self.ignored) - IGNORED_NAMED
            parts.append(f"Ignored columns: {named}" + (f" and {rest} more." if rest > 0 else "."))
        return " ".join(parts)


def _written(cell: Any) -> str:
    """A header cell as the sheet shows it (a month's date as "2026-01", not "2026-01-01 00:00:00")."""
    if isinstance(cell, datetime):
        cell = cell.date()
    if isinstance(cell, date):
        return cell.isoformat()[:7] if cell.day == 1 else cell.isoformat()
    return shorten(str(cell).strip())


def match_header(cells: Sequence[Any], row: int, data: Sequence[Sequence[Any]]) -> BudgetColumns:
    """The budget's columns in a header row; the rest are ignored and named.

    Args:
        cells: The header row's cells.
        row: Its row number as the user sees it, for problems.
        data: The rows below it, to tell an unnamed column holding data (named as ignored)
            from an empty one (not named).

    Returns:
        Where each budget column is, and what is ignored.

    Raises:
        ContextInputError: A column read appears twice, or a required column is missing.
    """
    candidates: dict[str, list[int]] = {}
    for index, cell in enumerate(cells):
        column = column_of(cell)
        if column is not None:
            candidates.setdefault(column, []).append(index)
    problems: list[Problem] = []
    positions: dict[str, int] = {}
    for column, indexes in candidates.items():
        rank = SYNONYMS[column].index
        best = min(rank(header_name(cells[i])) for i in indexes)
        chosen = [i for i in indexes if rank(header_name(cells[i])) == best]
        positions[column] = chosen[0]
        if len(chosen) > 1:
            where = " and ".join(column_letter(i) for i in chosen)
            problems.append(
                Problem(row, column, f"“{_written(cells[chosen[0]])}” appears twice (columns {where}); keep one")
            )
    for column in REQUIRED:
        if column not in positions:
            first, second, third = (n.replace("_", " ") for n in SYNONYMS[column][:3])
            # "Plan (lol)", "Budget Q1": a header that begins like one was not taken for it; say which
            near = next((c for c in cells if header_name(c).startswith(tuple(f"{n}_" for n in SYNONYMS[column]))), None)
            hint = f" (“{_written(near)}” is not read as {column})" if near is not None else ""
            problems.append(Problem(row, None, f"missing column {column}; name it {first}, {second} or {third}{hint}"))
    if problems:
        summary = "The header row does not name the budget's columns; it needs an area, plan, actual and forecast."
        raise ContextInputError(sorted(problems, key=lambda p: COLUMNS.index(p.column) if p.column else 99), summary)
    used = set(positions.values())
    width = max([len(cells), *(len(r) for r in data)], default=0)
    ignored = []
    for index in range(width):
        if index in used:
            continue
        cell = cells[index] if index < len(cells) else None
        if header_name(cell):
            ignored.append(_written(cell))
        elif any(index < len(r) and not is_blank(r[index]) for r in data):
            ignored.append(f"column {column_letter(index)} (no header)")
    headers = {c: _written(cells[i]) for c, i in positions.items()}
    units = {c: read_header(cells[i]) for c, i in positions.items() if c in AMOUNTS}
    scales = {c: unit.scale for c, unit in units.items() if unit.scale != 1}
    currencies = {unit.currency: headers[c] for c, unit in units.items() if unit.currency}
    if len(currencies) > 1:
        named = " and ".join(f"“{h}”" for h in currencies.values())
        raise ContextInputError([Problem(row, None, f"{named} name two currencies; a budget is in one")])
    currency = next(iter(currencies), None)
    return BudgetColumns(positions, headers, tuple(ignored), scales=scales, currency=currency)
