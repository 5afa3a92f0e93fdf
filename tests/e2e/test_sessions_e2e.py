"""The Sessions & cost page in a real headless Chromium against a real ``streamlit run`` server.

Chat first (offline demo model), then find the session in the sessions table with its
tokens, open it, and resume it in the chat page; and a browser in New York sees the
session's start in New York time; "Clear filters" empties the search box for good.
Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import StreamlitServer, idle, shot

pytestmark = pytest.mark.e2e

INPUT = '[data-testid="stChatInputTextArea"]'
FOOTERS = '[class*="st-key-turn-footer-"]'
TABLE = '[data-testid="stDataFrame"]'
ROW_HEIGHT = 38  # row_height of the sessions table (header included)
QUESTION = "Prepare me for the Acme QBR"
NEW_YORK = ZoneInfo("America/New_York")


def session_id(page: Any) -> str:
    return str(page.evaluate("() => new URLSearchParams(location.search).get('session') || ''"))


def chat_once(page: Any, server: StreamlitServer, question: str) -> str:
    """Ask one question in a new session on the chat page; return the session id once the answer is stored."""
    page.goto(server.url + "/")
    page.wait_for_selector(INPUT)
    idle(page)
    page.fill(INPUT, question)
    page.press(INPUT, "Enter")
    page.wait_for_function(
        "([sel]) => document.querySelectorAll(sel).length === 1 && !document.querySelector('.st-key-live-answer')",
        arg=[FOOTERS],
    )
    page.wait_for_function("() => new URLSearchParams(location.search).get('session')", timeout=10_000)
    return session_id(page)


def table_rows(page: Any) -> list[list[str]]:
    """Cell texts of the sessions table (Glide's accessible table mirrors the canvas)."""
    rows: list[list[str]] = page.evaluate(
        """(sel) => [...document.querySelectorAll(sel + ' table tr')].map(
            tr => [...tr.querySelectorAll('th, td')].map(c => c.innerText.trim()))""",
        TABLE,
    )
    return rows


def test_chat_then_find_open_and_resume_the_session(page: Any, chat_server: StreamlitServer) -> None:
    sid = chat_once(page, chat_server, QUESTION)
    assert sid

    page.get_by_role("link", name="Sessions & cost").click()
    page.wait_for_selector(TABLE)
    idle(page)
    page.wait_for_function("(sel) => document.querySelectorAll(sel + ' table tr').length >= 2", arg=TABLE)
    rows = table_rows(page)
    header = rows[0]
    index = next(i for i, row in enumerate(rows[1:]) if row and QUESTION in row[header.index("Title")])
    row = rows[index + 1]
    assert int(row[header.index("Input tokens")].replace(",", "")) > 0
    assert int(row[header.index("Output tokens")].replace(",", "")) > 0
    assert row[header.index("Cost")] == "$0.00"
    assert page.locator("text=offline demo model is free").count() == 1
    shot(page, "sessions-01-table")

    box = page.locator(TABLE).bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + ROW_HEIGHT * (index + 1) + ROW_HEIGHT / 2)
    page.wait_for_selector(".st-key-detail-actions")
    page.locator('[data-testid="stChatMessage"]', has_text=QUESTION).wait_for()
    page.locator('[data-testid="stExpander"]', has_text="get_upcoming_meetings").first.wait_for()
    idle(page)
    assert session_id(page) == sid
    assert page.locator('[data-testid="stChatMessage"]', has_text=QUESTION).count() == 1
    page.locator(".st-key-detail-metrics", has_text="Input tokens").wait_for()
    detail_metrics = page.locator(".st-key-detail-metrics").inner_text()
    assert re.search(r"Input tokens\s*\n?\s*[1-9]", detail_metrics), detail_metrics
    shot(page, "sessions-02-detail")

    page.get_by_role("button", name="Resume in chat").click()
    page.wait_for_selector(INPUT)
    page.wait_for_selector(FOOTERS)
    page.locator(".st-key-chat-header", has_text=QUESTION).wait_for()
    idle(page)
    assert session_id(page) == sid
    assert page.locator('[data-testid="stChatMessage"]', has_text=QUESTION).count() == 1
    assert page.locator(".st-key-chat-header", has_text="Prepare me for the Acme QBR").count() == 1
    shot(page, "sessions-03-resumed")


