"""The budget templates My context offers for download: what they hold reads back as their example rows."""

from __future__ import annotations

from assistant.context.budget_io import parse_budget_csv, parse_budget_xlsx
from assistant.context.budget_templates import budget_template_csv, budget_template_xlsx


def test_templates_parse_back_to_their_example_rows() -> None:
    from_csv = parse_budget_csv(budget_template_csv())
    assert len(from_csv) == 2
    assert parse_budget_xlsx(budget_template_xlsx()) == from_csv


def test_the_csv_template_opens_in_excel_as_utf8_with_the_columns_the_reader_knows() -> None:
    from assistant.context.budget_io import COLUMNS
    from assistant.context.budget_templates import TEMPLATE_ROWS

    data = budget_template_csv()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads it as UTF-8, not Windows-1252
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[0] == ",".join(COLUMNS)
    assert len([line for line in lines[1:] if line]) == len(TEMPLATE_ROWS)
    rows = parse_budget_csv(data)
    assert [(r.area, r.plan, r.plan_to_date) for r in rows] == [(t[0], t[2], t[6]) for t in TEMPLATE_ROWS]


def test_the_excel_template_is_one_budget_sheet_with_its_header_frozen_and_amounts_grouped() -> None:
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(budget_template_xlsx()))
    assert book.sheetnames == ["Budget"]
    sheet = book["Budget"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert {sheet[f"{column}2"].number_format for column in "CDEG"} == {"#,##0"}
    assert isinstance(sheet["C2"].value, int)  # a number, not text: the user's own rows add up
