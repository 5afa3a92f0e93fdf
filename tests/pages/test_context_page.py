"""AppTest tests of the My context page: demo badge, saving rocks and a budget, refusals, conflicts, two users.

The page runs behind the real sign-in gate (the local dev login, whose user is TEST_USER_ID)
through a small entry script that registers it the way ``streamlit_app.py`` registers pages.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

import assistant.config
from assistant.config import get_settings
from assistant.context.budget_io import BudgetRow
from assistant.context.budget_templates import budget_template_csv, budget_template_xlsx
from assistant.context.user_data import ContextStore, budget_for
from assistant.db import get_engine
from assistant.factory import get_store

ROOT = Path(__file__).resolve().parents[2]
ENTRY = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
from assistant.config import get_settings
from ui.auth_gate import require_identity

settings = get_settings()
pages = [st.Page({str(ROOT / "app_pages" / "context.py")!r}, title="My context", url_path="context", default=True)]
st.session_state["identity"] = require_identity(settings, pages=pages)
st.navigation(pages).run()
"""
ALICE, BOB = "alice-sub", "bob-sub"


@pytest.fixture
def engine(app_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Engine]]:
    """Configure the app (ENV=local, dev login as the given user) on SQLite or Postgres; return its engine."""

    def sign_in_as(user: str) -> Engine:
        monkeypatch.setenv("ENV", "local")
        monkeypatch.setenv("DATABASE_URL", app_database_url)
        monkeypatch.setenv("ASSISTANT_SECRETS_FILE", os.devnull)
        monkeypatch.setenv("MODEL_PROVIDER", "offline")
        monkeypatch.setenv("TEST_USER_ID", user)
        monkeypatch.setenv("TEST_USER_EMAIL", f"{user}@example.com")
        assistant.config.get_settings.cache_clear()
        get_store(get_settings())
        return get_engine(app_database_url)

    yield sign_in_as
    assistant.config.get_settings.cache_clear()


def open_page(timezone: str | None = None) -> AppTest:
    at = AppTest.from_string(ENTRY, default_timeout=60)
    if timezone is not None:
        at.context = {"timezone": timezone}  # what the browser reports as st.context.timezone
    at.run()
    assert not at.exception, at.exception
    return at


def badges(at: AppTest) -> list[str]:
    """The page's badges (``st.badge`` is drawn as ``:color-badge[label]`` Markdown)."""
    return [str(e.value) for e in at.markdown if "-badge[" in str(e.value)]


def budget_table(at: AppTest) -> list[str]:
    """The area names in the page's current-budget table (the first read-only table with an Area column)."""
    table = next(d for d in at.dataframe if d.editing_mode == "read_only" and "Area" in d.value.columns)
    return list(table.value["Area"])


def rocks_editor(at: AppTest) -> Any:
    """The big-rocks table (other sections, such as the calendar panel, may draw tables too)."""
    return next(d for d in at.data_editor if (d.key or "").startswith("ctx-rocks-editor"))


def budget_uploader(at: AppTest) -> Any:
    """The budget file uploader (the calendar panel has an uploader of its own)."""
    return next(u for u in at.file_uploader if (u.key or "").startswith("ctx-budget-file"))


