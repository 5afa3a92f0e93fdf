"""Pick a model, ask, then "Ask another model": both answers side by side, in a real Chromium.

The app offers the offline demo model and ``anthropic:claude-haiku-4-5``, the latter through the
real Anthropic SDK on the fake Anthropic API (tests/fixtures/fake_llm_servers.py) on loopback:
it calls the calendar tool, then summarises the real result, and is priced from data/prices.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from assistant import db
from tests.e2e.conftest import StreamlitServer, shot, start_streamlit
from tests.e2e.test_chat_e2e import INPUT, idle, open_app, send, session_id, wait_answers
from tests.fixtures.fake_llm_servers import TEST_KEY, FakeLLMServer

pytestmark = pytest.mark.e2e

HAIKU = "anthropic:claude-haiku-4-5"


@pytest.fixture(scope="module")
def anthropic_api() -> Iterator[FakeLLMServer]:
    with FakeLLMServer("anthropic") as fake:
        yield fake


@pytest.fixture(scope="module")
def two_models_server(
    tmp_path_factory: pytest.TempPathFactory, anthropic_api: FakeLLMServer
) -> Iterator[StreamlitServer]:
    server = start_streamlit(
        tmp_path_factory.mktemp("compare-e2e"),
        {
            "MODELS": f"offline,{HAIKU}",
            "ANTHROPIC_API_KEY": TEST_KEY,
            "ANTHROPIC_BASE_URL": anthropic_api.base_url,
        },
    )
    yield server
    server.stop()


def chosen(page: Any, container: str) -> str:
    """The value shown by the selectbox inside ``container``."""
    return str(page.locator(f"{container} input[role='combobox']").input_value())


def pick(page: Any, container: str, option: str) -> None:
    """Choose the option containing ``option`` in the selectbox inside ``container``."""
    wanted = page.locator("[role='option']", has_text=option).first
    # A rerun that lands while the list is open redraws the select: the list closes, or its options
    # move and are replaced ("element is not stable", then "detached"), and one long click waited
    # out its 20 s on a busy machine. Each attempt opens the list afresh and gives the click 3 s;
    # a click on an option the redraw was replacing can land on nothing, so the pick counts once
    # the select shows it.
    for attempt in range(4):
        idle(page)
        page.keyboard.press("Escape")  # a list left open by the previous attempt
        page.locator(f"{container} button[aria-label='Open']").click()
        try:
            wanted.click(timeout=3_000)
            page.wait_for_function(
                "([sel, text]) => document.querySelector(sel).value.includes(text)",
                arg=[f"{container} input[role='combobox']", option],
                timeout=3_000,
            )
            return
        except Exception:  # playwright's TimeoutError: open it again
            if attempt == 3:
                raise


def test_pick_a_model_ask_then_ask_another_model(page: Any, two_models_server: StreamlitServer) -> None:
    open_app(page, two_models_server)
    assert chosen(page, ".st-key-model-picker") == "offline demo model · $0"
    pick(page, ".st-key-model-picker", "Anthropic Claude Haiku 4.5")
    header = page.locator(".st-key-chat-header")
    page.wait_for_function(
        "() => document.querySelector('.st-key-chat-header').innerText.includes('Anthropic Claude Haiku 4.5')"
    )
    idle(page)
    shot(page, "compare-1-picker")

    send(page, "What meetings do I have this week?")
    wait_answers(page, 1)
    sid = session_id(page)
    idle(page)
    footer = page.locator(".st-key-turn-footer-0")
    assert "first token" in footer.inner_text()
    assert "Anthropic Claude Haiku 4.5" in header.inner_text()

    footer.get_by_role("button", name="Ask another model").click()
    dialog = page.locator("[data-testid='stPopoverBody']")
    dialog.wait_for()
    assert chosen(page, "[data-testid='stPopoverBody']") == "offline demo model · $0"
    shot(page, "compare-2-popover")
    dialog.get_by_role("button", name="Ask").click()

    panel = page.locator(".st-key-comparison-0")
    panel.wait_for()
    page.wait_for_function("() => document.querySelectorAll('.st-key-comparison-0 table').length === 1", timeout=30_000)
    idle(page, timeout=30_000)
    panel.scroll_into_view_if_needed()
    columns = panel.locator("[data-testid='stColumn']")
    assert columns.count() == 2
    left, right = columns.nth(0).inner_text(), columns.nth(1).inner_text()
    assert "Anthropic Claude Haiku 4.5" in left and "This session" in left
    assert "offline demo model" in right and "New session" in right
    assert "calendar" in left.lower() and "meetings" in right.lower(), "both answers are shown"
    table = panel.locator("table")
    head = table.locator("th").all_inner_texts()
    assert [h.strip() for h in head] == [
        "Measured",
        "Anthropic Claude Haiku 4.5 · this session",
        "offline demo model · new session",
    ]
    figures = {
        row.locator("td").nth(0).inner_text(): row.locator("td").all_inner_texts()[1:]
        for row in table.locator("tbody tr").all()
    }
    assert list(figures) == ["Tokens", "Cost", "First token", "Total time"]
    assert figures["Cost"][0].startswith("$0.0"), "the Anthropic answer is priced"
    assert figures["Cost"][1] == "$0.00 (offline demo model)"
    assert all(value.endswith(("ms", " s")) for value in figures["First token"] + figures["Total time"])
    # the popover closed when Ask was clicked (the browser may apply that a moment after the run)
    page.wait_for_function(
        "() => { const b = document.querySelector(\"[data-testid='stPopoverBody']\");"
        " return !b || b.offsetParent === null; }",
        timeout=10_000,
    )
    assert "Same question, two models" in panel.inner_text()
    assert f"session={sid}" in page.url, "the original session stays open"
    shot(page, "compare-3-side-by-side")

    engine = create_engine(two_models_server.database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(db.sessions.c.id, db.sessions.c.model, db.sessions.c.continued_from)).all()
    engine.dispose()
    assert sorted((r.model, r.continued_from) for r in rows) == [(HAIKU, None), ("offline", sid)]

    panel.get_by_role("button", name="Open the new session").click()
    page.wait_for_function(
        "(sid) => !location.search.includes(sid)"
        " && document.querySelector('.st-key-chat-header').innerText.includes('offline demo model')",
        arg=sid,
    )
    page.wait_for_selector(INPUT)
    idle(page)
    assert page.locator(".st-key-model-picker").count() == 0
    shot(page, "compare-4-branch-session")


CARDS = "[class*='st-key-prep-card-']"


def cards(page: Any) -> list[tuple[str, bool]]:
    """Each prep card's title, and whether it still shows its time, its figures and both buttons
    (its "Prep opens in …" moves with the clock, so the text is not compared whole)."""
    shown = []
    for text in page.locator(CARDS).all_inner_texts():
        title = text.strip().splitlines()[0]
        whole = all(part in text for part in (" at ", "people's time", "Prepare", "Materials"))
        shown.append((title, whole))
    return shown


def test_picking_models_on_the_welcome_keeps_every_prep_card_whole(
    page: Any, two_models_server: StreamlitServer
) -> None:
    """Each rerun of the welcome (a model picked, a Materials download) emptied the Prep queue's
    cards a little more: their titles, times and Prepare buttons went, Materials alone stayed, and
    the next rerun blanked the page ("Cannot set a node at a delta path" in the console). The
    download buttons, sent again with a new file id every run, made the page drop what the run
    had not sent again beside them."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if "delta path" in msg.text else None)
    open_app(page, two_models_server)
    page.locator(CARDS).first.wait_for()
    before = cards(page)
    assert before and all(whole for _, whole in before), before
    for option in ("Anthropic Claude Haiku 4.5", "offline demo model", "Anthropic Claude Haiku 4.5"):
        pick(page, ".st-key-model-picker", option)
        page.wait_for_function(
            "(name) => document.querySelector('.st-key-chat-header').innerText.includes(name)", arg=option
        )
        idle(page)
        assert cards(page) == before, option
    card = page.locator(CARDS).first
    card.locator("[class*='st-key-prep-materials-'] button").click()
    with page.expect_download() as download:
        page.locator("[data-testid='stPopoverBody'] button:visible", has_text="Markdown").click()
    assert download.value.suggested_filename.endswith(".md")
    page.keyboard.press("Escape")
    idle(page)
    assert cards(page) == before
    assert not errors, errors
