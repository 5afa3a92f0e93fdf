"""A budget workbook's rows as values (``assistant/context/budget_sheets.py``), on real .xlsx files."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from assistant.context.budget_sheets import workbook_rows
from assistant.context.row_checks import UNCALCULATED, ContextInputError
from tests.fixtures.workbooks import executive_results, executive_sheet, saved_by_excel, workbook_bytes


def _by_row(rows: list[tuple[int, list[object]]]) -> dict[int, list[object]]:
    return dict(rows)


def test_the_budget_sheet_is_found_past_the_summary_and_formulas_read_as_their_saved_values() -> None:
    rows = _by_row(workbook_rows(saved_by_excel(executive_sheet(), executive_results())))
    # the budget sheet (the summary's one row holds no budget header), numbered as the sheet shows it
    assert rows[3][:4] == ["Cost center", "Department", "Owner", "Annual budget"]
    engineering = rows[4]
    assert engineering[1] == "Engineering" and engineering[3] == 18_500_000
    assert engineering[7] == 11_900_000  # =SUM(E4:G4), as Excel saved it
    assert engineering[8] == pytest.approx(15_866_666.67, abs=0.01)  # =H4/9*12, to the cent
    assert rows[5][11] == "Behind"  # a formula's saved text
    assert rows[6][9] is UNCALCULATED  # a formula Excel never calculated: marked, refused only if read


def test_a_workbook_no_spreadsheet_ever_saved_marks_every_formula_uncalculated() -> None:
    rows = _by_row(workbook_rows(workbook_bytes(executive_sheet())))
    assert all(rows[r][c] is UNCALCULATED for r in (4, 5, 6) for c in (7, 8, 9, 10))
    assert rows[4][3] == 18_500_000  # typed numbers are themselves


def test_a_workbook_without_a_budget_header_gives_its_first_sheet() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Amount"])
    sheet.append(["Travel", 12])
    book.create_sheet("Empty")
    rows = workbook_rows(workbook_bytes(book))
    assert [(n, values[:2]) for n, values in rows] == [(1, ["Name", "Amount"]), (2, ["Travel", 12])]
    assert all(v is None for _, values in rows for v in values[2:])  # padded to the columns read


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really a zip", b"", b"plain text, not a workbook"])
def test_a_file_that_is_not_a_workbook_gets_one_clear_sentence(data: bytes) -> None:
    with pytest.raises(ContextInputError) as refused:
        workbook_rows(data)
    assert "Excel file" in str(refused.value) or "workbook" in str(refused.value)
