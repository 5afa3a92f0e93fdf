"""Keyboard, screen-reader and small-screen checks of the three pages in a real Chromium.

What a keyboard-only user tabs through and what a screen reader reads (Playwright's ARIA
snapshot of the page), on the offline model. Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

import pytest

from tests.e2e.conftest import StreamlitServer, idle, shot

pytestmark = pytest.mark.e2e

INPUT = '[data-testid="stChatInputTextArea"]'
FOOTERS = '[class*="st-key-turn-footer-"]'


def open_page(page: Any, server: StreamlitServer, path: str = "") -> None:
    page.goto(server.url + "/" + path)
    page.wait_for_selector('[data-testid="stMain"] h1, [data-testid="stMain"] h2, [data-testid="stMain"] h3')
    idle(page)
    # The page's accessibility script runs once its element is drawn, which a busy browser does a
    # moment after the run has ended: a key pressed before then met the page without it.
    page.wait_for_function("() => window.__eaA11y === true")


def test_headings_are_no_tab_stops_and_read_without_icon_names(page: Any, chat_server: StreamlitServer) -> None:
    """Each heading had a 'Link to heading' anchor: an unlabelled tab stop before the content, also
    in answers with headings; the context page's section headings read 'landscape icon Big rocks'."""
    open_page(page, chat_server)
    page.fill(INPUT, "## Agenda\n\nWhat should be on it?")
    page.press(INPUT, "Enter")
    page.wait_for_selector(FOOTERS)
    idle(page)
    assert page.get_by_role("heading", name="Agenda", exact=True).count() >= 1  # the question's own heading
    for path in ("", "context", "sessions"):
        if path:
            open_page(page, chat_server, path)
        anchors = page.get_by_role("link", name="Link to heading")
        assert anchors.count() == 0, f"/{path}: {anchors.count()} heading anchors"
        names = [page.get_by_role("heading").nth(i).inner_text() for i in range(page.get_by_role("heading").count())]
        assert names, f"/{path}: no headings"
        tree = page.locator("main").aria_snapshot()
        assert "icon Big rocks" not in tree and "icon Budget" not in tree, tree
    assert page.get_by_role("heading", name="Sessions & cost", level=1).count() == 1
    open_page(page, chat_server, "context")
    assert page.get_by_role("heading", name="Big rocks", exact=True).count() == 1
    assert page.get_by_role("heading", name="Budget", exact=True).count() == 1
    shot(page, "a11y-context-headings")