def page_text(at: AppTest) -> str:
    parts: list[str] = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def button(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_demo_data_badge_by_default_and_gone_after_saving_rocks(engine: Callable[[str], Engine]) -> None:
    db = engine(ALICE)
    at = open_page()
    text = " ".join(badges(at))
    assert "Demo data" in text and "Big rocks: demo data" in text and "Budget: demo data" in text
    assert rocks_editor(at).editing_mode == "dynamic"
    assert "Launch Platform v3" in list(rocks_editor(at).value["name"])

    button(at, "save-rocks")
    assert "Big rocks saved (5)" in page_text(at)
    text = " ".join(badges(at))
    assert "Big rocks: yours, saved just now" in text and "Big rocks: demo data" not in text
    stored = ContextStore(db).get(ALICE, "big_rocks")
    assert stored is not None and stored.version == 1 and len(stored.rock_rows()) == 5


def test_edited_rock_with_problems_is_refused_with_row_and_column(engine: Callable[[str], Engine]) -> None:
    db = engine(ALICE)
    at = open_page()
    editor_key = rocks_editor(at).key
    assert editor_key is not None
    at.session_state[editor_key] = {
        "edited_rows": {1: {"progress_pct": 100}, 2: {"name": "Launch Platform v3"}},
        "added_rows": [{"name": "New rock", "status": "on_track", "progress_pct": 5, "due_date": "not a date"}],
        "deleted_rows": [],
    }
    at.run()
    button(at, "save-rocks")
    text = page_text(at)
    assert "row 3, column Initiative: 'Launch Platform v3' is already on row 1; each rock once" in text
    assert "nothing was saved" in text
    assert ContextStore(db).get(ALICE, "big_rocks") is None


def test_good_csv_preview_then_save_budget(engine: Callable[[str], Engine]) -> None:
    db = engine(ALICE)
    at = open_page()
    budget_uploader(at).set_value(("budget.csv", budget_template_csv(), "text/csv"))
    at.run()
    assert "budget.csv: 2 areas checked, no problems" in page_text(at)
    assert ContextStore(db).get(ALICE, "budget") is None  # nothing saved before the click
    button(at, "save-budget")
    assert "Budget saved (2 areas)" in page_text(at)
    assert "Budget: yours, saved just now" in " ".join(badges(at))
    stored = ContextStore(db).get(ALICE, "budget")
    assert stored is not None and [r.area for r in stored.budget_rows()] == ["Engineering", "Marketing"]


def test_one_area_budget_reads_one_area(engine: Callable[[str], Engine]) -> None:
    """A one-row budget was "1 areas checked" and "Budget saved (1 areas)"."""
    engine(ALICE)
    at = open_page()
    one = b"area,owner,plan,actual,forecast,notes\nEngineering,,100,10,90,\n"
    budget_uploader(at).set_value(("budget.csv", one, "text/csv"))
    at.run()
    assert "budget.csv: 1 area checked, no problems. Review it, then save." in page_text(at)  # not "them"
    button(at, "save-budget")
    assert "Budget saved (1 area)" in page_text(at)


def test_a_budget_in_euros_is_shown_in_euros(engine: Callable[[str], Engine]) -> None:
    """Excel's European CSV ('2.500.000,00 €') was read right but shown as '$2.5M' and
    'Plan ($)', and the agent told the same euros as dollars."""
    db = engine(ALICE)
    at = open_page()
    data = "sep=;\r\nArea;Owner;Plan;Actual;Forecast\r\nF&E;Jürgen;2.500.000,00 €;1.400.000,00 €;2.750.000,00 €\r\n"
    budget_uploader(at).set_value(("budget.csv", data.encode("cp1252"), "text/csv"))
    at.run()
    button(at, "save-budget")
    figures = {m.label: m.value for m in at.metric}
    assert (figures["Plan"], figures["Actual to date"]) == ("€2.5M", "€1.4M")
    table = next(d for d in at.dataframe if d.editing_mode == "read_only" and "Area" in d.value.columns)
    assert json.loads(table.proto.columns)["Plan"]["label"] == "Plan (€)"
    budget, is_demo = budget_for(db, ALICE, ROOT / "data")
    assert (budget.currency, is_demo) == ("EUR", False)


def test_budget_file_name_is_shown_as_typed_not_as_markdown(engine: Callable[[str], Engine]) -> None:
    """A file named ``[Approved by the CFO](https://evil.example).csv`` was shown as a link to that
    address, and ``:red[...]`` as coloured text: the name is the sender's, shown as plain text."""
    engine(ALICE)
    at = open_page()
    name = "[Approved by the CFO](https://evil.example) :red[urgent].csv"
    budget_uploader(at).set_value((name, budget_template_csv(), "text/csv"))
    at.run()
    (success,) = [str(e.value) for e in at.success]
    assert "2 areas checked, no problems" in success
    assert "\\[Approved by the CFO\\]" in success and ":red[" not in success
    assert "evil.example" in success


def test_an_address_in_a_budget_files_name_or_area_is_not_a_link(engine: Callable[[str], Engine]) -> None:
    """A budget file comes from colleagues: an area named "Cloud https://evil.example/renew" was a
    clickable link in "Needs attention: …" above the table, and so was an address in the file's
    name in "… checked, no problems" (seen in Chromium). Both read as typed and link nowhere."""
    db = engine(ALICE)
    area = "Cloud https://evil.example/renew"
    ContextStore(db).save(ALICE, "budget", [BudgetRow(area=area, plan=100, actual=90, forecast=200)], None)
    at = open_page()
    (line,) = [str(c.value) for c in at.caption if "Needs attention" in str(c.value)]
    assert "://" not in line and area in line.replace("\u200b", "").replace("\\", ""), line
    budget_uploader(at).set_value(("see https://evil.example/budget.csv", budget_template_csv(), "text/csv"))
    at.run()
    (success,) = [str(e.value) for e in at.success]
    assert "2 areas checked, no problems" in success and "://" not in success, success


def test_bad_csv_shows_every_problem_and_saves_nothing(engine: Callable[[str], Engine]) -> None:
    db = engine(ALICE)
    at = open_page()
    bad = b"area,owner,plan,actual,forecast,notes\nEngineering,,lots,1,1,\nSales,,100,1,=B2,\n"
    budget_uploader(at).set_value(("budget.csv", bad, "text/csv"))
    at.run()
    errors = " ".join(str(e.value) for e in at.error)
    assert "2 problems found; nothing was saved" in errors
    assert "row 2, column plan: 'lots' is not a number" in errors
    assert "row 3, column forecast: formulas are not accepted; paste values" in errors
    assert "save-budget" not in [b.key for b in at.button]
    assert ContextStore(db).get(ALICE, "budget") is None
    assert "Demo data" in " ".join(badges(at))


def test_a_files_header_cells_are_quoted_as_typed_not_as_markdown(engine: Callable[[str], Engine]) -> None:
    """The page quotes header cells back: a header cell ``![x](https://evil.example/p.png)`` was
    drawn as an image (the browser fetched that address) and ``:red[...]`` as coloured text, in
    the problems list then, in the ignored columns named now."""
    engine(ALICE)
    at = open_page()
    extra = b"area,owner,plan,actual,forecast,notes,![x](https://evil.example/p.png),:red[ok]\nEngineering,,1,1,1,,,\n"
    budget_uploader(at).set_value(("budget.csv", extra, "text/csv"))
    at.run()
    (success,) = [str(e.value) for e in at.success]
    assert "Ignored columns: " in success and "![x](" not in success and ":red[" not in success, success
    assert "evil.example" in success


def test_xlsx_with_a_formula_is_refused(engine: Callable[[str], Engine]) -> None:
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(budget_template_xlsx()))
    sheet = book.active
    assert sheet is not None
    sheet["C3"] = "=C2/2"
    out = io.BytesIO()
    book.save(out)
    db = engine(ALICE)
    at = open_page()
    budget_uploader(at).set_value(("budget.xlsx", out.getvalue(), "application/octet-stream"))
    at.run()
    errors = " ".join(str(e.value) for e in at.error)
    assert "row 3, column plan: is a formula whose result was never saved" in errors
    assert "open it in Excel or LibreOffice, save it and upload it again, or paste values" in errors
    assert ContextStore(db).get(ALICE, "budget") is None


