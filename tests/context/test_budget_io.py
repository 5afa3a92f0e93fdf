"""Budget files: CSV and XLSX read row by row; every bad file is refused whole, naming row and column."""

from __future__ import annotations

import gc
import io
import re
import time
import zipfile
from typing import Any

import pytest
from openpyxl import Workbook

from assistant.context.budget import budget_context_of, budget_statuses, read_budget_file
from assistant.context.budget_io import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    BudgetRow,
    budget_file_of,
    parse_budget_csv,
    parse_budget_xlsx,
    read_budget_csv,
    read_budget_xlsx,
    rows_of_budget_file,
)
from assistant.context.budget_templates import budget_template_csv, budget_template_xlsx
from assistant.context.row_checks import UNCALCULATED_MESSAGE, ContextInputError
from tests.fixtures.streamlit_server import ROOT
from tests.fixtures.workbooks import (
    executive_results,
    executive_sheet,
    saved_by_excel,
    workbook_bytes,
    xlsxwriter_budget,
)

HEADER = "area,owner,plan,actual,forecast,notes\n"


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def problems(data: bytes, parser: Any = parse_budget_csv) -> list[str]:
    with pytest.raises(ContextInputError) as info:
        parser(data)
    return [str(p) for p in info.value.problems]


def test_good_csv_with_separators_currency_bom_and_case_insensitive_header() -> None:
    data = (
        "\ufeffArea, Owner ,PLAN,Actual,Forecast,Notes,Plan to date\r\n"
        'Engineering,Priya,"$18,500,000",11900000,"19,600,000.50","Contractors, above plan",11100000\r\n'
        "\r\n"
        "Marketing,,6000000,$ 2 700 000,5100000,,\r\n"
    ).encode()
    rows = parse_budget_csv(data)
    assert rows == [
        BudgetRow(
            area="Engineering",
            owner="Priya",
            plan=18_500_000,
            actual=11_900_000,
            forecast=19_600_000.5,
            notes="Contractors, above plan",
            plan_to_date=11_100_000,
            currency="USD",
        ),
        BudgetRow(area="Marketing", plan=6_000_000, actual=2_700_000, forecast=5_100_000, currency="USD"),
    ]


def test_semicolon_csv_and_control_characters_stripped() -> None:
    rows = parse_budget_csv(b"area;plan;actual;forecast\nOps\x07 team;100;0;90\n")
    assert rows[0].area == "Ops team"


def test_good_xlsx() -> None:
    data = xlsx(
        [["Area", "Plan", "Actual", "Forecast", "Notes"], ["Sales", 9_800_000, 5_600_000.0, "9,700,000", "On plan"]]
    )
    assert parse_budget_xlsx(data) == [
        BudgetRow(area="Sales", plan=9_800_000, actual=5_600_000, forecast=9_700_000, notes="On plan")
    ]


def test_text_in_a_number_column_names_row_and_column() -> None:
    found = problems((HEADER + 'Engineering,,100,50,90,\nSales,,lots,50,90,\nOps,,1,5,"1,5",\n').encode())
    assert found == [
        "row 3, column plan: 'lots' is not a number (write it like 1250000 or 1,250,000)",
        "row 4, column forecast: '1,5' has a decimal comma; write it with a decimal point (1.5)",
    ]


def test_a_quote_never_closed_is_named_instead_of_the_rows_it_swallowed() -> None:
    """An unclosed quote read the rest of the file into one cell; the user was told
    "'1000,900,950,Priya Sales,…' is not a number" and "actual, forecast are empty"."""
    data = b'area,plan,actual,forecast,owner\nEngineering,"1000,900,950,Priya\nSales,500,400,450,Elena\n'
    with pytest.raises(ContextInputError) as err:
        parse_budget_csv(data)
    assert str(err.value).startswith('Row 2: a double quote (") opens a cell that is never closed')
    assert "not a number" not in str(err.value)
    # a quoted cell over two lines, closed, and a quote inside an unquoted cell are read as before
    rows = parse_budget_csv(b'area,plan,actual,forecast,notes\nEng "core",10,9,9,"two\nlines"\nSales,5,4,4,x\n')
    assert [r.area for r in rows] == ['Eng "core"', "Sales"]


