"""A user's budget as rows: read from an uploaded CSV or XLSX, checked row by row, and templates.

Columns (header names matched case-insensitively; spaces and dashes count as underscores):
``area``, ``owner``, ``plan`` (the full-year budget, more than 0), ``actual`` (spent to date),
``forecast`` (expected full-year spend), ``notes``, and optionally ``plan_to_date`` (what the
plan expected to be spent by now; it drives the "spending ahead of plan" flag); common other
names ("Department", "Annual budget", "YTD actual", "Comments") are read as these, and any other
column is ignored and named (:mod:`~assistant.context.budget_columns`). Amounts may
carry a currency symbol and thousands separators (``$1,250,000``; the sign sets the budget's
currency, "€" EUR, one for the whole file); in a ;-separated file (Excel's European layout) a
decimal comma is read as one (``1200,50``, ``1.250.000,75``). A workbook's formula is read as
the value the spreadsheet last calculated and saved with it; one without (a file a program wrote
and no spreadsheet saved) is refused, and so is a CSV's text starting with "=". Words are refused
with the row and column, and so are a total row (it would count every amount twice: named so,
or any row whose plan, actual and forecast add up the others), a decimal comma in a
,-separated file, a dot that could group thousands or mark decimals ("1.200": 1200 or 1.2?) in
any file and, in a ;-separated file, such a comma ("1,200"; "2.500.000" can only be thousands).
Excel's ``sep=;`` first line sets the separator; a title or notes above the header row are
skipped. A bad file raises one
:class:`~assistant.context.row_checks.ContextInputError` listing every problem.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.context.amounts import budget_amount, records_currency, total_rows
from assistant.context.budget import BudgetArea, BudgetFile, BudgetThresholds
from assistant.context.budget_columns import (
    AMOUNTS,
    COLUMNS,
    REQUIRED,
    BudgetColumns,
    header_index,
    match_header,
)
from assistant.context.budget_sheets import MAX_ROWS, workbook_sheet
from assistant.context.row_checks import (
    FORMULA,
    ContextInputError,
    Problem,
    clean_text,
    is_blank,
    slugify,
)

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 2 * 1024 * 1024
# Python's csv reader refuses a cell past 131,072 characters ("field larger than field limit")
# before any check of ours runs: a long pasted note, or a quote never closed in a bigger file, was
# refused in those words. A CSV is at most MAX_FILE_BYTES, so no cell of one reaches this limit;
# the row checks name a cell too long (NOTES_CHARS) and a quote never closed. Only ever raised.
csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES + 1))
AREA_CHARS = 120
OWNER_CHARS = 120
NOTES_CHARS = 2000

# An area named like this is the sheet's own sum of the rows above: saved as an area, it would
# count every amount twice in the totals the page and the agent give.
_TOTAL_AREA = re.compile(r"(grand\s+)?(sub)?totals?|sum|all\s+areas", re.IGNORECASE)
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format


class BudgetRow(BaseModel):
    """One budget area as the user edits it.

    Attributes:
        area: The area's name, unique within the budget.
        owner: Who owns it (free text).
        plan: The full-year budget (more than 0).
        actual: Spent to date (0 or more).
        forecast: Expected full-year spend (0 or more).
        notes: Free text.
        plan_to_date: What the plan expected to be spent by now, when known.
        currency: The currency the file's amounts were written in (their sign: "€" is EUR), if any.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    area: str = Field(min_length=1, max_length=AREA_CHARS)
    owner: str = Field(default="", max_length=OWNER_CHARS)
    plan: float = Field(gt=0)
    actual: float = Field(ge=0)
    forecast: float = Field(ge=0)
    notes: str = Field(default="", max_length=NOTES_CHARS)
    plan_to_date: float | None = Field(default=None, gt=0)
    currency: str | None = Field(default=None, max_length=8)


@dataclass(frozen=True)
class BudgetUpload:
    """A checked budget file: its rows, and which of its columns were read and ignored.

    Attributes:
        rows: The budget rows, in file order.
        columns: The sheet's columns read as the budget's, and the ones ignored.
    """

    rows: list[BudgetRow]
    columns: BudgetColumns