def test_an_executives_own_workbook_is_accepted_naming_what_was_read_and_ignored(
    engine: Callable[[str], Engine],
) -> None:
    """A finance workbook (its own column names, quarters and variance beside the budget,
    formulas saved with their values) was refused whole: "unknown column 'Cost center'"."""
    from tests.fixtures.workbooks import executive_results, executive_sheet, saved_by_excel

    db = engine(ALICE)
    at = open_page()
    data = saved_by_excel(executive_sheet(), executive_results())
    budget_uploader(at).set_value(("FY26 budget.xlsx", data, "application/octet-stream"))
    at.run()
    assert not at.error, [str(e.value) for e in at.error]
    (success,) = [str(e.value).replace("\\", "") for e in at.success]
    assert success.startswith("FY26 budget.xlsx: 3 areas checked, no problems."), success
    assert "Read area from “Department”, plan from “Annual budget”, actual from “YTD actual”" in success
    assert "Ignored columns: Cost center, Q1, Q2, Q3, Variance, % spent." in success
    button(at, "save-budget")
    stored = ContextStore(db).get(ALICE, "budget")
    assert stored is not None
    assert [(r.area, r.plan, r.actual, r.forecast) for r in stored.budget_rows()] == [
        ("Engineering", 18_500_000, 11_900_000, 15_866_666.67),
        ("Marketing", 6_000_000, 2_700_000, 3_600_000),
        ("Sales", 9_800_000, 7_200_000, 9_600_000),
    ]