def test_a_cell_longer_than_pythons_csv_limit_is_named_in_the_users_words() -> None:
    """A cell past 131,072 characters (a pasted note, or a quote never closed in a bigger file) was
    refused in the csv module's words: "This CSV cannot be read (field larger than field limit
    (131072))", naming neither the row nor the quote."""
    long_note = (HEADER + "Engineering,Priya,100,50,90," + "x" * 200_000 + "\nSales,Elena,10,5,9,\n").encode()
    assert problems(long_note) == ["row 2, column notes: is 200000 characters long; at most 2000 are allowed"]
    rows = "".join(f"Area {i},Owner {i},1000,900,950,{'n' * 300}\n" for i in range(450))  # 150 KB after the quote
    unclosed = (HEADER + 'Engineering,Priya,100,50,90,"see below\n' + rows).encode()
    with pytest.raises(ContextInputError) as err:
        parse_budget_csv(unclosed)
    assert str(err.value).startswith('Row 2: a double quote (") opens a cell that is never closed'), str(err.value)


def test_every_problem_listed_in_row_then_column_order() -> None:
    data = (HEADER + ",,0,-5,,\nA,,1,1,1,\na,,1,1,1,\n").encode()
    assert problems(data) == [
        "row 2, columns area, forecast: are empty; every row needs an area, plan, actual and forecast",
        "row 2, column plan: must be more than 0",
        "row 2, column actual: '-5' is negative; amounts must be 0 or more",
        "row 4, column area: 'a' is already on row 3; each area once",
    ]


def test_formulas_never_calculated_in_xlsx_are_refused_in_any_column_read() -> None:
    data = xlsx(
        [["area", "plan", "actual", "forecast", "notes"], ["Eng", 100, 50, 90, "ok"], ["Ops", "=B2*2", 5, 6, "=A2"]]
    )
    assert problems(data, parse_budget_xlsx) == [
        f"row 3, column plan: {UNCALCULATED_MESSAGE}",
        f"row 3, column notes: {UNCALCULATED_MESSAGE}",
    ]


def test_formula_text_in_csv_number_column_is_refused() -> None:
    assert problems((HEADER + "Eng,,=SUM(A1:A3),1,1,\n").encode()) == [
        "row 2, column plan: formulas are not accepted; paste values"
    ]


def test_an_area_of_invisible_characters_is_empty() -> None:
    """An area of zero-width spaces was saved blank; one of only a bidi override or a control
    character crashed the page (the row check let it through, the row's model refused it)."""
    data = HEADER + "\u200b\u200b,me,100,10,20,\n\u202e,me,100,10,20,\n\x07,me,100,10,20,\n"
    assert problems(data.encode()) == [
        f"row {n}, column area: is empty; every row needs an area, plan, actual and forecast" for n in (2, 3, 4)
    ]


def test_formula_text_in_csv_text_columns_is_refused() -> None:
    """The page says formulas are refused: a CSV's =HYPERLINK(...) area or =A2 note was saved as text."""
    link = '"=HYPERLINK(""http://evil.example"",""open"")"'
    data = (HEADER + f'{link},me,100,10,20," =A2"\nOps,=B2,5,1,1,-3% vs plan\n').encode()
    assert problems(data) == [
        "row 2, column area: formulas are not accepted; paste values",
        "row 2, column notes: formulas are not accepted; paste values",
        "row 3, column owner: formulas are not accepted; paste values",
    ]


