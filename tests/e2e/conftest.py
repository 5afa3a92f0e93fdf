"""Fixtures for the browser tests: a real ``streamlit run`` server and a headless Chromium.

The server is started by :func:`tests.fixtures.streamlit_server.start_streamlit` (re-exported
here with :class:`StreamlitServer`, :data:`ROOT` and :func:`free_port`).
Screenshots go to ``tests/e2e/artifacts/`` (git-ignored) through :func:`shot`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.streamlit_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    HAVE_BROWSER,
    ROOT,
    StreamlitServer,
    free_port,
    start_streamlit,
)

__all__ = ["ROOT", "StreamlitServer", "free_port", "idle", "shot", "start_streamlit"]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# The app root's own record of the script run (what Streamlit's own browser tests wait on). The
# status widget's Stop button is no signal: it shows only once a run has lasted 500 ms.
_IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.dataset.testScriptState === 'notRunning' && app.dataset.testConnectionState === 'CONNECTED';
}"""


def idle(page: Any, timeout: float | None = None) -> None:
    """Wait until the page is connected and no script run is in progress or requested."""
    page.wait_for_function(_IDLE_JS, timeout=timeout)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """When a browser test fails, its report carries what the page showed and the server's log tail."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when != "call" or not report.failed:
        return
    for name, value in getattr(item, "funcargs", {}).items():
        if isinstance(value, StreamlitServer):
            report.sections.append((f"server log tail ({name})", value.log()))
        elif hasattr(value, "screenshot") and hasattr(value, "locator"):  # a Playwright page
            try:
                path = shot(value, f"FAILED-{item.name}", full_page=True)
                text = value.locator("body").inner_text(timeout=3_000)[-3_000:]
                report.sections.append((f"page at failure ({value.url}, {path.name})", text))
            except Exception as e:  # the page itself is gone: say so, keep the real failure
                report.sections.append(("page at failure", f"could not be read: {e}"))


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """The app with the offline demo model (one server per test module)."""
    server = start_streamlit(tmp_path_factory.mktemp("chat-e2e"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def faulty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """The app whose model fails its first call with a network error, then answers."""
    server = start_streamlit(tmp_path_factory.mktemp("chat-e2e-faulty"), {"MODEL_PROVIDER": "faulty:network"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright (sync API)."""
    if not HAVE_BROWSER:
        pytest.skip(f"no chromium at {CHROMIUM} or playwright missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page (1400x900), closed after the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def shot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot under tests/e2e/artifacts/ and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