def test_sessions_pager_stays_on_one_line_on_a_phone(browser: Any, chat_server: StreamlitServer) -> None:
    """On a 390 px phone the pager wrapped: 'Previous' alone on a line, 'Showing …' and 'Next' under it;
    the dashboard's period picker ran off the screen."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        open_page(page, chat_server)
        page.fill(INPUT, "How is our budget tracking?")  # the pager shows once there is a session
        page.press(INPUT, "Enter")
        page.wait_for_selector(FOOTERS)
        idle(page)
        open_page(page, chat_server, "sessions")
        page.wait_for_selector(".st-key-sc_next button")
        page.locator(".st-key-sc-pager").scroll_into_view_if_needed()
        page.wait_for_timeout(500)  # the table above settles its height
        boxes = page.evaluate(
            """() => ['.st-key-sc_prev button', '.st-key-sc_next button'].map((s) => document.querySelector(s))
                .concat([...document.querySelectorAll('.st-key-sc-pager p')]
                    .filter((p) => p.innerText.startsWith('Showing')))
                .map((e) => { const r = e.getBoundingClientRect(); return [r.top + r.height / 2, r.right]; })"""
        )
        shot(page, "a11y-phone-pager")
        middles = [middle for middle, _ in boxes]
        # 'Showing …' sat 7.5 px below the buttons' middle (its Markdown's own -1rem bottom margin)
        assert len(boxes) == 3 and max(middles) - min(middles) < 2, boxes
        assert all(right <= 390 for _, right in boxes), boxes
        # "Sort by" kept its 170 px desktop width under full-width filters: now as wide as they are
        sort_box, model_box = (page.locator(s).bounding_box() for s in (".st-key-sc_sort", ".st-key-sc_models"))
        assert sort_box and model_box and abs(sort_box["width"] - model_box["width"]) < 2, (sort_box, model_box)
        # The dashboard's period picker ran off the screen: 'Custom ra' cut at the edge, the rest
        # of it only reachable by an invisible horizontal scroll. Now its buttons wrap.
        page.get_by_role("tab", name="Cost dashboard").click()
        page.wait_for_selector(".st-key-db_period button")
        idle(page)
        period = page.locator(".st-key-db_period button")
        rights = [box["x"] + box["width"] for box in (period.nth(i).bounding_box() for i in range(period.count()))]
        shot(page, "a11y-phone-period")
        assert period.count() == 4 and max(rights) <= 375, rights
    finally:
        context.close()


def test_rows_of_cards_and_controls_line_up(page: Any, chat_server: StreamlitServer) -> None:
    """My context's budget totals: the Forecast card (with its '+2.3% vs plan') was taller than
    Plan, Actual to date and Areas needing attention beside it, a ragged row of boxes. Sessions:
    the 'Order' buttons were shorter than the 'Sort by' and 'Rows per page' boxes beside them,
    so its label sat 7.5 px lower than theirs. The cost dashboard's chart cards ended at different
    heights side by side (a note under one chart, none or a longer one under the other)."""
    open_page(page, chat_server, "context")
    cards = page.locator('.st-key-ctx-budget-totals [data-testid="stMetric"]')
    cards.first.scroll_into_view_if_needed()
    boxes = [cards.nth(i).bounding_box() for i in range(cards.count())]
    shot(page, "a11y-budget-totals")
    assert len(boxes) == 4 and len({round(b["y"]) for b in boxes}) == 1, boxes  # one row at 1280 px
    heights = [b["height"] for b in boxes]
    assert max(heights) - min(heights) < 1, heights
    open_page(page, chat_server, "sessions")
    labels = [
        page.locator(f".st-key-{key} [data-testid='stWidgetLabel']").bounding_box()
        for key in ("sc_sort", "sc_order", "sc_page_size")
    ]
    tops = [box["y"] for box in labels]
    shot(page, "a11y-sessions-sort-row")
    assert max(tops) - min(tops) < 1, tops

    open_page(page, chat_server)
    page.fill(INPUT, "What meetings do I have this week?")  # the dashboard draws its charts once there is usage
    page.press(INPUT, "Enter")
    page.wait_for_selector(FOOTERS)
    idle(page)
    open_page(page, chat_server, "sessions")
    page.get_by_role("tab", name="Cost dashboard").click()
    page.wait_for_selector(".st-key-card-latency")
    idle(page)
    cards = page.locator("[class*='st-key-card-']")
    rows: dict[int, list[float]] = {}
    for i in range(cards.count()):
        box = cards.nth(i).bounding_box()
        rows.setdefault(round(box["y"]), []).append(box["height"])
    shot(page, "a11y-dashboard-cards", full_page=True)
    pairs = [heights for heights in rows.values() if len(heights) == 2]
    assert len(pairs) == 2 and all(abs(a - b) < 1 for a, b in pairs), rows


def test_prep_card_help_icon_is_not_alone_on_a_line(page: Any, chat_server: StreamlitServer) -> None:
    """A prep card's 'Nothing prepared yet · $730 of people's time' filled its line exactly, and its
    (?) help icon wrapped onto a line of its own under it (1280 px wide); now a word goes down with it."""
    page.set_viewport_size({"width": 1280, "height": 800})
    open_page(page, chat_server)
    caption = page.locator("[class*='st-key-prep-card-'] [data-testid='stCaptionContainer'] p", has_text="people")
    icon = caption.first.locator("[data-testid='stTooltipIcon']")
    line_start = caption.first.bounding_box()["x"]
    shot(page, "a11y-prep-card")
    assert icon.bounding_box()["x"] - line_start > 20, (line_start, icon.bounding_box())


def test_icons_are_not_read_before_labels(page: Any, chat_server: StreamlitServer) -> None:
    """A Markdown icon is an image named after it: the sidebar read 'payments icon $0.00 of $5.00
    today', a badge 'science icon offline demo model' and the sessions tabs 'table_rows icon Sessions'."""
    open_page(page, chat_server)
    page.get_by_text("of $5.00 today").wait_for()
    for path in ("", "context", "sessions"):
        if path:
            open_page(page, chat_server, path)
        tree = page.locator("body").aria_snapshot()
        assert " icon" not in tree, f"/{path}:\n{tree}"
    assert page.get_by_role("tab", name="Sessions", exact=True).count() == 1


