"""What a user's own rows may hold: the one input error, and the cell checks budget and rocks share.

A file or a table the user gives is checked whole, row by row, and refused whole: every problem
is collected as a :class:`Problem` (the row as the user sees it, the column, what is wrong) and
raised once as :class:`ContextInputError`, so nothing is saved from a bad file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from assistant.inputs import has_visible_text, strip_control_chars

MAX_PROBLEMS_LISTED = 50

# "1234", "1234.5", "1,234,567.89": thousands separators only where they group three digits,
# so a decimal comma ("1,5") is refused instead of read as fifteen.
_NUMBER_RE = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+")
_CURRENCY_CHARS = "$€£¥"
_DECIMAL_COMMA_RE = re.compile(r"(?:\d{1,3}(?:\.\d{3})+|\d+),\d+")  # "1200,50", "1.200,50"
_SPACES_RE = re.compile(r"[\s\u00a0\u202f_']")
# never meant in a name: a zero-width space, a word joiner, a byte-order mark (a copied cell brings them)
_INVISIBLE_RE = re.compile("[\u200b\u2060\ufeff]")


class FormulaCell:
    """A cell that holds a formula and no value to read: refused wherever it is read.

    Attributes:
        message: Why it is refused and what to do, as a problem's message.
    """

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message

    def __repr__(self) -> str:
        return self.name


FORMULA_MESSAGE = "formulas are not accepted; paste values"
UNCALCULATED_MESSAGE = (
    "is a formula whose result was never saved (the file was written by a program, not by a spreadsheet); "
    "open it in Excel or LibreOffice, save it and upload it again, or paste values"
)
# A CSV's text starting with "=": a spreadsheet opening the file would run it.
FORMULA = FormulaCell("FORMULA", FORMULA_MESSAGE)
# A workbook's formula without the value the spreadsheet calculated (one saved by Excel has it).
UNCALCULATED = FormulaCell("UNCALCULATED", UNCALCULATED_MESSAGE)
# What a spreadsheet shows for a formula that failed: cached as the cell's value.
_SHEET_ERRORS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!"})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with what the user gave.

    Attributes:
        row: The row as the user sees it (the spreadsheet's row number, or the table's
            1-based row), or None for the whole file.
        column: The column's name, or None for the whole row or file.
        message: What is wrong, lower-case, without the row and column.
    """

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"{'columns' if ', ' in self.column else 'column'} {self.column}")
        text = self.message
        return f"{', '.join(where)}: {text}" if where else text[:1].upper() + text[1:]


class ContextInputError(ValueError):
    """What the user gave cannot be saved; nothing was saved.

    Attributes:
        problems: Every problem found, in row order (file-level problems first).
    """

    def __init__(self, problems: list[Problem], summary: str | None = None) -> None:
        self.problems = problems
        count = len(problems)
        self.summary = summary or (
            f"{count} problem{'s' if count != 1 else ''} found; nothing was saved. "
            f"Fix {'them' if count != 1 else 'it'} and try again."
        )
        listed = "\n".join(f"- {p}" for p in problems[:MAX_PROBLEMS_LISTED])
        more = f"\n- … and {count - MAX_PROBLEMS_LISTED} more" if count > MAX_PROBLEMS_LISTED else ""
        only_summary = not problems or (len(problems) == 1 and str(problems[0]) == self.summary)
        super().__init__(self.summary if only_summary else f"{self.summary}\n{listed}{more}")

    @classmethod
    def single(cls, message: str) -> ContextInputError:
        """An error about the whole file or table (no row, no column).

        Args:
            message: A plain sentence saying what to do.

        Returns:
            The error, whose summary is that sentence.
        """
        return cls([Problem(None, None, message)], summary=message)


def is_blank(value: Any) -> bool:
    """Whether a cell is empty: None, NaN/NaT (pandas' missing values), or text that draws nothing
    (only whitespace, control or invisible characters such as zero-width spaces or a bidi override)."""
    if value is None or type(value).__name__ == "NAType":  # pandas' pd.NA: a nullable column's empty cell
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        if value != value:  # NaT and other "missing" sentinels are unequal to themselves
            return True
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and not has_visible_text(value)