def test_a_csv_saved_by_excel_on_windows_reads_its_accents_and_euro_signs() -> None:
    """Excel's plain "CSV (Comma delimited)" is Windows-1252, not UTF-8: it was refused before."""
    data = "area,plan,actual,forecast,notes\r\nCafé & Crèmerie,1200,300,1100,€ budget\r\n".encode("cp1252")
    rows = parse_budget_csv(data)
    assert [(r.area, r.notes) for r in rows] == [("Café & Crèmerie", "€ budget")]
    assert (rows[0].plan, rows[0].actual) == (1200, 300)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The CSV file is empty"),
        (b"\n\n  \n", "The CSV file is empty"),
        (b"<!DOCTYPE html><html><body>Sign in</body></html>", "web page (HTML)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary data"),
        (b"PK\x03\x04rest-of-a-zip", "Excel workbook, not a CSV"),
        (b"area,plan,actual,forecast\nCaf\x81,1,1,1\n", "neither UTF-8 nor Windows text"),
        (HEADER.encode(), "no budget rows"),
    ],
)
def test_bad_csv_files_get_one_clear_sentence(data: bytes, message: str) -> None:
    with pytest.raises(ContextInputError) as info:
        parse_budget_csv(data)
    assert message in info.value.summary
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The Excel file is empty"),
        (b"<html><body>not a workbook</body></html>", "not an Excel .xlsx workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "old .xls workbook"),
        (b"PK\x03\x04garbage", "cannot be opened"),
    ],
)
def test_bad_xlsx_files_get_one_clear_sentence(data: bytes, message: str) -> None:
    with pytest.raises(ContextInputError) as info:
        parse_budget_xlsx(data)
    assert message in info.value.summary


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(ContextInputError, match="cannot be opened"):
        parse_budget_xlsx(out.getvalue())


