"""`make run` (the unauthenticated local mode) listens on this machine only, as the README says."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from assistant.config import PROJECT_ROOT
from tests.fixtures.streamlit_server import free_port


def _non_loopback_ipv4() -> str | None:
    """An address of this machine that other machines can reach (None if it has none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("203.0.113.1", 9))  # UDP: no packet is sent, this only picks the outgoing interface
            address = str(s.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[Callable[..., int]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> int:
        port = free_port()
        full_env = {
            **os.environ,
            "ENV": "local",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
            "ASSISTANT_SECRETS_FILE": os.devnull,
            "MODEL_PROVIDER": "offline",
            **env,
        }
        for name in ("ADDRESS", "STREAMLIT_SERVER_ADDRESS"):
            if name not in env:
                full_env.pop(name, None)
        log = (tmp_path / f"make-{port}.log").open("wb")
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={port}"],
            cwd=PROJECT_ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: make and the streamlit it starts
        )
        started.append(proc)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / f"make-{port}.log").read_text()
            try:
                if requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).status_code == 200:
                    return port
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError("make run did not become healthy: " + (tmp_path / f"make-{port}.log").read_text())

    yield start
    for proc in started:
        os.killpg(proc.pid, signal.SIGTERM)  # the group this test started, by id
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def test_make_run_is_reachable_from_this_machine_only(make_run: Callable[..., int]) -> None:
    outside = _non_loopback_ipv4()
    if outside is None:
        pytest.skip("this machine has no non-loopback IPv4 address to test from")
    port = make_run()
    assert _reachable("127.0.0.1", port)
    assert not _reachable(outside, port), f"make run answers on {outside}: anyone on the network gets the dev login"


def test_a_deployment_still_chooses_its_own_address(make_run: Callable[..., int]) -> None:
    outside = _non_loopback_ipv4()
    if outside is None:
        pytest.skip("this machine has no non-loopback IPv4 address to test from")
    port = make_run(STREAMLIT_SERVER_ADDRESS="0.0.0.0")
    assert _reachable(outside, port)