def test_the_spend_bar_is_read_with_its_figures(page: Any, chat_server: StreamlitServer) -> None:
    """The sidebar's spend bar was read 'progress, 0%': its figures are in the line above it, which
    a screen reader did not connect to it. It is now named after that line, also after an answer."""
    open_page(page, chat_server)
    page.get_by_text("of $5.00 today").wait_for()
    bar = page.locator('[data-testid="stSidebar"]').get_by_role("progressbar")
    expect_name = r"^\$\d+\.\d\d of \$5\.00 today$"
    page.wait_for_function(
        "re => new RegExp(re).test(document.querySelector('[data-testid=stSidebar] [role=progressbar]')"
        ".getAttribute('aria-label'))",
        arg=expect_name,
    )
    page.fill(INPUT, "How is our budget tracking?")
    page.press(INPUT, "Enter")
    page.wait_for_selector(FOOTERS)
    idle(page)
    page.wait_for_function(
        "re => new RegExp(re).test(document.querySelector('[data-testid=stSidebar] [role=progressbar]')"
        ".getAttribute('aria-label'))",
        arg=expect_name,
    )
    assert bar.aria_snapshot().startswith('- progressbar "$'), bar.aria_snapshot()


def test_a_delete_confirmation_is_announced_and_takes_the_focus(page: Any, chat_server: StreamlitServer) -> None:
    """Delete session (in the Session actions popover) drew its question in the sidebar while the
    popover and its button went away: nothing was read, and the focus was lost to the page."""
    open_page(page, chat_server)
    page.fill(INPUT, "What meetings do I have this week?")
    page.press(INPUT, "Enter")
    page.wait_for_selector(FOOTERS)
    idle(page)
    page.get_by_role("button", name="Session actions").click()
    page.get_by_role("button", name="Delete session").click()
    status = page.locator('[role="status"][aria-live="polite"]', has_text="removed for good")
    status.wait_for(state="attached")
    assert status.inner_text().startswith("Delete “What meetings do I have this week?”?"), status.inner_text()
    page.wait_for_function("() => document.activeElement && document.activeElement.textContent.trim() === 'Cancel'")
    page.keyboard.press("Enter")  # the keyboard user keeps the session
    page.locator(".st-key-confirm-box-delete-session").wait_for(state="detached")
    assert page.get_by_role("button", name="Session actions").count() == 1


def test_answers_and_refusals_are_announced_politely(page: Any, chat_server: StreamlitServer) -> None:
    """Nothing told a screen reader user that an answer had finished streaming or that a send was
    refused; a polite status region now says so (the streamed text itself is not live)."""
    open_page(page, chat_server)
    status = page.locator('[role="status"][aria-live="polite"]', has_text="Answer finished")
    page.fill(INPUT, "How is our budget tracking?")
    page.press(INPUT, "Enter")
    status.wait_for(state="attached")
    page.fill(INPUT, "a" * 8100)
    page.press(INPUT, "Enter")
    refused = page.locator('[role="status"][aria-live="polite"]', has_text="Not sent:")
    refused.wait_for(state="attached")
    icon = page.locator(".st-key-refusal [data-testid='stAlertDynamicIcon']").first.inner_text()
    said = refused.inner_text()
    assert "8,100 characters" in said and icon not in said, (icon, said)  # its words, not its icon's name