def clean_text(
    value: Any, *, limit: int, column: str, row: int, problems: list[Problem], multiline: bool = False
) -> str:
    """A text cell: control characters removed, trimmed, at most ``limit`` characters.

    Args:
        value: The cell (text, number, or empty).
        limit: The most characters allowed.
        column: The column's name, for problems.
        row: The row as the user sees it, for problems.
        problems: Where a problem is added.
        multiline: Keep line breaks (each line trimmed, empty lines dropped).

    Returns:
        The text ("" for an empty cell, or when a problem was added).
    """
    if is_blank(value):
        return ""
    if isinstance(value, FormulaCell):
        problems.append(Problem(row, column, value.message))
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    # "Ops" and "Ops" + a zero-width space looked alike and were two areas (and not "already on row 2")
    text = _INVISIBLE_RE.sub("", strip_control_chars(str(value)))
    lines = [_trimmed(line) for line in text.split("\n")] if multiline else [_trimmed(" ".join(text.split()))]
    lines = [line for line in lines if line]
    text = "\n".join(lines)
    if len(text) > limit:
        problems.append(Problem(row, column, f"is {len(text)} characters long; at most {limit} are allowed"))
        return ""
    return text


def _trimmed(text: str) -> str:
    """``text`` without the spaces and invisible characters (joiners, direction marks) at its ends."""
    start, end = 0, len(text)
    while start < end and not has_visible_text(text[start]):
        start += 1
    while end > start and not has_visible_text(text[end - 1]):
        end -= 1
    return text[start:end]


_NOT_A_NUMBER = "not a number (write it like 1250000 or 1,250,000)"


def parse_amount(value: Any, *, column: str, row: int, problems: list[Problem]) -> float | None:
    """A money cell as a number: ``1234.5``, ``1,234.50``, ``$1,234``, ``€ 1 234`` are accepted.

    Currency symbols, spaces and thousands separators are dropped; a decimal comma, words,
    a formula or a date are problems.

    Args:
        value: The cell (a number from a spreadsheet, or text).
        column: The column's name, for problems.
        row: The row as the user sees it, for problems.
        problems: Where a problem is added.

    Returns:
        The amount, or None when the cell is empty or a problem was added.
    """
    if is_blank(value):
        return None
    if isinstance(value, FormulaCell):
        problems.append(Problem(row, column, value.message))
        return None
    if isinstance(value, (bool, date, datetime)):
        problems.append(Problem(row, column, "is a date or a yes/no value, not an amount"))
        return None
    if isinstance(value, (int, float)):
        number = float(value)
        if number == -math.inf:
            problems.append(Problem(row, column, f"'{number}' is {_NOT_A_NUMBER}"))
            return None
        if number < 0:  # a spreadsheet's number: refused as negative text is, not by the row's model later
            shown = str(int(number)) if number.is_integer() else str(number)
            problems.append(Problem(row, column, f"'{shown}' is negative; amounts must be 0 or more"))
            return None
    else:
        text = strip_control_chars(str(value)).strip()
        if text.startswith("="):
            problems.append(Problem(row, column, FORMULA_MESSAGE))
            return None
        if text.upper() in _SHEET_ERRORS:
            problems.append(
                Problem(row, column, f"is {text}, an error of the sheet's formula; fix it or type the amount")
            )
            return None
        compact = _SPACES_RE.sub("", text.strip(_CURRENCY_CHARS + " ")).lstrip(_CURRENCY_CHARS)
        negated = (
            compact[1:] if compact.startswith("-") else compact[1:-1] if compact[:1] + compact[-1:] == "()" else None
        )
        negated = None if negated is None else negated.strip(_CURRENCY_CHARS)
        if negated is not None and (_NUMBER_RE.fullmatch(negated) or _DECIMAL_COMMA_RE.fullmatch(negated)):
            problems.append(Problem(row, column, f"'{shorten(text)}' is negative; amounts must be 0 or more"))
            return None
        if _DECIMAL_COMMA_RE.fullmatch(compact) and not _NUMBER_RE.fullmatch(compact):
            whole, fraction = compact.split(",")
            hint = f"{whole.replace('.', '')}.{fraction}"
            problems.append(
                Problem(row, column, f"'{shorten(text)}' has a decimal comma; write it with a decimal point ({hint})")
            )
            return None
        if not _NUMBER_RE.fullmatch(compact):
            problems.append(Problem(row, column, f"'{shorten(text)}' is {_NOT_A_NUMBER}"))
            return None
        number = float(compact.replace(",", ""))
    if not math.isfinite(number) or number >= 1e15:
        # quoted as the other refusals are (it read "column plan: is too large")
        shown = shorten(text) if isinstance(value, str) else f"{number:.0f}" if math.isfinite(number) else str(number)
        problems.append(Problem(row, column, f"'{shown}' is too large; amounts must be under 1,000,000,000,000,000"))
        return None
    return number


def shorten(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters (with "…"), for quoting a bad cell back to the user."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slugify(name: str, taken: set[str]) -> str:
    """A short id from ``name`` (lower-case letters, digits and dashes), unique within ``taken``.

    Args:
        name: A display name.
        taken: Ids already used; the new id is added to it.

    Returns:
        The id (``"item"`` when the name has no letters or digits; ``-2``, ``-3``... when taken).
    """
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "item"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug
