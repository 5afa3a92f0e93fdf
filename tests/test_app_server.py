"""The real `streamlit run streamlit_app.py` server: security headers on every response, and a
warm start that runs while the first visitor's page loads (health answers at once; a page
requested before the warm start has ended waits for it instead of importing and building twice)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.typing import Subprotocol

from tests.fixtures.streamlit_server import StreamlitServer, start_streamlit

WARM_LINE = "| warm start:"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StreamlitServer, str]]:
    """One fresh server; also the log as it was the moment health first answered OK."""
    srv = start_streamlit(tmp_path_factory.mktemp("app-server"))
    log_at_first_ok = srv.log_path.read_text(errors="replace")
    try:
        yield srv, log_at_first_ok
    finally:
        srv.stop()


async def _first_run(url: str) -> AsyncIterator[ForwardMsg]:
    """What a browser's first connection gets, message by message: the script run it asks for."""
    async with websockets.connect(
        url.replace("http://", "ws://") + "/_stcore/stream", subprotocols=[Subprotocol("streamlit")], max_size=None
    ) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = ""
        await ws.send(msg.SerializeToString())
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(await asyncio.wait_for(ws.recv(), 60))
            yield forward


def _new_element(forward: ForwardMsg) -> Any:
    """The element a message adds to the page, or None."""
    if forward.WhichOneof("type") == "delta" and forward.delta.WhichOneof("type") == "new_element":
        return forward.delta.new_element
    return None


async def _first_page_elements(url: str) -> list[str]:
    """The element kinds of a browser's first script run, until the chat input."""
    kinds: list[str] = []
    async for forward in _first_run(url):
        if (element := _new_element(forward)) is not None:
            kinds.append(str(element.WhichOneof("type")))
            if kinds[-1] == "chat_input":
                break
    return kinds


@pytest.mark.parametrize("path", ["/", "/chat", "/_stcore/health", "/_stcore/host-config"])
def test_every_response_forbids_framing_by_other_sites_and_sets_a_csp(
    server: tuple[StreamlitServer, str], path: str
) -> None:
    response = requests.get(server[0].url + path, timeout=10)
    assert response.status_code == 200
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == "frame-ancestors 'self'", csp
    assert directives.get("object-src") == "object-src 'none'", csp
    assert "default-src" in directives and "connect-src" in directives
    assert response.headers.get("X-Frame-Options") == "SAMEORIGIN"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


def test_a_visitor_arriving_as_health_turns_ok_gets_the_chat_page_from_one_warm_start(
    server: tuple[StreamlitServer, str],
) -> None:
    srv, _ = server  # the fixture returns the moment health first answers OK
    kinds = asyncio.run(_first_page_elements(srv.url))
    assert "chat_input" in kinds, "the first visitor gets the chat page"
    log = srv.log_path.read_text(errors="replace")
    warm = [line for line in log.splitlines() if "warm start: core imported and services built" in line]
    assert len(warm) == 1, f"the warm start ran once, and ended before the first page was drawn:\n{log}"
    assert "could not" not in log, log


def _outside_address() -> str | None:
    """An address of this machine other than loopback (how another machine on the network reaches it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: the kernel picks the outgoing interface
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def test_a_bare_streamlit_run_serves_the_unauthenticated_dev_login_to_this_machine_only(tmp_path: Path) -> None:
    """`streamlit run streamlit_app.py` (Streamlit's own command, without `make run`'s address)
    listened on every interface: in ENV=local anyone on the network was signed in as TEST_USER_ID,
    an admin when TEST_USER_EMAIL is in ADMIN_EMAILS. It listens on 127.0.0.1 unless told otherwise."""
    outside = _outside_address()
    if outside is None:
        pytest.skip("this machine has no address but loopback")
    srv = start_streamlit(tmp_path, address=None)
    try:
        port = int(srv.url.rsplit(":", 1)[1])
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://{outside}:{port}/_stcore/health", timeout=5)
    finally:
        srv.stop()


def test_a_replica_whose_code_cannot_be_imported_exits(tmp_path: Path) -> None:
    """A broken install (here SQLAlchemy shadowed by a module that fails) stops the server, as a
    failed startup does, instead of leaving it answering health while every page fails."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "sqlalchemy.py").write_text("raise RuntimeError('a broken install')\n")
    (tmp_path / "run").mkdir()
    try:
        srv = start_streamlit(tmp_path / "run", {"PYTHONPATH": str(broken)}, timeout=60)
    except RuntimeError as e:  # exited before health answered: as good
        assert "exited with 3" in str(e), str(e)
        return
    try:
        deadline = time.monotonic() + 60
        while srv.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert srv.proc.returncode == 3, srv.log()
        assert "the app could not be imported; the server exits" in srv.log_path.read_text(errors="replace")
    finally:
        srv.stop()