def test_prep_card_buttons_name_their_meeting(page: Any, chat_server: StreamlitServer) -> None:
    """Every prep card's buttons read 'Prepare', 'Materials': tabbing through the queue gave no
    clue which meeting each acts on. The title follows in the name only (visually hidden)."""
    open_page(page, chat_server)
    card = page.locator("[class*='st-key-prep-card-']").first
    title = card.locator("strong").first.inner_text()
    for label in ("Prepare", "Materials"):
        button = card.get_by_role("button", name=f"{label} for {title}", exact=True)
        button.wait_for(timeout=5000)  # the card may still be drawing
        hidden = button.locator("em").bounding_box()
        assert hidden is not None and hidden["width"] <= 1, hidden  # sighted users still see 'Prepare'
    # its (?) button was 'Help' on every card; it is named after its line, as Streamlit names a widget's
    assert card.get_by_role("button", name="Help for ").first.get_attribute("aria-label").endswith("people's time")


OUTLINE = """() => [...document.querySelectorAll('[data-testid="stMain"] :is(h1, h2, h3, h4, h5, h6)')]
    .filter((h) => !h.closest('[data-testid="stChatMessage"]')).map((h) => Number(h.tagName[1]))"""


def test_each_page_has_one_h1_and_no_skipped_heading_levels(page: Any, chat_server: StreamlitServer) -> None:
    """Heading navigation met no h1 on the chat page ('New session' was an h3, the Prep queue an h4
    under an h2) nor on My context (its title an h2, its sections h3s). The sessions page's empty
    states (h4 under its h1, now h2) are not reached here. Sizes stay as they were (each page's CSS)."""
    open_page(page, chat_server)
    page.locator(".st-key-prep-queue h3, .st-key-prep-queue h4").first.wait_for()
    outlines = {"chat": page.evaluate(OUTLINE)}
    for path in ("context", "sessions"):
        open_page(page, chat_server, path)
        outlines[path] = page.evaluate(OUTLINE)
    for name, levels in outlines.items():
        assert levels and levels[0] == 1 and levels.count(1) == 1, (name, levels)
        assert all(b - a <= 1 for a, b in pairwise(levels)), (name, levels)


IN_POPOVER = "() => document.activeElement.closest('[data-testid=\"stPopoverBody\"]')"
NO_POPOVER = "() => !document.querySelector('[data-testid=\"stPopoverBody\"]')"
# What a screen reader names the focused control: its text, or its label when it is an icon (a help "?").
FOCUSED = (
    f"() => ({IN_POPOVER})() ? 'popover'"
    " : document.activeElement.innerText || document.activeElement.getAttribute('aria-label') || ''"
)


def test_popovers_take_the_focus_in_and_give_it_back(page: Any, chat_server: StreamlitServer) -> None:
    """Opening Materials (or Session actions) left the focus on its button and drew the content at
    the end of the page: Tab went on past it, so a keyboard never reached Markdown, Word or Delete."""
    open_page(page, chat_server)
    materials = page.locator("[class*='st-key-prep-materials-'] button").first
    materials.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(IN_POPOVER, timeout=3000)
    assert "Markdown" in page.evaluate("document.activeElement.innerText")
    page.keyboard.press("Escape")
    page.wait_for_function(NO_POPOVER)
    page.wait_for_timeout(100)
    assert "Materials" in page.evaluate(FOCUSED)
    page.keyboard.press("Enter")
    page.wait_for_function(IN_POPOVER, timeout=3000)
    page.keyboard.press("Tab")  # Word (.docx), its last control
    assert page.evaluate(FOCUSED) == "popover"
    page.keyboard.press("Tab")  # past it: closed, and on to what follows its button
    page.wait_for_function(NO_POPOVER)
    assert page.evaluate(FOCUSED) not in ("popover", ""), page.evaluate(FOCUSED)


