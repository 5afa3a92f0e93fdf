"""The real `streamlit run streamlit_app.py` server: security headers on every response, and a
warm start (the heavy imports happen before /_stcore/health first answers OK)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

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


async def _first_page_elements(url: str) -> list[str]:
    """What a browser's first connection gets: run the script, collect element kinds until the chat input."""
    kinds: list[str] = []
    async with websockets.connect(
        url.replace("http://", "ws://") + "/_stcore/stream", subprotocols=[Subprotocol("streamlit")], max_size=None
    ) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = ""
        await ws.send(msg.SerializeToString())
        while "chat_input" not in kinds:
            forward = ForwardMsg()
            forward.ParseFromString(await asyncio.wait_for(ws.recv(), 60))
            if forward.WhichOneof("type") == "delta" and forward.delta.WhichOneof("type") == "new_element":
                kinds.append(str(forward.delta.new_element.WhichOneof("type")))
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


def test_health_is_ok_only_once_the_core_is_imported(server: tuple[StreamlitServer, str]) -> None:
    srv, log_at_first_ok = server
    warm = [line for line in log_at_first_ok.splitlines() if WARM_LINE in line]
    assert warm, f"health answered OK before the warm start finished:\n{log_at_first_ok}"
    assert "error" not in warm[0].lower()
    kinds = asyncio.run(_first_page_elements(srv.url))
    assert "chat_input" in kinds, "the first visitor gets the chat page"


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
        log = srv.log()
        assert "warm start: could not build the services" in log and "OperationalError" in log
        assert requests.get(srv.url + "/_stcore/health", timeout=10).status_code == 200
    finally:
        srv.stop()