def test_a_save_over_another_tabs_change_is_a_conflict(engine: Callable[[str], Engine]) -> None:
    db = engine(ALICE)
    ContextStore(db).save(ALICE, "budget", [BudgetRow(area="Mine", plan=10, actual=1, forecast=9)], None)
    at = open_page()
    budget_uploader(at).set_value(("budget.csv", budget_template_csv(), "text/csv"))
    at.run()
    ContextStore(db).save(ALICE, "budget", [BudgetRow(area="Other tab", plan=10, actual=1, forecast=9)], 1)
    button(at, "save-budget")
    assert "Your budget was changed in another tab at" in " ".join(str(e.value) for e in at.error)
    stored = ContextStore(db).get(ALICE, "budget")
    assert stored is not None and [r.area for r in stored.budget_rows()] == ["Other tab"]
    button(at, "reload")
    assert budget_table(at) == ["Other tab"]


def test_load_demo_asks_first_when_there_is_data_and_clear_goes_back_to_demo(engine: Callable[[str], Engine]) -> None:
    db = engine(ALICE)
    ContextStore(db).save(ALICE, "budget", [BudgetRow(area="Mine", plan=10, actual=1, forecast=9)], None)
    at = open_page()
    button(at, "load-demo")
    assert "Replace your saved budget and big rocks with the demo data?" in " ".join(str(w.value) for w in at.warning)
    stored = ContextStore(db).get(ALICE, "budget")
    assert stored is not None and stored.version == 1  # nothing replaced before the confirmation
    button(at, "yes-demo")
    assert "Demo data loaded" in page_text(at)
    assert ContextStore(db).get(ALICE, "big_rocks") is not None
    button(at, "clear-budget")
    button(at, "yes-clear-budget")
    assert ContextStore(db).get(ALICE, "budget") is None
    assert "Budget: demo data" in " ".join(badges(at))


def test_two_users_see_only_their_own(engine: Callable[[str], Engine]) -> None:
    db = engine(ALICE)
    at = open_page()
    budget_uploader(at).set_value(("budget.csv", budget_template_csv(), "text/csv"))
    at.run()
    button(at, "save-budget")
    ContextStore(db).save(ALICE, "budget", [BudgetRow(area="Alice secret area", plan=10, actual=1, forecast=9)], 1)
    engine(BOB)
    bob = open_page()
    assert "Demo data" in " ".join(badges(bob))
    areas = budget_table(bob)
    assert "Alice secret area" not in areas and "Engineering" in areas  # the demo budget
    assert ContextStore(db).get(BOB, "budget") is None
    assert date.today()  # the page ran with today's demo dates