_RING = """() => { const s = getComputedStyle(document.activeElement);
  return [document.activeElement.innerText, s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2
    || s.boxShadow !== 'none'] }"""


def test_the_sidebar_pages_show_where_the_keyboard_is(page: Any, chat_server: StreamlitServer) -> None:
    """Tabbing into the sidebar's pages (Chat, My context, Sessions & cost) showed no focus ring: the
    focused link only took the grey a hovered one has, which the current page's link already has,
    so on 'Chat' nothing showed where the keyboard was."""
    for path, current in (("", "Chat"), ("context", "My context")):
        open_page(page, chat_server, path)
        page.keyboard.press("Tab")  # 'Skip to main content'
        seen = []
        for _ in range(3):
            page.keyboard.press("Tab")
            seen.append(page.evaluate(_RING))
        shot(page, f"a11y-nav-focus-{path or 'chat'}")
        assert [name.split()[-1] for name, _ in seen] == ["Chat", "context", "cost"], seen
        assert all(ring for _, ring in seen), (current, seen)


def test_each_charts_csv_button_names_its_chart(page: Any, chat_server: StreamlitServer) -> None:
    """The cost dashboard's four download buttons each read 'CSV': tabbing through them gave no clue
    which chart's data each one downloads. The chart's title follows in the name only (visually
    hidden, as on the prep cards): 'CSV of Tokens per day by model'."""
    open_page(page, chat_server)
    page.fill(INPUT, "How is our budget tracking?")  # the dashboard draws its charts once there is usage
    page.press(INPUT, "Enter")
    page.wait_for_selector(FOOTERS)
    idle(page)
    open_page(page, chat_server, "sessions")
    page.get_by_role("tab", name="Cost dashboard").click()
    page.wait_for_selector(".st-key-card-latency")
    idle(page)
    tree = page.locator("[class*='st-key-card-']").evaluate_all("(cards) => cards.map((c) => c.innerText)")
    buttons = page.locator("[class*='st-key-card-']").get_by_role("button", name=re.compile("^CSV"))
    names = [buttons.nth(i).aria_snapshot().splitlines()[0] for i in range(buttons.count())]
    assert len(names) == 4 and all("CSV of " in name for name in names) and len(set(names)) == 4, (names, tree)
    button = page.get_by_role("button", name="CSV of Tokens per day by model")
    hidden = button.locator("em").bounding_box()
    assert hidden is not None and hidden["width"] <= 1, hidden  # sighted users still see 'CSV'


def test_the_dashboards_charts_are_headings(page: Any, chat_server: StreamlitServer) -> None:
    """The cost dashboard's chart titles were bold paragraphs: heading navigation on the tab met no
    heading at all after the page's h1, so a screen reader could not jump from chart to chart.
    They are h2s now, the size they were."""
    open_page(page, chat_server)
    page.fill(INPUT, "How is our budget tracking?")  # the dashboard draws its charts once there is usage
    page.press(INPUT, "Enter")
    page.wait_for_selector(FOOTERS)
    idle(page)
    open_page(page, chat_server, "sessions")
    page.get_by_role("tab", name="Cost dashboard").click()
    page.wait_for_selector(".st-key-card-latency")
    idle(page)
    titles = page.get_by_role("tabpanel").get_by_role("heading", level=2)
    names = [titles.nth(i).inner_text() for i in range(titles.count())]
    assert "Tokens per day by model" in names and "Budget use per user" in names, names
    size = page.get_by_role("heading", name="Tokens per day by model").evaluate("(h) => getComputedStyle(h).fontSize")
    assert float(size.removesuffix("px")) < 18, size  # set as the card's title, not as a section's
    middle = "(e) => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; }"
    title = page.get_by_role("heading", name="Tokens per day by model").evaluate(middle)
    csv = page.get_by_role("button", name="CSV of Tokens per day by model").evaluate(middle)
    assert abs(title - csv) < 2, (title, csv)  # on the line of its CSV button, as it was
    shot(page, "a11y-dashboard-headings")
