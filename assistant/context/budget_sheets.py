"""A budget workbook's rows as values: the budget's sheet found, each formula read as the value the spreadsheet saved.

A workbook is opened twice, read-only: once for the values Excel or LibreOffice calculated and
saved with each formula (``data_only=True``), once to tell a formula's cell from a typed one. A
formula's cell is its saved value; a formula without one (a file a program wrote and no
spreadsheet ever saved) is :data:`~assistant.context.row_checks.UNCALCULATED`, refused only if
the budget reads its column. So is every formula of a workbook that asks to be recalculated when
it is opened (``<calcPr fullCalcOnLoad="1"/>``): a program wrote it (XlsxWriter, which pandas
uses, saves 0 beside each formula and sets that flag) and the values beside its formulas are
placeholders, not results. Excel and LibreOffice drop the flag when they save the file. A workbook
may open on a summary or cover sheet: the budget is the first sheet whose header names the
budget's columns.
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import zipfile
from typing import Any

from defusedxml import ElementTree

from assistant.context.amounts import CURRENCY_CODES
from assistant.context.budget_columns import header_index
from assistant.context.row_checks import UNCALCULATED, ContextInputError, is_blank

logger = logging.getLogger(__name__)

MAX_ROWS = 500  # budget rows; a sheet with more is refused
MAX_COLUMNS = 40
MAX_SHEETS = 20  # sheets of a workbook looked through for the budget's header
# A workbook is a zip: 2 MB of it can unpack to gigabytes of XML that take minutes to read.
MAX_UNPACKED_BYTES = 10 * 1024 * 1024  # the template is 10 KB unpacked, 500 full rows about 200 KB
MAX_SHEET_ROWS = 5_000  # rows read, blank ones included
# What openpyxl raises on a damaged workbook: besides a bad zip, a part that is not XML or is
# cut short (SyntaxError covers ElementTree's ParseError and lxml's XMLSyntaxError) and an
# element with attributes its classes do not know (TypeError, AttributeError).
_DAMAGED = (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, SyntaxError, TypeError, AttributeError)


def workbook_sheet(data: bytes) -> tuple[list[tuple[int, list[Any]]], str | None]:
    """The budget sheet's non-blank rows as ``(row number, values)``: the first sheet whose header
    names the budget's columns, else the first sheet (its header's problems named later).

    Args:
        data: An .xlsx file (a zip).

    Returns:
        The rows, numbered as the sheet shows them, and the currency its numbers are formatted in
        (``#,##0 [$€-407]``: EUR), if they are in one.

    Raises:
        ContextInputError: The workbook unpacks too large, is damaged, has no sheet, or its sheet
            runs too long.
    """
    placeholders = _checked_before_opening(data)
    values = _open_workbook(data, data_only=True)
    try:
        formulas = _open_workbook(data, data_only=False)
    except ContextInputError:
        values.close()
        raise
    try:
        if not values.worksheets:
            raise ContextInputError.single("The workbook has no sheet; download the template and fill it in.")
        first: tuple[list[tuple[int, list[Any]]], str | None] | None = None
        for sheet, formula_sheet in zip(values.worksheets[:MAX_SHEETS], formulas.worksheets, strict=False):
            signs: set[str] = set()
            numbered = _sheet_rows(sheet, formula_sheet, placeholders=placeholders, signs=signs)
            found = (numbered, CURRENCY_CODES[signs.pop()] if len(signs) == 1 else None)
            first = found if first is None else first
            if header_index(numbered) is not None:
                return found
        return first or ([], None)
    except ContextInputError:
        raise
    except _DAMAGED as e:
        logger.info("error=<%s> | budget workbook cannot be read", type(e).__name__)
        raise ContextInputError.single("This Excel file cannot be read (it is damaged); save it again as .xlsx.") from e
    finally:
        values.close()
        formulas.close()


def _checked_before_opening(data: bytes) -> bool:
    """What is refused before openpyxl opens the workbook (too large unpacked, a sheet without a
    size running too long), read from one opening of the zip; and whether its formulas' saved
    values are placeholders (:func:`recalculates_on_open`). A file that cannot be read so is left
    to openpyxl, which says what is wrong.

    Raises:
        ContextInputError: The workbook unpacks too large, or a sheet without a size runs too long.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _DAMAGED:
        return False
    with archive:
        _check_unpacked_size(archive)
        try:
            _check_sheets_without_size(archive)
        except ContextInputError:  # a ValueError too: not a damaged file
            raise
        except (*_DAMAGED, ElementTree.ParseError):  # a defusedxml refusal is a ValueError
            pass  # left to openpyxl, which says what is wrong
        try:
            return _recalculates(archive)
        except (*_DAMAGED, ElementTree.ParseError):
            return False


def _check_unpacked_size(archive: zipfile.ZipFile) -> None:
    """Refuse a workbook whose parts unpack to more than MAX_UNPACKED_BYTES (zipfile never reads
    past a part's declared size, so the declared sizes bound what openpyxl parses)."""
    unpacked = sum(item.file_size for item in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        mb = MAX_UNPACKED_BYTES // (1024 * 1024)
        raise ContextInputError.single(
            f"The workbook unpacks to {unpacked / 1024 / 1024:.0f} MB; up to {mb} MB are accepted. "
            "Copy the budget sheet alone into a new workbook and upload that."
        )


_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def _check_sheets_without_size(archive: zipfile.ZipFile) -> None:
    """Refuse a sheet without a ``<dimension>`` that runs past MAX_SHEET_ROWS, before openpyxl opens it.

    openpyxl takes a sheet's size from its ``<dimension>`` (Excel and LibreOffice always write
    one); for a sheet without it, opening the workbook parses the whole sheet, every sheet, on
    each of the two opens: 60 KB of 400,000 blank rows took 3 s of CPU before any row was read.
    Such a sheet's rows are counted here, streamed, and counting stops past MAX_SHEET_ROWS.
    """
    types = ElementTree.fromstring(archive.read("[Content_Types].xml"))
    parts = [
        str(item.get("PartName", "")).lstrip("/")
        for item in types.iter()
        if item.tag.rsplit("}", 1)[-1] == "Override" and item.get("ContentType") == _WORKSHEET
    ]
    for part in parts:
        rows = 0
        with archive.open(part) as source:
            for _event, element in ElementTree.iterparse(source, events=("start",)):
                tag = element.tag.rsplit("}", 1)[-1]
                if tag == "dimension":
                    break
                rows += tag == "row"
                if rows > MAX_SHEET_ROWS:
                    raise ContextInputError.single(_TOO_LONG)


_TOO_LONG = f"The sheet runs past row {MAX_SHEET_ROWS:,}; delete the empty rows below the budget and save it again."


_LOCALE_TAG = re.compile(r"\[\$([^\-\]]*)[^\]]*\]")
"""Excel's ``[$€-407]`` (a currency sign and a locale) or ``[$-409]`` (a locale alone) in a number format."""


def _format_signs(number_format: str) -> set[str]:
    """The currency signs a number format writes (``#,##0 [$€-407]``, ``"£"#,##0``, ``$#,##0.00``)."""
    tagged = {m.group(1) for m in _LOCALE_TAG.finditer(number_format)}
    return {c for c in "".join(tagged) + _LOCALE_TAG.sub("", number_format) if c in CURRENCY_CODES}


def _sheet_rows(
    values: Any, formulas: Any, *, placeholders: bool = False, signs: set[str] | None = None
) -> list[tuple[int, list[Any]]]:
    """A sheet's non-blank rows as ``(row number, values)``, read from the sheet opened twice: for
    the values the spreadsheet saved (``values``) and for its formulas (``formulas``). A formula's
    cell is its saved value; without one, or when the saved values are ``placeholders`` (the
    workbook recalculates on open), it is UNCALCULATED. The currency signs the numbers' formats
    write are added to ``signs``.

    Raises:
        ContextInputError: The sheet runs past MAX_SHEET_ROWS, or holds more than MAX_ROWS rows.
    """
    numbered: list[tuple[int, list[Any]]] = []
    pairs = zip(values.iter_rows(max_col=MAX_COLUMNS), formulas.iter_rows(max_col=MAX_COLUMNS), strict=False)
    for read, (cells, formula_cells) in enumerate(pairs, start=1):
        if read > MAX_SHEET_ROWS:
            raise ContextInputError.single(_TOO_LONG)
        row = [getattr(cell, "value", None) for cell in cells]
        if signs is not None:
            for cell, value in zip(cells, row, strict=False):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    signs |= _format_signs(str(getattr(cell, "number_format", "") or ""))
        for index, formula in enumerate(formula_cells):
            if getattr(formula, "data_type", None) == "f" and index < len(row):
                row[index] = UNCALCULATED if placeholders else _formula_value(row[index], cells[index])
        if all(is_blank(v) for v in row):
            continue
        row_number = next((c.row for c in cells if getattr(c, "row", None)), len(numbered) + 1)
        numbered.append((int(row_number), row))
        if len(numbered) > MAX_ROWS + 1:
            raise ContextInputError.single(f"The sheet has more than {MAX_ROWS} rows; split it or remove empty rows.")
    return numbered


def _formula_value(saved: Any, cell: Any) -> Any:
    """A formula's cell: the value the spreadsheet saved, a number to the cent (``=H4/9*12`` is
    15866666.67, not 15866666.666666666); with none saved, "" for empty text (``t="str"``, an
    ``=IF(…,"",…)``), else UNCALCULATED (never calculated: a file a program wrote)."""
    if isinstance(saved, float):
        return round(saved, 2)
    if saved is not None:
        return saved
    return "" if getattr(cell, "data_type", None) == "str" else UNCALCULATED


_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_OFFICE_DOCUMENT = "/officeDocument"


def recalculates_on_open(data: bytes) -> bool:
    """Whether the workbook asks to be recalculated when opened (``<calcPr fullCalcOnLoad="1"/>``):
    then the values saved beside its formulas are a program's placeholders (XlsxWriter saves 0).

    Args:
        data: An .xlsx file (a zip).

    Returns:
        True when the flag is set; False when it is not, or the file cannot be read (opening it
        says why).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _recalculates(archive)
    except (*_DAMAGED, ElementTree.ParseError):  # a defusedxml refusal is a ValueError
        return False


def _recalculates(archive: zipfile.ZipFile) -> bool:
    """:func:`recalculates_on_open` of an opened workbook. The flag is read from the workbook's own
    XML: openpyxl reports a missing attribute as True, and Excel leaves it out of every file it saves."""
    part = "xl/workbook.xml"
    if "_rels/.rels" in archive.namelist():
        for rel in ElementTree.fromstring(archive.read("_rels/.rels")).iter(_RELATIONSHIPS):
            if str(rel.get("Type", "")).endswith(_OFFICE_DOCUMENT):
                part = posixpath.normpath(str(rel.get("Target", part)).lstrip("/"))
                break
    workbook = ElementTree.fromstring(archive.read(part))
    for element in workbook.iter():
        if element.tag.rsplit("}", 1)[-1] == "calcPr":
            return str(element.get("fullCalcOnLoad", "0")).strip().lower() in ("1", "true")
    return False


def _open_workbook(data: bytes, *, data_only: bool) -> Any:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    except (InvalidFileException, *_DAMAGED) as e:
        logger.info("error=<%s> | budget workbook cannot be opened", type(e).__name__)
        raise ContextInputError.single(
            "This Excel file cannot be opened (it is damaged or not a workbook); save it again as .xlsx."
        ) from e