def _header_and_rows(numbered: list[tuple[int, list[Any]]]) -> tuple[BudgetColumns, list[tuple[int, list[Any]]]]:
    """The header's columns and the rows below it with something in them. A sheet may start
    with its title and a note or two (a merged "FY2026 budget" row): the header is the first of
    the first few rows that names every required column, else the first row (its
    problems named). A row with cells only in ignored columns (a quarter's subtotal) is skipped."""
    index = header_index(numbered) or 0
    header_row, header = numbered[index]
    below = numbered[index + 1 :]
    columns = match_header(header, header_row, [cells for _, cells in below])
    read = columns.positions.values()
    return columns, [(n, cells) for n, cells in below if any(not is_blank(_at(cells, i)) for i in read)]


def _at(cells: Sequence[Any], index: int) -> Any:
    return cells[index] if index < len(cells) else None


def _problem_order(problem: Problem) -> tuple[int, int]:
    first = (problem.column or "").split(", ")[0]
    return (problem.row or 0, COLUMNS.index(first) if first in COLUMNS else len(COLUMNS))


def budget_rows(
    records: Iterable[tuple[int, Sequence[Any]]],
    positions: dict[str, int],
    *,
    dot_groups_thousands: bool = False,
    scales: Mapping[str, float] | None = None,
    currency: str | None = None,
) -> list[BudgetRow]:
    """Check every data row and build the budget rows, or raise one error listing every problem.

    Args:
        records: ``(row number as the user sees it, cells)`` for each non-empty data row.
        positions: Column name → cell index (from the header).
        dot_groups_thousands: The file may use "." to group thousands (a ;-separated CSV): an
            amount like "1.200" could be 1200 or 1.2, and is refused rather than guessed.
        scales: Amount column → what its amounts are multiplied by (a "Budget ($K)" header).
        currency: The currency the header names ("Budget (EUR)"), when the amounts carry no sign.

    Returns:
        The rows, in file order.

    Raises:
        ContextInputError: If any row has a problem, the file has no rows or too many.
    """
    problems: list[Problem] = []
    rows: list[BudgetRow] = []
    seen: dict[str, int] = {}
    records = list(records)
    for count, (number, cells) in enumerate(records, start=1):
        if count > MAX_ROWS:
            raise ContextInputError.single(f"The file has more than {MAX_ROWS} rows; split it or remove empty rows.")

        def cell(name: str, cells: Sequence[Any] = cells) -> Any:
            index = positions.get(name)
            return cells[index] if index is not None and index < len(cells) else None

        before = len(problems)
        area = clean_text(cell("area"), limit=AREA_CHARS, column="area", row=number, problems=problems)
        owner = clean_text(cell("owner"), limit=OWNER_CHARS, column="owner", row=number, problems=problems)
        notes = clean_text(cell("notes"), limit=NOTES_CHARS, column="notes", row=number, problems=problems)
        amounts = {
            name: _scaled(
                budget_amount(cell(name), name, number, problems, dot_groups_thousands=dot_groups_thousands),
                (scales or {}).get(name, 1.0),
            )
            for name in AMOUNTS
        }
        empty = [name for name in REQUIRED if is_blank(cell(name))]
        if empty:
            verb = "are" if len(empty) > 1 else "is"
            problems.append(
                Problem(number, ", ".join(empty), f"{verb} empty; every row needs an area, plan, actual and forecast")
            )
        for name in ("plan", "plan_to_date"):
            if amounts[name] == 0:
                problems.append(Problem(number, name, "must be more than 0"))
        _check_area(area, number, seen, problems)
        if len(problems) == before:
            rows.append(
                BudgetRow(
                    area=area,
                    owner=owner,
                    plan=amounts["plan"] or 0.0,
                    actual=amounts["actual"] or 0.0,
                    forecast=amounts["forecast"] or 0.0,
                    notes=notes,
                    plan_to_date=amounts["plan_to_date"],
                )
            )
    currency = _currency(records, positions, currency, problems)
    problems += total_rows([(seen[r.area.lower()], r.area, (r.plan, r.actual, r.forecast)) for r in rows])
    if problems:
        raise ContextInputError(sorted(problems, key=_problem_order))
    if not rows:
        raise ContextInputError.single("The file has a header but no budget rows; add one row per area.")
    return [row.model_copy(update={"currency": currency}) for row in rows] if currency else rows


def _check_area(area: str, number: int, seen: dict[str, int], problems: list[Problem]) -> None:
    """An area named like a total row, or already on an earlier row, is a problem; else it is seen."""
    key = area.lower()
    if area and _TOTAL_AREA.fullmatch(" ".join(area.split())):
        problems.append(
            Problem(number, "area", f"'{area}' looks like a total row; remove it: the page adds the areas up itself")
        )
    elif area and key in seen:
        problems.append(Problem(number, "area", f"'{area}' is already on row {seen[key]}; each area once"))
    elif area:
        seen[key] = number


