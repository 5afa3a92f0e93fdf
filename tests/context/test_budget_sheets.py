"""A budget workbook's rows as values (``assistant/context/budget_sheets.py``), on real .xlsx files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from assistant.context.budget_sheets import recalculates_on_open, workbook_sheet
from assistant.context.row_checks import UNCALCULATED, ContextInputError
from tests.fixtures.workbooks import (
    executive_results,
    executive_sheet,
    saved_by_excel,
    workbook_bytes,
    xlsxwriter_budget,
)


def _by_row(rows: list[tuple[int, list[object]]]) -> dict[int, list[object]]:
    return dict(rows)


def test_the_budget_sheet_is_found_past_the_summary_and_formulas_read_as_their_saved_values() -> None:
    rows = _by_row(workbook_sheet(saved_by_excel(executive_sheet(), executive_results()))[0])
    # the budget sheet (the summary's one row holds no budget header), numbered as the sheet shows it
    assert rows[3][:4] == ["Cost center", "Department", "Owner", "Annual budget"]
    engineering = rows[4]
    assert engineering[1] == "Engineering" and engineering[3] == 18_500_000
    assert engineering[7] == 11_900_000  # =SUM(E4:G4), as Excel saved it
    assert engineering[8] == pytest.approx(15_866_666.67, abs=0.01)  # =H4/9*12, to the cent
    assert rows[5][11] == "Behind"  # a formula's saved text
    assert rows[6][9] is UNCALCULATED  # a formula Excel never calculated: marked, refused only if read


def test_a_workbook_no_spreadsheet_ever_saved_marks_every_formula_uncalculated() -> None:
    rows = _by_row(workbook_sheet(workbook_bytes(executive_sheet()))[0])
    assert all(rows[r][c] is UNCALCULATED for r in (4, 5, 6) for c in (7, 8, 9, 10))
    assert rows[4][3] == 18_500_000  # typed numbers are themselves


def test_a_workbook_without_a_budget_header_gives_its_first_sheet() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Amount"])
    sheet.append(["Travel", 12])
    book.create_sheet("Empty")
    rows = workbook_sheet(workbook_bytes(book))[0]
    assert [(n, values[:2]) for n, values in rows] == [(1, ["Name", "Amount"]), (2, ["Travel", 12])]
    assert all(v is None for _, values in rows for v in values[2:])  # padded to the columns read


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really a zip", b"", b"plain text, not a workbook"])
def test_a_file_that_is_not_a_workbook_gets_one_clear_sentence(data: bytes) -> None:
    with pytest.raises(ContextInputError) as refused:
        workbook_sheet(data)[0]
    assert "Excel file" in str(refused.value) or "workbook" in str(refused.value)


def test_xlsxwriter_saves_0_beside_its_formulas_and_they_are_not_read_as_0() -> None:
    data = xlsxwriter_budget(formulas=True)
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>C2+D2</f><v>0</v>" in sheet_xml  # what the file itself says: 0
    assert recalculates_on_open(data)
    rows = _by_row(workbook_sheet(data)[0])
    assert rows[2][4] is UNCALCULATED and rows[2][5] is UNCALCULATED  # not Actual 0, Forecast 0
    assert rows[2][:4] == ["Engineering", 1_000_000, 200_000, 300_000]  # typed cells are themselves


def test_a_workbook_of_typed_values_from_xlsxwriter_reads_whole() -> None:
    data = xlsxwriter_budget(formulas=False)
    assert recalculates_on_open(data)  # the flag alone refuses nothing: only formulas' placeholders
    rows = _by_row(workbook_sheet(data)[0])
    assert rows[3][:6] == ["Sales", 500_000, 100_000, 50_000, 150_000, 300_000]


def test_excel_and_libreoffice_saves_do_not_recalculate_on_open() -> None:
    assert not recalculates_on_open(saved_by_excel(executive_sheet(), executive_results()))
    assert recalculates_on_open(workbook_bytes(executive_sheet()))  # openpyxl sets the flag too
    assert not recalculates_on_open(b"not a zip")  # opening it says what is wrong


def test_the_calculation_flag_is_not_read_through_entities() -> None:
    """An XML bomb is built of entities: the workbook's XML is read by defusedxml, which refuses them."""
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "1"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<calcPr fullCalcOnLoad="&a;"/></workbook>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("xl/workbook.xml", bomb)
    assert not recalculates_on_open(out.getvalue())
    plain = bomb.replace(b"&a;", b"1").split(b"]>", 1)[1]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("xl/workbook.xml", plain)
    assert recalculates_on_open(out.getvalue())  # the same flag without entities is read


XLSX = Path(__file__).resolve().parent.parent / "fixtures" / "xlsx"


def test_a_workbook_libreoffice_saved_reads_as_libreoffice_calculated_it() -> None:
    """``executive_sheet()`` saved by LibreOffice 7.4 (``soffice --convert-to xlsx``): the same
    values the Excel fixture writes, and no recalculate-on-open flag."""
    data = (XLSX / "libreoffice_saved_executive_budget.xlsx").read_bytes()
    assert not recalculates_on_open(data)
    rows = _by_row(workbook_sheet(data)[0])
    saved = executive_results()["Budget FY26"]
    assert rows[4][7] == saved["H4"] and rows[4][8] == pytest.approx(saved["I4"], abs=0.01)
    assert rows[5][11] == "Behind"
    assert rows[6][9] == pytest.approx(-200_000)  # =I6-D6: LibreOffice calculated every formula on saving


def test_a_workbook_libreoffice_saved_without_recalculating_reads_what_it_showed() -> None:
    """An XlsxWriter file converted by LibreOffice without recalculating: LibreOffice keeps the 0s
    and drops the flag. The workbook shows 0 to its owner too, so 0 is what is read."""
    data = (XLSX / "libreoffice_saved_xlsxwriter_never_recalculated.xlsx").read_bytes()
    assert not recalculates_on_open(data)
    assert _by_row(workbook_sheet(data)[0])[2][4] == 0