def calendar_uploader(at: AppTest) -> Any:
    """The calendar panel's .ics uploader."""
    return next(u for u in at.file_uploader if (u.key or "").startswith("cal-upload"))


def one_event_ics(props: str) -> bytes:
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\n{props}\nEND:VEVENT\nEND:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode()


def upload_calendar(at: AppTest, name: str, data: bytes) -> None:
    """Upload ``data`` as the calendar file ``name`` and run the page."""
    calendar_uploader(at).set_value((name, data, "text/calendar"))
    at.run()


def test_a_calendar_files_name_is_shown_as_typed_once_connected(engine: Callable[[str], Engine]) -> None:
    """The notice "Your meetings now come from …" drew the uploaded file's name as Markdown: a name like
    ``![x](https://evil.example/p.png).ics`` made the browser fetch that address."""
    engine(ALICE)
    at = open_page()
    start = f"{date.today() + timedelta(days=1):%Y%m%d}T090000Z"
    name = "![x](https://evil.example/p.png) :red[from IT].ics"
    upload_calendar(at, name, one_event_ics(f"UID:a@x\nDTSTART:{start}\nDTEND:{start}\nSUMMARY:Sync"))
    assert not at.exception, at.exception
    (success,) = [str(e.value) for e in at.success if "now come from" in str(e.value)]
    assert "evil.example" in success
    assert "![x](" not in success and ":red[" not in success


def test_a_calendar_with_only_past_meetings_is_connected_with_a_warning_that_says_so(
    engine: Callable[[str], Engine],
) -> None:
    """An export of last quarter was taken with a plain "now come from": then "No meetings in the
    next 14 days" and an empty Prep queue, nothing saying the file covered the wrong period."""
    engine(ALICE)
    at = open_page()
    start = f"{date.today() - timedelta(days=40):%Y%m%d}T090000Z"
    upload_calendar(at, "last-quarter.ics", one_event_ics(f"UID:p@x\nDTSTART:{start}\nDTEND:{start}\nSUMMARY:Old"))
    assert not at.exception, at.exception
    assert not [e for e in at.success if "now come from" in str(e.value)]
    (warning,) = [str(w.value) for w in at.warning if "now come from" in str(w.value)]
    assert "last-quarter.ics" in warning and "no meetings in the next 60 days" in warning, warning
    assert "covers the coming weeks" in warning


def test_a_calendar_connected_after_another_says_only_where_meetings_come_from_now(
    engine: Callable[[str], Engine],
) -> None:
    """Three files uploaded within seconds showed "Your meetings now come from a.ics." beside
    "… now come from b.ics …" and "… now come from c.ics …": each notice is held a few seconds,
    and the earlier ones contradicted the last."""
    engine(ALICE)
    at = open_page()
    start = f"{date.today() + timedelta(days=1):%Y%m%d}T090000Z"
    for name in ("a.ics", "b.ics", "c.ics"):
        upload_calendar(at, name, one_event_ics(f"UID:{name}@x\nDTSTART:{start}\nDTEND:{start}\nSUMMARY:Sync"))
        assert not at.exception, at.exception
    said = [str(n.value) for n in [*at.success, *at.warning] if "now come from" in str(n.value)]
    assert said == ["Your meetings now come from c.ics."], said


def test_a_calendar_repeating_every_minute_is_used_with_a_warning(engine: Callable[[str], Engine]) -> None:
    engine(ALICE)
    at = open_page()
    start = f"{date.today():%Y%m%d}T000000Z"
    minutely = one_event_ics(f"UID:m@x\nDTSTART:{start}\nDTEND:{start}\nRRULE:FREQ=MINUTELY\nSUMMARY:Ping")
    upload_calendar(at, "minutely.ics", minutely)
    assert not at.exception, at.exception
    assert "Your meetings now come from minutely.ics." in page_text(at)
    warnings = " ".join(str(w.value) for w in at.warning)
    assert "“Ping” repeats more often than the assistant can follow" in warnings
    assert "No meetings in the next 14 days." in page_text(at)


