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

__all__ = ["ROOT", "StreamlitServer", "free_port", "shot", "start_streamlit"]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


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
