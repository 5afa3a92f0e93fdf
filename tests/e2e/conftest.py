"""Fixtures for the browser tests: a real ``streamlit run`` server and a headless Chromium.

Each server gets a temp SQLite DATABASE_URL, ENV=local (dev login), no secrets file, and
whatever env overrides the fixture asks for; the fixture waits for ``/_stcore/health``.
Screenshots go to ``tests/e2e/artifacts/`` (git-ignored) through :func:`shot`.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HAVE_BROWSER = Path(CHROMIUM).exists() and importlib.util.find_spec("playwright") is not None


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class StreamlitServer:
    """A running ``streamlit run streamlit_app.py``."""

    url: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    database_url: str

    def log(self) -> str:
        """The server's output so far (for failure messages)."""
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """Terminate the server (only this process)."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def start_streamlit(
    workdir: Path, env_overrides: dict[str, str] | None = None, timeout: float = 60.0
) -> StreamlitServer:
    """Start the app on a free port and wait until it is healthy.

    Args:
        workdir: Folder for the SQLite file and the server log.
        env_overrides: Extra environment (MODEL_PROVIDER, limits...).
        timeout: Seconds to wait for ``/_stcore/health``.

    Returns:
        The running server.
    """
    port = free_port()
    database_url = f"sqlite:///{workdir / 'e2e.db'}"
    env = {
        **os.environ,
        "ENV": "local",
        "DATABASE_URL": database_url,
        "ASSISTANT_SECRETS_FILE": str(workdir / "no-secrets.toml"),
        "MODEL_PROVIDER": "offline",
        "MESSAGES_PER_MINUTE": "1000",
        "LOG_LEVEL": "INFO",
        **(env_overrides or {}),
    }
    log_path = workdir / "streamlit.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "streamlit_app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    server = StreamlitServer(url=url, proc=proc, log_path=log_path, database_url=database_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{server.log()}")
        try:
            if requests.get(url + "/_stcore/health", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"streamlit did not become healthy in {timeout}s:\n{server.log()}")


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