def test_a_calendar_in_an_unknown_time_zone_is_used_with_a_warning(engine: Callable[[str], Engine]) -> None:
    engine(ALICE)
    at = open_page()
    start = f"{date.today() + timedelta(days=1):%Y%m%d}T100000"
    mars = one_event_ics(f"UID:z@x\nDTSTART;TZID=Mars/Olympus:{start}\nDTEND;TZID=Mars/Olympus:{start}\nSUMMARY:Rover")
    upload_calendar(at, "mars.ics", mars)
    assert not at.exception, at.exception
    assert "Your meetings now come from mars.ics." in page_text(at)
    warnings = " ".join(str(w.value) for w in at.warning)
    assert "“Mars/Olympus” is not known" in warnings and "your own time zone" in warnings


def test_a_calendar_file_cut_short_is_refused_in_plain_words_and_the_calendar_stays(
    engine: Callable[[str], Engine],
) -> None:
    engine(ALICE)
    at = open_page()
    start = f"{date.today():%Y%m%d}T090000Z"
    good = one_event_ics(f"UID:b@x\nDTSTART:{start}\nDTEND:{start}\nRRULE:FREQ=DAILY;COUNT=3\nSUMMARY:Board prep")
    upload_calendar(at, "work.ics", good)
    assert "Your meetings now come from work.ics." in page_text(at)
    upload_calendar(at, "cut.ics", good[:100])
    assert not at.exception, at.exception
    errors = " ".join(str(e.value) for e in at.error)
    assert "cut.ics was not used." in errors
    assert "not a valid iCalendar (.ics) file: it stops before its end" in errors
    assert "Found no components" not in errors
    editor = next(d for d in at.data_editor if d.key == "cal-types")
    assert "Board prep ↻" in list(editor.value["Meeting"])


def test_the_meetings_table_counts_you_and_who_attends_as_the_prep_cost_does(engine: Callable[[str], Engine]) -> None:
    """ "People" was the file's ATTENDEE lines: a meeting you organised alone read 0 people, a 1:1
    that lists you read 2, and a declined guest counted, while the Prep queue's cost counts you
    once and leaves declined guests out."""
    engine(ALICE)
    at = open_page()
    day = f"{date.today() + timedelta(days=1):%Y%m%d}"
    you = f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ALICE}@example.com"
    ann = "ATTENDEE;CN=Ann;PARTSTAT=ACCEPTED:mailto:ann@example.com"
    bob = "ATTENDEE;CN=Bob;PARTSTAT=DECLINED:mailto:bob@example.com"
    events = [
        ("solo", "Focus block", f"ORGANIZER:mailto:{ALICE}@example.com"),
        ("one", "1:1 with Ann", f"ORGANIZER:mailto:{ALICE}@example.com\n{you}\n{ann}"),
        ("review", "Design review", f"{ann}\n{bob}"),
    ]
    body = "".join(
        f"BEGIN:VEVENT\nUID:{uid}@x\nDTSTART:{day}T{9 + i:02d}0000Z\nDTEND:{day}T{9 + i:02d}3000Z\n"
        f"SUMMARY:{title}\n{extra}\nEND:VEVENT\n"
        for i, (uid, title, extra) in enumerate(events)
    )
    ics = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\n{body}END:VCALENDAR\n".replace("\n", "\r\n")
    upload_calendar(at, "team.ics", ics.encode())
    assert not at.exception, at.exception
    editor = next(d for d in at.data_editor if d.key == "cal-types")
    people = dict(zip(editor.value["Meeting"], editor.value["People"], strict=True))
    assert people == {"Focus block": 1, "1:1 with Ann": 2, "Design review": 2}, people