@pytest.fixture
def new_york_page(browser: Any) -> Iterator[Any]:
    """A page whose browser reports America/New_York as its time zone."""
    context = browser.new_context(viewport={"width": 2400, "height": 900}, timezone_id="America/New_York")
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def test_times_show_in_the_browsers_time_zone(new_york_page: Any, chat_server: StreamlitServer) -> None:
    page = new_york_page
    question = "What is on my calendar this week?"
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    sid = chat_once(page, chat_server, question)
    assert sid
    after = datetime.now(UTC)
    minutes = [before + timedelta(minutes=i) for i in range(int((after - before).total_seconds() // 60) + 1)]
    local = [m.astimezone(NEW_YORK) for m in minutes]
    abbr = local[0].tzname()
    assert abbr in ("EST", "EDT")  # EST from November to March

    page.goto(f"{chat_server.url}/sessions?session={sid}")
    page.wait_for_selector(".st-key-detail-actions")
    started = page.locator('[data-testid="stCaptionContainer"]', has_text="Started ")
    started.first.wait_for()
    page.locator('[data-testid="stChatMessage"]', has_text=question).wait_for()
    page.locator(".st-key-detail-metrics", has_text="Input tokens").wait_for()
    idle(page)
    caption = started.first.inner_text()
    assert any(f"Started {t:%Y-%m-%d %H:%M} {abbr} · last activity" in caption for t in local), caption
    assert "UTC" not in caption
    shot(page, "sessions-04-detail-new-york")

    page.goto(f"{chat_server.url}/sessions")
    page.wait_for_selector(TABLE)
    idle(page)
    page.wait_for_function("(sel) => document.querySelectorAll(sel + ' table tr').length >= 2", arg=TABLE)
    shot(page, "sessions-05-table-new-york")
    rows = table_rows(page)
    header = rows[0]
    row = next(r for r in rows[1:] if r and question in r[header.index("Title")])
    assert "Started" in header, header
    cell = row[header.index("Started")]
    # The accessible mirror of the canvas holds the value in the column's zone: "2026-11-25 16:18:37-05:00".
    assert any(cell.startswith(f"{t:%Y-%m-%d %H:%M}") and cell.endswith(t.isoformat()[-6:]) for t in local), cell


def test_clear_filters_empties_the_search_box_and_stays_cleared(page: Any, chat_server: StreamlitServer) -> None:
    chat_once(page, chat_server, QUESTION)
    page.get_by_role("link", name="Sessions & cost").click()
    page.wait_for_selector(TABLE)
    idle(page)
    search = ".st-key-sc_search input"
    page.fill(search, "no such words anywhere")
    page.press(search, "Enter")
    page.wait_for_selector(".st-key-sc_clear button")
    idle(page)
    page.locator(".st-key-sc_clear button").click()
    page.wait_for_selector(TABLE)
    idle(page)
    # the box shows what filters the table: empty, not the words that were cleared
    assert page.input_value(search) == ""
    # and the next rerun (any other control) does not bring the cleared words back
    page.locator(".st-key-sc_order button", has_text="Ascending").click()
    idle(page)
    page.wait_for_timeout(500)
    idle(page)
    assert page.locator(".st-key-sc-empty").count() == 0
    assert page.locator(TABLE).count() == 1
    shot(page, "sessions-04-filters-cleared")


def test_a_session_opened_from_far_down_the_table_shows_its_title(browser: Any, chat_server: StreamlitServer) -> None:
    """The detail kept the table's scroll position: a row clicked low on the page opened the
    session with its title, Back and Resume buttons scrolled out of sight above."""
    context = browser.new_context(viewport={"width": 1400, "height": 600})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        sid = chat_once(page, chat_server, QUESTION)
        page.get_by_role("link", name="Sessions & cost").click()
        page.wait_for_selector(TABLE)
        idle(page)
        page.locator(TABLE).scroll_into_view_if_needed()
        page.evaluate("() => { document.querySelector('[data-testid=stMain]').scrollTop = 1e6 }")
        page.wait_for_timeout(300)
        assert page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTop") > 200
        box = page.locator(TABLE).bounding_box()
        page.mouse.click(box["x"] + 16, box["y"] + ROW_HEIGHT * 1.5)  # the first row: the newest session
        page.wait_for_selector(".st-key-detail-actions")
        idle(page)
        page.wait_for_timeout(500)
        assert session_id(page) == sid
        back = page.locator(".st-key-detail-back").bounding_box()
        assert back is not None and back["y"] >= 0, f"the detail opened scrolled past its title: {back}"
        assert page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTop") == 0
    finally:
        context.close()


def test_the_sessions_table_offers_no_csv_of_its_own(page: Any, chat_server: StreamlitServer) -> None:
    """The table toolbar's CSV wrote each title as it is: a title such as =cmd|' /C calc'!A0 ran
    as a formula in the spreadsheet that opened it (an admin's, for everyone's titles). The
    toolbar keeps its other buttons; the dashboard's own CSV downloads quote such text."""
    chat_once(page, chat_server, "=cmd|' /C calc'!A0")
    page.get_by_role("link", name="Sessions & cost").click()
    page.wait_for_selector(TABLE)
    idle(page)
    page.locator(TABLE).hover()
    page.locator('[data-testid="stElementToolbar"]').first.wait_for()
    page.get_by_role("button", name="Search", exact=True).wait_for()  # the toolbar's, not the search box's help
    assert page.get_by_role("button", name="Download as CSV").count() == 0


def test_a_session_opens_again_after_going_back_to_the_table(page: Any, chat_server: StreamlitServer) -> None:
    """The table came back with the opened row still selected: a click on that row, to open the
    same session again, only cleared the selection."""
    sid = chat_once(page, chat_server, QUESTION)
    page.get_by_role("link", name="Sessions & cost").click()
    page.wait_for_selector(TABLE)
    idle(page)
    for _ in range(2):
        box = page.locator(TABLE).bounding_box()
        page.mouse.click(box["x"] + 16, box["y"] + ROW_HEIGHT * 1.5)  # the first row: the newest session
        page.wait_for_selector(".st-key-detail-actions")
        idle(page)
        assert session_id(page) == sid
        page.locator(".st-key-detail-back button").click()
        page.wait_for_selector(TABLE)
        idle(page)


def test_the_markdown_export_writes_times_in_the_browsers_zone(
    new_york_page: Any, chat_server: StreamlitServer
) -> None:
    """The detail said "Started ... EST" while the downloaded Markdown said "Created: ... UTC" and
    "Turn 1 · ... UTC": a reader in New York had to convert every time in their own export."""
    page = new_york_page
    sid = chat_once(page, chat_server, QUESTION)
    page.goto(f"{chat_server.url}/sessions?session={sid}")
    page.wait_for_selector(".st-key-detail-actions")
    page.locator('[data-testid="stChatMessage"]', has_text=QUESTION).wait_for()
    idle(page)
    with page.expect_download() as download:
        page.locator(".st-key-detail-export-md button").click()
    with open(download.value.path(), encoding="utf-8") as f:
        text = f.read()
    abbr = datetime.now(NEW_YORK).tzname()
    assert re.search(rf"^- Created: \d{{4}}-\d\d-\d\d \d\d:\d\d {abbr} · updated ", text, re.M), text[:600]
    assert re.search(rf"^## Turn 1 · \d{{4}}-\d\d-\d\d \d\d:\d\d {abbr}$", text, re.M), text[:600]
    assert " UTC" not in text