def _with_part(name: str, data: bytes) -> bytes:
    """The Excel template with one of its parts replaced by ``data``."""
    source = zipfile.ZipFile(io.BytesIO(budget_template_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in source.infolist():
            z.writestr(item.filename, data if item.filename == name else source.read(item.filename))
    return out.getvalue()


@pytest.mark.parametrize(
    ("part", "data"),
    [
        ("xl/worksheets/sheet1.xml", b""),  # the sheet cut off: a parse error from the XML reader
        ("docProps/core.xml", b"<x"),  # lxml's own XMLSyntaxError
        (
            "xl/styles.xml",
            b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<cellXfs><xf numFm0Id="1"/></cellXfs></styleSheet>',
        ),  # a damaged attribute: TypeError
    ],
)
def test_a_workbook_with_a_damaged_part_gets_one_clear_sentence(part: str, data: bytes) -> None:
    """These ended in a traceback on the Context page instead of "it is damaged"."""
    with pytest.raises(ContextInputError) as info:
        parse_budget_xlsx(_with_part(part, data))
    assert "damaged" in info.value.summary


def rewritten_sheet(extra_rows: str = "", extra_cells: str = "") -> bytes:
    """The template with ``extra_rows`` after its rows (and ``extra_cells`` in its last row), the
    sheet's ``<dimension>`` removed, deflated: what a hostile upload can hold in a few kilobytes."""
    source = zipfile.ZipFile(io.BytesIO(xlsx([["area", "plan", "actual", "forecast"], ["Ops", 1, 1, 1]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = re.sub(r"<dimension[^>]*/>", "", data.decode())
                text = text.replace("</row></sheetData>", f"{extra_cells}</row>{extra_rows}</sheetData>")
                data = text.encode()
            z.writestr(item.filename, data)
    return out.getvalue()


def test_a_small_xlsx_of_400_000_blank_rows_is_refused_at_once() -> None:
    """60 KB of blank rows (400,000 of them) took 10 s to read before it was accepted; 2 MB of them,
    minutes. Refused at row 5,000 it still took 3 s: a sheet without a <dimension> was parsed whole
    by openpyxl on opening, twice. Its rows are now counted first, and counting stops at 5,001."""
    data = rewritten_sheet(extra_rows="<row><c/></row>" * 400_000)
    assert len(data) < 100_000
    gc.collect()  # a collection of the whole worker's heap, due now, is not this parse's time
    started = time.thread_time()  # this thread's CPU: neither a busy machine nor the worker's other threads count
    with pytest.raises(ContextInputError, match="empty rows"):
        parse_budget_xlsx(data)
    assert time.thread_time() - started < 0.5  # ~0.01 s of CPU; it was 3 s, and 10 s before that


def test_a_short_sheet_without_a_dimension_reads_as_before() -> None:
    rows = parse_budget_xlsx(rewritten_sheet(extra_rows="<row><c/></row>" * 4_000))
    assert [(r.area, r.plan) for r in rows] == [("Ops", 1)]


def test_an_xlsx_that_unpacks_to_far_more_than_a_budget_is_refused_at_once() -> None:
    """One row of 3,000,000 empty cells: 20 KB uploaded, 12 MB to parse."""
    data = rewritten_sheet(extra_cells="<c/>" * 3_000_000)
    started = time.thread_time()  # this thread's CPU: neither a busy machine nor the worker's other threads count
    with pytest.raises(ContextInputError, match="unpacks to"):
        parse_budget_xlsx(data)
    assert time.thread_time() - started < 2


def test_missing_and_repeated_columns_are_named_and_others_ignored() -> None:
    found = problems(b"area,budget,actual,owner,owner,variance\nEng,1,1,x,y,0\n")
    assert found == [
        "row 1, column owner: “owner” appears twice (columns D and E); keep one",
        "row 1: missing column forecast; name it forecast, full year forecast or projection",
    ]


def test_a_title_above_the_header_is_skipped_and_rows_keep_their_sheet_numbers() -> None:
    """A finance sheet starts with its title (merged across the columns) and a blank line; the
    header on row 3 was refused as "row 1: unknown column 'FY2026 budget…'; missing columns"."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["FY2026 budget by department (USD)"])
    sheet.merge_cells("A1:F1")
    sheet.append([])
    sheet.append(["Area", "Owner", "Plan", "Actual", "Forecast", "Notes"])
    sheet.append(["Engineering", "Priya", 18_500_000, 11_900_000, 19_600_000, None])
    sheet.append(["Marketing", "Rachel", 6_000_000, "lots", 5_100_000, None])
    out = io.BytesIO()
    book.save(out)
    assert problems(out.getvalue(), parse_budget_xlsx) == [
        "row 5, column actual: 'lots' is not a number (write it like 1250000 or 1,250,000)"
    ]
    csv_data = b"FY2026 budget (USD),,,\r\nPrepared by Finance,,,\r\narea,plan,actual,forecast\r\nOps,100,50,90\r\n"
    assert [(r.area, r.plan) for r in parse_budget_csv(csv_data)] == [("Ops", 100)]
    # without a header among the first rows, the first row is named as before
    assert problems(b"Budget,,,\nEng,1,1,1\n") == [
        "row 1: missing column area; name it area, department or category",
        "row 1: missing column actual; name it actual, actuals or spent",
        "row 1: missing column forecast; name it forecast, full year forecast or projection",
    ]


def test_a_workbook_that_opens_on_a_summary_sheet_is_read_from_its_budget_sheet() -> None:
    """A finance workbook opens on its summary; the budget sheet second was never looked at:
    "row 1: unknown column 'Total spend'; missing columns: area, plan, actual, forecast"."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    summary.append(["Total spend", 1_400_000])
    detail = book.create_sheet("Budget FY26")
    detail.append(["Area", "Owner", "Plan", "Actual", "Forecast"])
    detail.append(["Engineering", "Priya", 2_000_000, 1_400_000, 2_100_000])
    out = io.BytesIO()
    book.save(out)
    assert [(r.area, r.actual) for r in parse_budget_xlsx(out.getvalue())] == [("Engineering", 1_400_000)]


def test_too_many_rows_and_too_large_files_are_refused() -> None:
    body = "".join(f"Area {i},,1,1,1,\n" for i in range(MAX_ROWS + 1))
    with pytest.raises(ContextInputError, match=f"more than {MAX_ROWS} rows"):
        parse_budget_csv((HEADER + body).encode())
    with pytest.raises(ContextInputError, match=f"more than {MAX_ROWS} rows"):
        parse_budget_xlsx(
            xlsx([["area", "plan", "actual", "forecast"]] + [[f"A{i}", 1, 1, 1] for i in range(MAX_ROWS + 1)])
        )
    with pytest.raises(ContextInputError, match="MB are accepted"):
        parse_budget_csv(HEADER.encode() + b" " * MAX_FILE_BYTES)


def test_over_long_text_is_refused_with_its_length() -> None:
    found = problems((HEADER + "Eng,,1,1,1," + "x" * 2001 + "\n").encode())
    assert found == ["row 2, column notes: is 2001 characters long; at most 2000 are allowed"]


def test_demo_file_round_trips_through_rows_to_the_same_figures() -> None:
    demo = read_budget_file(ROOT / "data")
    rows = rows_of_budget_file(demo)
    again = budget_file_of(rows, currency=demo.currency, thresholds=demo.thresholds)
    # Same figures and flags; ids are made from the names (a user's file has no ids).
    assert [s.model_dump(exclude={"id"}) for s in budget_statuses(again)] == [
        s.model_dump(exclude={"id"}) for s in budget_statuses(demo)
    ]
    assert [a.id for a in budget_context_of(again, "cloud")] == ["cloud-infrastructure"]


def test_excels_sep_line_sets_the_separator_and_rows_keep_their_numbers() -> None:
    rows = parse_budget_csv(b"sep=;\r\narea;plan;actual;forecast\r\nOps;100;20;90\r\n")
    assert rows == [BudgetRow(area="Ops", plan=100, actual=20, forecast=90)]
    assert problems(b"sep=;\r\narea;plan;actual;forecast\r\nOps;lots;20;90\r\n") == [
        "row 3, column plan: 'lots' is not a number (write it like 1250000 or 1,250,000)"
    ]


def test_a_total_row_is_refused_not_counted_as_an_area() -> None:
    data = (HEADER + "Engineering,,100,50,90,\nSales,,200,50,190,\nGrand  Total,,300,100,280,\n").encode()
    assert problems(data) == [
        "row 4, column area: 'Grand Total' looks like a total row; remove it: the page adds the areas up itself"
    ]
    assert problems(
        xlsx([["area", "plan", "actual", "forecast"], ["Ops", 1, 1, 1], ["TOTAL", 1, 1, 1]]), parse_budget_xlsx
    ) == ["row 3, column area: 'TOTAL' looks like a total row; remove it: the page adds the areas up itself"]
    assert parse_budget_csv((HEADER + "Totally new area,,100,50,90,\n").encode())[0].area == "Totally new area"


def test_a_decimal_comma_in_a_comma_file_gets_a_decimal_hint() -> None:
    assert problems(b'area,plan,actual,forecast\nOps,"1200,50",1,1\n') == [
        "row 2, column plan: '1200,50' has a decimal comma; write it with a decimal point (1200.50)"
    ]


def test_a_negative_number_in_an_excel_cell_is_a_problem_of_its_row() -> None:
    """A credit written as a negative number failed with "1 validation error for BudgetRow"."""
    data = xlsx([["area", "plan", "actual", "forecast"], ["Ops", 100, -5, 90], ["Sales", 50, 10, -2.5]])
    assert problems(data, parse_budget_xlsx) == [
        "row 2, column actual: '-5' is negative; amounts must be 0 or more",
        "row 3, column forecast: '-2.5' is negative; amounts must be 0 or more",
    ]


def test_an_executives_own_workbook_is_read_with_its_names_saved_formula_values_and_extra_columns() -> None:
    """A finance workbook was refused whole: "unknown column 'Cost center'", "missing columns:
    area, plan, actual, forecast" and "formulas are not accepted; paste values" on every total."""
    upload = read_budget_xlsx(saved_by_excel(executive_sheet(), executive_results()))
    assert upload.rows == [
        BudgetRow(
            area="Engineering",
            owner="Priya Raman",
            plan=18_500_000,
            actual=11_900_000,
            forecast=15_866_666.67,  # =H4/9*12, to the cent
            notes="Contractors",
        ),
        BudgetRow(
            area="Marketing", owner="Rachel Kim", plan=6_000_000, actual=2_700_000, forecast=3_600_000, notes="Behind"
        ),
        BudgetRow(area="Sales", owner="Tom Lee", plan=9_800_000, actual=7_200_000, forecast=9_600_000),
    ]
    assert upload.columns.ignored == ("Cost center", "Q1", "Q2", "Q3", "Variance", "% spent")
    assert upload.columns.note() == (
        "Read area from “Department”, plan from “Annual budget”, actual from “YTD actual”, "
        "forecast from “Full-year forecast”, notes from “Comments”. "
        "Ignored columns: Cost center, Q1, Q2, Q3, Variance, % spent."
    )


def test_a_formula_whose_result_was_never_saved_is_refused_saying_what_to_do() -> None:
    """A workbook a program wrote holds formulas without results: read as nothing, the actuals
    would be empty or zero. Refused in the columns read; in an ignored column it never matters."""
    data = workbook_bytes(executive_sheet())  # openpyxl saves no results
    assert problems(data, parse_budget_xlsx) == [
        f"row {row}, column {column}: is a formula whose result was never saved (the file was written by a "
        "program, not by a spreadsheet); open it in Excel or LibreOffice, save it and upload it again, or paste values"
        for row in (4, 5, 6)
        for column in (["actual", "forecast"] if row != 5 else ["actual", "forecast", "notes"])
    ]
    results = executive_results()
    del results["Budget FY26"]["K5"], results["Budget FY26"]["J4"]  # variance, % spent: ignored columns
    results["Budget FY26"]["L5"] = ""  # =IF(…,"Behind","") gave empty text: saved as such, not missing
    rows = parse_budget_xlsx(saved_by_excel(executive_sheet(), results))
    assert [(r.area, r.actual, r.notes) for r in rows] == [
        ("Engineering", 11_900_000, "Contractors"),
        ("Marketing", 2_700_000, ""),
        ("Sales", 7_200_000, ""),
    ]


def test_a_formulas_error_and_a_formula_total_row_are_refused_as_in_a_typed_sheet() -> None:
    book = executive_sheet()
    sheet = book["Budget FY26"]
    sheet.append([None, "Total", None, "=SUM(D4:D6)", None, None, None, "=SUM(H4:H6)", "=SUM(I4:I6)"])
    results = executive_results()
    results["Budget FY26"] |= {"D7": 34_300_000, "H7": 21_800_000, "I7": 29_066_666.666666666, "I6": "#DIV/0!"}
    assert problems(saved_by_excel(book, results), parse_budget_xlsx) == [
        "row 6, column forecast: is #DIV/0!, an error of the sheet's formula; fix it or type the amount",
        "row 7, column area: 'Total' looks like a total row; remove it: the page adds the areas up itself",
    ]


def test_a_csv_with_its_own_names_and_extra_columns_is_read_and_a_formula_in_it_still_refused() -> None:
    data = (
        b"Cost center,Department,Budget,Spent,Projection,Variance,Comment\n"
        b"4100,Engineering,100,50,90,-10,ok\n"
        b",,,,,,\n"
        b"4199,,,,,=F2,\n"  # a subtotal in the ignored columns only: not a row of the budget
        b"4200,Sales,200,20,180,-20,\n"
    )
    upload = read_budget_csv(data)
    assert [(r.area, r.plan, r.actual, r.forecast, r.notes) for r in upload.rows] == [
        ("Engineering", 100, 50, 90, "ok"),
        ("Sales", 200, 20, 180, ""),
    ]
    assert upload.columns.ignored == ("Cost center", "Variance")
    assert problems(data.replace(b"100,50,90", b"100,=C2/2,90")) == [
        "row 2, column actual: formulas are not accepted; paste values"
    ]


def test_two_names_for_one_column_read_the_first_in_order_and_name_both() -> None:
    """ "Department" and "Category", "Plan" and "Budget": one is read by a fixed order (the
    template's name first), never guessed per file, and the note says which."""
    upload = read_budget_csv(b"Category,Department,Budget,Plan,Actuals,Forecast,Lead\nOps,Operations,1,100,50,90,Kim\n")
    assert [(r.area, r.plan, r.owner) for r in upload.rows] == [("Operations", 100, "Kim")]
    assert upload.columns.note() == (
        "Read area from “Department”, owner from “Lead”, actual from “Actuals”. Ignored columns: Category, Budget."
    )


def test_a_repeated_column_a_missing_one_and_an_unnamed_one_are_named() -> None:
    assert problems(b"Department,Budget,budget,Owner,owner\nEng,1,2,x,y\n") == [
        "row 1, column owner: “Owner” appears twice (columns D and E); keep one",
        "row 1, column plan: “Budget” appears twice (columns B and C); keep one",
        "row 1: missing column actual; name it actual, actuals or spent",
        "row 1: missing column forecast; name it forecast, full year forecast or projection",
    ]
    upload = read_budget_csv(b"area,,plan,actual,forecast,,Q1,Q1\nOps,x,1,1,1,,5,6\n")
    assert upload.columns.ignored == ("column B (no header)", "Q1", "Q1")  # column F is empty: not named
    assert read_budget_csv(budget_template_csv()).columns.note() == ""  # the template's own sheet: nothing to say


def test_a_header_in_thousands_or_naming_a_currency_reads_the_amounts_as_it_says() -> None:
    """Finance writes "Budget ($K)": read as dollars, 1,200 was a budget a thousandth of its size."""
    upload = read_budget_csv(b'Department,Budget ($K),Spent ($K),Forecast ($K),Spent (%)\nOps,"1,200",450.5,1100,38%\n')
    assert upload.rows == [BudgetRow(area="Ops", plan=1_200_000, actual=450_500, forecast=1_100_000, currency="USD")]
    assert "plan from “Budget ($K)” ×1,000" in upload.columns.note()
    euros = parse_budget_csv(b"area,plan (EUR),actual (EUR),forecast (EUR)\nOps,100,50,90\n")
    assert budget_file_of(euros).currency == "EUR"
    assert problems(b"area,plan (EUR),actual,forecast\nOps,$100,50,90\n") == [
        "The header says EUR but the amounts are in USD; use one"
    ]


def test_an_xlsxwriter_budget_with_formulas_is_refused_not_read_as_zero_spend() -> None:
    # pandas' to_excel and scripts write with XlsxWriter: 0 beside every formula, to be recalculated
    # by the spreadsheet that opens it. Read as they are, Engineering would have spent nothing.
    with pytest.raises(ContextInputError) as refused:
        read_budget_xlsx(xlsxwriter_budget(formulas=True))
    text = str(refused.value)
    assert "nothing was saved" in text
    assert "row 2, column actual: is a formula whose result was never saved" in text
    assert "row 3, column forecast" in text and "open it in Excel or LibreOffice, save it" in text
    typed = read_budget_xlsx(xlsxwriter_budget(formulas=False)).rows
    assert [(r.area, r.actual, r.forecast) for r in typed] == [
        ("Engineering", 500_000, 1_000_000),
        ("Sales", 150_000, 300_000),
    ]


@pytest.mark.parametrize(
    ("number_format", "currency"),
    [
        ("#,##0 [$€-407]", "EUR"),  # Excel's euro format, German locale
        ('"£"#,##0.00', "GBP"),
        ("[$-409]#,##0", None),  # a locale alone is no currency
        ("#,##0", None),
    ],
)
def test_an_xlsx_budget_formatted_in_a_currency_is_in_that_currency(number_format: str, currency: str | None) -> None:
    """Amount cells formatted "#,##0 [$€-407]" (typed as numbers, shown as "1.200.000 €") were shown in $."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Department", "Budget", "Spent", "Forecast"])
    sheet.append(["Engineering", 1_200_000, 450_000, 1_100_000])
    for cell in sheet[2][1:]:
        cell.number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    rows = read_budget_xlsx(buffer.getvalue()).rows
    assert [(r.area, r.plan, r.currency) for r in rows] == [("Engineering", 1_200_000, currency)]
    assert budget_file_of(rows).currency == (currency or "USD")