# The sign-in component (streamlit_oauth) is imported by the script run that draws the Google
# button, which registers it (the dev login never imports it): tests/e2e/test_signin.py clicks it
# in its frame.


def test_a_database_down_at_start_does_not_keep_the_replica_from_starting(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """As before the warm start: the server starts and the page says what is wrong."""
    srv = start_streamlit(
        tmp_path_factory.mktemp("db-down"), {"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"}
    )
    try:
        deadline = time.monotonic() + 30  # the warm start runs beside the serving server
        while "warm start: could not build the services" not in srv.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = srv.log()
        assert "warm start: could not build the services" in log and "OperationalError" in log
        assert requests.get(srv.url + "/_stcore/health", timeout=10).status_code == 200
    finally:
        srv.stop()


async def _first_page_alerts(url: str) -> list[str]:
    """The alert texts (st.error, st.warning...) of a browser's first script run."""
    alerts: list[str] = []
    async for forward in _first_run(url):
        if (element := _new_element(forward)) is not None and element.WhichOneof("type") == "alert":
            alerts.append(element.alert.body)
        elif forward.WhichOneof("type") == "script_finished":
            break
    return alerts


def _ready(url: str, want: int, timeout: float = 30.0) -> requests.Response:
    """``/ready`` once it answers ``want`` (the warm start runs beside the serving server)."""
    deadline = time.monotonic() + timeout
    while True:
        response = requests.get(url + "/ready", timeout=10)
        if response.status_code == want or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def test_a_healthy_replica_is_ready_once_warm(server: tuple[StreamlitServer, str]) -> None:
    response = _ready(server[0].url, 200)
    assert (response.status_code, response.text) == (200, "ok")
    assert response.headers.get("X-Frame-Options") == "SAMEORIGIN"  # the security headers too


def test_a_replica_with_refused_settings_is_not_ready_yet_still_draws_the_page_that_names_the_setting(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A rolling deploy with a mistyped setting must fail its load balancer's health check
    (``/ready``) instead of replacing working replicas with ones whose every page is an error;
    Streamlit's own health stays OK, since the browser checks it before it connects and the
    page is what tells the operator which setting is wrong."""
    srv = start_streamlit(tmp_path_factory.mktemp("refused"), {"MESSAGES_PER_MINUTE": "many"})
    try:
        deadline = time.monotonic() + 30
        while "warm start: configuration refused" not in srv.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        response = _ready(srv.url, 503, timeout=5)
        assert response.status_code == 503 and "configuration refused" in response.text
        assert "many" not in response.text  # the reason stays in the server log
        assert requests.get(srv.url + "/_stcore/health", timeout=10).status_code == 200
        assert "MESSAGES_PER_MINUTE" in srv.log()
        alerts = asyncio.run(_first_page_alerts(srv.url))
        assert any("not configured correctly" in a and "MESSAGES_PER_MINUTE" in a for a in alerts), alerts
    finally:
        srv.stop()


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"PRICES_FILE": "/no/such/prices.toml"}, "PRICES_FILE"),
        ({"MEETING_TYPES_FILE": "/no/such/types.toml"}, "MEETING_TYPES_FILE"),
    ],
)
def test_a_replica_whose_data_files_cannot_be_read_is_not_ready(
    tmp_path_factory: pytest.TempPathFactory, env: dict[str, str], needle: str
) -> None:
    """A mistyped PRICES_FILE (or DATA_DIR, MEETING_TYPES_FILE) makes every page say "not configured
    correctly", as a refused setting does: ``/ready`` must fail the same way, so a rollout stops at
    its first new replica. It answered 200 "ok" while every page was that error."""
    srv = start_streamlit(tmp_path_factory.mktemp("data-refused"), env)
    try:
        deadline = time.monotonic() + 30
        while "warm start: configuration refused" not in srv.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert needle in srv.log()
        response = _ready(srv.url, 503, timeout=5)
        assert response.status_code == 503 and "configuration refused" in response.text
        assert requests.get(srv.url + "/_stcore/health", timeout=10).status_code == 200
    finally:
        srv.stop()
