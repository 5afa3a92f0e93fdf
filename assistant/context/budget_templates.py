"""The budget templates a user downloads from My context: the columns :mod:`.budget_io` reads,
with two example rows, as CSV and as an Excel sheet."""

from __future__ import annotations

import csv
import io

from assistant.context.budget_columns import COLUMNS

TEMPLATE_ROWS: tuple[tuple[str, str, int, int, int, str, int], ...] = (
    ("Engineering", "Priya Raman (CTO)", 18_500_000, 11_900_000, 19_600_000, "Contractors above plan", 11_100_000),
    ("Marketing", "Rachel Kim (CMO)", 6_000_000, 2_700_000, 5_100_000, "Two field events cancelled", 3_500_000),
)


def budget_template_csv() -> bytes:
    """The CSV template: the header and two example rows (UTF-8 with a BOM, so Excel reads it as UTF-8)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(TEMPLATE_ROWS)
    return out.getvalue().encode("utf-8-sig")


def budget_template_xlsx() -> bytes:
    """The Excel template: one "Budget" sheet with the header and two example rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Budget"
    sheet.append(list(COLUMNS))
    for row in TEMPLATE_ROWS:
        sheet.append(list(row))
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="2F5D8A")
    widths = {"A": 24, "B": 24, "C": 14, "D": 14, "E": 14, "F": 40, "G": 14}
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width
    for column in ("C", "D", "E", "G"):
        for cell in sheet[column][1:]:
            cell.number_format = "#,##0"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


__all__ = ["TEMPLATE_ROWS", "budget_template_csv", "budget_template_xlsx"]