def _scaled(amount: float | None, scale: float) -> float | None:
    """An amount of a column whose header gives a scale ("Budget ($K)"), to the cent."""
    return amount if amount is None or scale == 1 else round(amount * scale, 2)


def _currency(
    records: Sequence[tuple[int, Sequence[Any]]], positions: dict[str, int], named: str | None, problems: list[Problem]
) -> str | None:
    """The budget's currency: the amounts' signs, else the one the header names ("Budget (EUR)")."""
    signs = records_currency(records, [(c, positions[c]) for c in AMOUNTS if c in positions], problems)
    if signs and named and signs != named:
        problems.append(Problem(None, None, f"the header says {named} but the amounts are in {signs}; use one"))
    return signs or named


def _check_size(data: bytes, kind: str) -> None:
    if not data:
        raise ContextInputError.single(f"The {kind} file is empty; download the template and fill it in.")
    if len(data) > MAX_FILE_BYTES:
        mb = MAX_FILE_BYTES // (1024 * 1024)
        raise ContextInputError.single(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; budgets up to {mb} MB are accepted."
        )


def _csv_cell(text: str) -> Any:
    """A CSV cell as the row checks take it: text starting with ``=`` is a formula, refused in any
    column as in a workbook (a spreadsheet opening the file would run it), not saved as text."""
    return FORMULA if text.lstrip().startswith("=") else text


def parse_budget_csv(data: bytes) -> list[BudgetRow]:
    """Budget rows from an uploaded CSV: :func:`read_budget_csv`'s rows."""
    return read_budget_csv(data).rows


def parse_budget_xlsx(data: bytes) -> list[BudgetRow]:
    """Budget rows from an uploaded XLSX: :func:`read_budget_xlsx`'s rows."""
    return read_budget_xlsx(data).rows


def read_budget_upload(data: bytes, filename: str) -> BudgetUpload:
    """A budget file as uploaded: an ``.xlsx`` name is read as a workbook, any other as a CSV.

    Args:
        data: The file as uploaded.
        filename: Its name.

    Returns:
        The rows, and the columns read and ignored.

    Raises:
        ContextInputError: See :func:`read_budget_csv` and :func:`read_budget_xlsx`.
    """
    read = read_budget_xlsx if filename.lower().endswith(".xlsx") else read_budget_csv
    return read(data)


def read_budget_csv(data: bytes) -> BudgetUpload:
    """Budget rows from an uploaded CSV (UTF-8, with or without BOM; comma, semicolon or tab).

    Args:
        data: The file as uploaded.

    Returns:
        The rows in file order, and the columns read and ignored.

    Raises:
        ContextInputError: The file is empty, too large, not text (binary, HTML, a spreadsheet),
            or any row has a problem; every problem is listed and nothing is saved.
    """
    _check_size(data, "CSV")
    head = data[:4096]
    if head.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        raise ContextInputError.single("This is an Excel workbook, not a CSV; upload it as a .xlsx file.")
    if b"\x00" in head:
        raise ContextInputError.single(
            "This is not a CSV file (it contains binary data); export your sheet as CSV UTF-8."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel's plain "CSV (Comma delimited)" on Windows writes Windows-1252 ("Café", "€")
            text = data.decode("cp1252")
        except UnicodeDecodeError as e:
            raise ContextInputError.single(
                "This file is neither UTF-8 nor Windows text; in your spreadsheet choose Save as / "
                "Download → CSV UTF-8."
            ) from e
    lead = text.lstrip()[:200].lower()
    if lead.startswith(("<!doctype", "<html", "<?xml", "<table", "<head", "<body")):
        raise ContextInputError.single("This is a web page (HTML), not a CSV; download the sheet as CSV instead.")
    first = text.split("\n", 1)[0]
    hint = re.fullmatch(r"sep=(.)", first.strip().lower())  # Excel's own first line: "sep=;"
    if hint is not None:
        delimiter = hint.group(1)
    else:
        delimiter = ";" if ";" in first and "," not in first else "\t" if "\t" in first and "," not in first else ","
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as e:
        raise ContextInputError.single(f"This CSV cannot be read ({e}); export it again from your spreadsheet.") from e
    if lines and '"' in text and _quote_runs_to_the_end(text, delimiter):
        # The rows after it were read into that one cell: the problems listed were all wrong
        # ("'1000,900,Priya Sales,…' is not a number", "actual, forecast are empty").
        raise ContextInputError.single(
            f'Row {len(lines)}: a double quote (") opens a cell that is never closed, so the rest of the file '
            "was read into that cell. Close or remove the quote and upload the file again."
        )
    numbered = [
        (i + 1, [_csv_cell(c) for c in cells])
        for i, cells in enumerate(lines)
        if any(not is_blank(c) for c in cells) and not (i == 0 and hint is not None)
    ]
    if not numbered:
        raise ContextInputError.single("The CSV file is empty; download the template and fill it in.")
    columns, records = _header_and_rows(numbered)
    rows = budget_rows(
        records,
        columns.positions,
        dot_groups_thousands=delimiter == ";",
        scales=columns.scales,
        currency=columns.currency,
    )
    logger.info("rows=<%s>, ignored_columns=<%s>, format=<csv> | budget file parsed", len(rows), len(columns.ignored))
    return BudgetUpload(rows, columns)


def _quote_runs_to_the_end(text: str, delimiter: str) -> bool:
    """Whether a quoted cell of ``text`` is still open at the end of the file."""
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as e:
        return "unexpected end of data" in str(e)
    return False


def read_budget_xlsx(data: bytes) -> BudgetUpload:
    """Budget rows from the first sheet of an uploaded XLSX whose header names the columns (a
    summary or cover sheet before it is passed over). A formula's cell is read as the value the
    spreadsheet saved with it; a formula without one is refused in the columns read.

    Args:
        data: The file as uploaded.

    Returns:
        The rows in file order, and the columns read and ignored.

    Raises:
        ContextInputError: The file is empty, too large, not an .xlsx workbook, holds a formula
            never calculated, or any row has a problem; every problem is listed and nothing is saved.
    """
    _check_size(data, "Excel")
    if data.startswith(_OLE_MAGIC):
        raise ContextInputError.single(
            "This is an old .xls workbook; save it as .xlsx (Excel Workbook) and upload that."
        )
    if not data.startswith(_ZIP_MAGIC):
        raise ContextInputError.single("This is not an Excel .xlsx workbook; upload an .xlsx file or a CSV.")
    numbered, formatted_in = workbook_sheet(data)
    if not numbered:
        raise ContextInputError.single("The first sheet is empty; download the template and fill it in.")
    columns, records = _header_and_rows(numbered)
    # the header's currency ("Budget (EUR)"), else the one the amounts are formatted in (#,##0 [$€-407])
    currency = columns.currency or formatted_in
    rows = budget_rows(records, columns.positions, scales=columns.scales, currency=currency)
    logger.info("rows=<%s>, ignored_columns=<%s>, format=<xlsx> | budget file parsed", len(rows), len(columns.ignored))
    return BudgetUpload(rows, columns)


def budget_file_of(
    rows: Sequence[BudgetRow], *, currency: str = "USD", thresholds: BudgetThresholds | None = None
) -> BudgetFile:
    """A user's rows as the :class:`BudgetFile` the budget tools read.

    Args:
        rows: The user's budget rows (at least one).
        currency: Currency code shown with the figures.
        thresholds: When areas get flagged (default: the budget tools' defaults).

    Returns:
        The budget: ``plan`` is the annual budget, ``actual`` spent to date; ids come from the names.
    """

    taken: set[str] = set()
    currency = next((r.currency for r in rows if r.currency), currency)  # the file's own signs, else the default
    areas = [
        BudgetArea(
            id=slugify(r.area, taken),
            name=r.area,
            owner=r.owner,
            annual_budget=r.plan,
            spent_ytd=r.actual,
            plan_ytd=r.plan_to_date,
            forecast=r.forecast,
            notes=r.notes,
        )
        for r in rows
    ]
    return BudgetFile(currency=currency, thresholds=thresholds or BudgetThresholds(), areas=areas)


def rows_of_budget_file(file: BudgetFile) -> list[BudgetRow]:
    """The demo file's areas as rows a user can edit (``annual_budget`` → plan, ``spent_ytd`` → actual).

    Args:
        file: A parsed ``budget.toml``.

    Returns:
        One row per area, in file order.
    """
    return [
        BudgetRow(
            area=a.name,
            owner=a.owner,
            plan=a.annual_budget,
            actual=a.spent_ytd,
            forecast=a.forecast,
            notes=a.notes,
            plan_to_date=a.plan_ytd,
        )
        for a in file.areas
    ]