def test_the_calendar_uploader_says_its_limit_before_an_upload(engine: Callable[[str], Engine]) -> None:
    """A file over the limit never reaches the app (the browser marks it red), so the limit is said up front."""
    engine(ALICE)
    at = open_page()
    uploader = calendar_uploader(at)
    assert uploader.proto.max_upload_size_mb == 5  # ICS_MAX_BYTES, 5 MB by default
    assert "up to 5 MB" in uploader.help
    assert any(str(c.value).startswith("Up to 5 MB. A bigger calendar: export a shorter period") for c in at.caption)


def test_budget_totals_round_into_the_next_unit(engine: Callable[[str], Engine]) -> None:
    # $999,960 spent read "$1,000K" and a $999.96M plan read "$1,000M" above the budget table
    db = engine(ALICE)
    rows = [BudgetRow(area="Ops", plan=999_960_000, actual=999_960, forecast=1_500)]
    ContextStore(db).save(ALICE, "budget", rows, None)
    figures = {m.label: m.value for m in open_page().metric}
    assert figures["Plan"] == "$1B"
    assert figures["Actual to date"] == "$1M"
    assert figures["Forecast"] == "$1.5K"


@pytest.mark.parametrize(
    ("forecast", "delta", "color"), [(1_000, "on plan", 2), (1_000.4, "on plan", 2), (1_200, "+20.0% vs plan", 0)]
)
def test_a_forecast_on_plan_is_not_drawn_as_an_overspend(
    engine: Callable[[str], Engine], forecast: float, delta: str, color: int
) -> None:
    """A forecast equal to the plan (a sheet nobody re-forecast) showed a red up arrow, "+0.0% vs plan"."""
    db = engine(ALICE)
    ContextStore(db).save(ALICE, "budget", [BudgetRow(area="Ops", plan=1_000, actual=10, forecast=forecast)], None)
    [metric] = [m for m in open_page().metric if m.label == "Forecast"]
    assert (metric.proto.delta, metric.proto.color) == (delta, color)  # 2 gray, 0 red


def test_big_rocks_due_dates_read_like_the_rest_of_the_app(engine: Callable[[str], Engine]) -> None:
    """The big rocks' Due column showed "2027-01-19" while the calendar beside it read "Mon 07 Dec"
    and the assistant's answer "due 19 Jan 2027": one date, two formats in a demo."""
    engine(ALICE)
    columns = json.loads(rocks_editor(open_page()).proto.columns)
    assert columns["due_date"]["type_config"]["format"] == "D MMM YYYY"


def test_every_section_heading_has_its_icon(engine: Callable[[str], Engine]) -> None:
    """Big rocks and Budget had an icon before their heading, Calendar had none (and looked unfinished)."""
    engine(ALICE)
    at = open_page()
    icons = {h.proto.body: h.proto.icon for h in at.header}  # h2s under the page's h1
    assert set(icons) >= {"Calendar", "Big rocks", "Budget"}, icons
    assert all(icon.startswith(":material/") for icon in icons.values()), icons


def test_the_calendar_says_which_zone_its_times_are_in(engine: Callable[[str], Engine]) -> None:
    """The meetings table read "Mon 07 Dec 23:00" with no zone: a traveller whose browser had
    moved to Singapore could not tell it from their home zone's clock."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from assistant.views.format import zone_abbreviation

    engine(ALICE)
    auckland = zone_abbreviation(datetime.now(UTC), ZoneInfo("Pacific/Auckland"))
    assert f"Times are in your browser's time zone, {auckland} (Pacific/Auckland)." in page_text(
        open_page("Pacific/Auckland")
    )
    assert "Times are in your browser's time zone, UTC+08 (Asia/Singapore)." in page_text(open_page("Asia/Singapore"))
