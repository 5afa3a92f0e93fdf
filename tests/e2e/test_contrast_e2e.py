"""Text contrast on the three pages, in the light and the dark theme, in a real Chromium.

Each check measures text as the reader sees it: its colour with every ancestor's opacity,
over the backgrounds behind it (translucent ones composited), against WCAG's 4.5:1 for
normal-size text. Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import StreamlitServer, idle, shot

pytestmark = pytest.mark.e2e

INPUT = '[data-testid="stChatInputTextArea"]'
FOOTERS = '[class*="st-key-turn-footer-"]'
AA = 4.5

# [text, contrast] of each visible element matching the selector that holds text.
_CONTRAST_JS = """([sel, prop]) => {
  const parse = (css) => {
    const v = css.match(/[\\d.]+/g).map(Number);
    const rgb = css.startsWith('color(') ? v.slice(0, 3).map((c) => c * 255) : v.slice(0, 3);
    return [...rgb, v.length > 3 ? v[3] : 1];
  };
  const over = (f, b) => [0, 1, 2].map((i) => f[i] * f[3] + b[i] * (1 - f[3])).concat([1]);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const backdrop = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] === 1) break; }
    }
    return layers.reverse().reduce((bg, layer) => over(layer, bg), [255, 255, 255, 1]);
  };
  return [...document.querySelectorAll(sel)].filter((e) => e.getClientRects().length && e.textContent.trim())
    .map((e) => {
      const fg = parse(getComputedStyle(e)[prop]);
      for (let x = e; x; x = x.parentElement) fg[3] *= Number(getComputedStyle(x).opacity);
      const bg = backdrop(e);
      const [a, b] = [lum(over(fg, bg)), lum(bg)];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      return [e.textContent.trim().slice(0, 60), Math.round(ratio * 100) / 100];
    });
}"""


def contrasts(page: Any, selector: str, prop: str = "color") -> list[tuple[str, float]]:
    """[text, contrast ratio] of each visible element matching ``selector`` that holds text
    (``prop``: the property its colour is in, ``fill`` for an SVG text)."""
    return [(text, ratio) for text, ratio in page.evaluate(_CONTRAST_JS, [selector, prop])]


def open_page(page: Any, server: StreamlitServer, path: str = "") -> None:
    page.goto(server.url + "/" + path)
    page.wait_for_selector('[data-testid="stMain"] h1')
    idle(page)


@pytest.fixture(params=["light", "dark"])
def themed(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    """A page whose browser asks for the light or the dark theme (the app follows the system's)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme=request.param)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def ask(page: Any, text: str) -> None:
    page.fill(INPUT, text)
    page.press(INPUT, "Enter")
    page.wait_for_selector(FOOTERS)
    idle(page)


CAPTIONS = '[data-testid="stCaptionContainer"] p, [data-testid="stCaptionContainer"] a'


def test_captions_and_their_links_read_at_4_5_to_1(themed: Any, chat_server: StreamlitServer) -> None:
    """Every caption (the sidebar's 'Signed in as', an answer's tokens and cost, the pages' intros,
    'updated just now') was drawn at 60% opacity: 4.0:1 on white and 3.96:1 on the light sidebar,
    and the address under 'Signed in as' 2.7:1 (light) and 3.8:1 (dark)."""
    page = themed
    open_page(page, chat_server)
    ask(page, "What meetings do I have this week?")
    found = {"chat": contrasts(page, CAPTIONS)}
    shot(page, "contrast-captions-chat")
    for path in ("context", "sessions"):
        open_page(page, chat_server, path)
        found[path] = contrasts(page, CAPTIONS)
    assert any("tokens" in text for text, _ in found["chat"]), found["chat"]  # the footer was measured
    assert any("@" in text for text, _ in found["chat"]), found["chat"]  # and the signed-in address
    low = {name: [(t, r) for t, r in items if r < AA] for name, items in found.items()}
    assert not any(low.values()), low


SELECTED = '[role="tab"][aria-selected="true"] p, [data-testid="stButtonGroup"] button[data-selected="true"] p'


def test_the_selected_tab_and_choice_read_at_4_5_to_1(themed: Any, chat_server: StreamlitServer) -> None:
    """In the dark theme the selected tab ('Sessions', 'Upload an .ics file') and the selected choice of
    a segmented control ('Descending', the dashboard's 'Last 30 days') were written in the accent
    colour, 3.96:1 on the page and 3.6:1 on their own tinted box; the light theme's are unchanged."""
    page = themed
    open_page(page, chat_server, "sessions")
    page.wait_for_selector('.st-key-sc_order button[data-selected="true"]')
    found = contrasts(page, SELECTED)
    page.get_by_role("tab", name="Cost dashboard").click()
    page.wait_for_selector('.st-key-db_period button[data-selected="true"]')
    idle(page)
    found += contrasts(page, SELECTED)
    shot(page, "contrast-selected-dashboard")
    open_page(page, chat_server, "context")
    page.get_by_role("tab", name="Upload an .ics file").wait_for()  # open on the demo calendar
    found += contrasts(page, SELECTED)
    texts = [text.split(" ", 1)[1] if text.startswith(("table_rows ", "monitoring ")) else text for text, _ in found]
    assert {"Sessions", "Descending", "Cost dashboard", "Last 30 days", "Upload an .ics file"} <= set(texts), texts
    assert all(ratio >= AA for _, ratio in found), found


def test_a_tool_steps_input_reads_at_4_5_to_1(themed: Any, chat_server: StreamlitServer) -> None:
    """A tool step's Input (its arguments as JSON) was coloured by Streamlit's code palette, made for
    dark backgrounds: on the light theme's code box the names read 2.8:1, numbers 2.6:1, strings
    2.9:1, punctuation 3.6:1. Each colour is now mixed with the page's text: darker on light,
    lighter on dark, the same hue."""
    page = themed
    open_page(page, chat_server)
    ask(page, "Prepare me for the Q3 Budget Review")
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    tokens = '[data-testid="stChatMessage"] pre .token'
    for attempt in range(3):  # a rerun landing with the click redraws the step closed: open it again
        page.locator('[data-testid="stChatMessage"] [data-testid="stExpander"] summary').first.click()
        try:
            page.wait_for_selector(tokens + ":visible", timeout=5_000)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    found = contrasts(page, tokens)
    shot(page, "contrast-tool-step")
    assert {'"days_ahead"', '"query"', "30"} <= {text for text, _ in found}, found
    assert all(ratio >= AA for _, ratio in found), found


CHART_TEXT = ".js-plotly-plot :is(.xtick text, .ytick text, .xtitle, .ytitle, .legendtext, .annotation-text)"


def test_the_charts_axes_and_legends_read_at_4_5_to_1(themed: Any, chat_server: StreamlitServer) -> None:
    """The cost dashboard's charts wrote their axes ('Nov 8', '10k', 'Day (UTC)'), and the budget
    line's label in Plotly's grey #808495: 3.8:1 on the light theme's white (the dark theme's
    were light enough). They are now the page's text at 72%, as captions are."""
    page = themed
    open_page(page, chat_server)
    ask(page, "How is our budget tracking?")  # the dashboard draws its charts once there is usage
    open_page(page, chat_server, "sessions")
    page.get_by_role("tab", name="Cost dashboard").click()
    page.wait_for_selector(".st-key-card-latency .js-plotly-plot .xtick text")
    idle(page)
    found = contrasts(page, CHART_TEXT, "fill")
    shot(page, "contrast-charts")
    assert any(text == "Day (UTC)" for text, _ in found), found
    assert all(ratio >= AA for _, ratio in found), sorted(found, key=lambda item: item[1])[:5]


def _cell_contrast(png: bytes) -> float:
    """The contrast of a table cell's text as drawn (the grid paints on a canvas): its most common
    colour is the background, the pixel farthest from it the text's own colour."""
    from collections import Counter
    from io import BytesIO

    from PIL import Image

    def lum(c: tuple[int, ...]) -> float:
        r, g, b = ((v / 255) / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in c[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    pixels = list(Image.open(BytesIO(png)).convert("RGB").get_flattened_data())
    bg = lum(Counter(pixels).most_common(1)[0][0])
    return max((max(lum(p), bg) + 0.05) / (min(lum(p), bg) + 0.05) for p in pixels)


def test_the_sessions_titles_read_at_4_5_to_1(themed: Any, chat_server: StreamlitServer) -> None:
    """The Sessions table's Title column, pinned to its left edge, was drawn in Streamlit's faded
    colour for pinned columns: the one column a reader looks for read 4.0:1 on white, fainter
    than State or Cost beside it."""
    page = themed
    open_page(page, chat_server)
    ask(page, "What meetings do I have this week?")
    open_page(page, chat_server, "sessions")
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    page.wait_for_timeout(500)  # the canvas has drawn its rows
    box = grid.bounding_box()
    assert box is not None
    # the first row's title (after the row selection column), under the 35 px header
    title = page.screenshot(clip={"x": box["x"] + 40, "y": box["y"] + 40, "width": 220, "height": 26})
    shot(page, "contrast-sessions-titles")
    assert _cell_contrast(title) >= AA
