"""Fetching a calendar address: only http(s)/webcal(s), never the server's own network, bounded.

Every fetch goes to a real HTTP(S) server on 127.0.0.1 (tests/fixtures/ics/server.py). The
server is on loopback, so the tests that fetch pass ``allow_private=True`` (as ENV=local does);
the tests of refused addresses pass False and prove no request reached the server.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.context.fetch import PRIVATE_ADDRESS_MESSAGE, address_refusal, fetch_calendar_url
from assistant.context.sources import CalendarInputError, CalendarSourceError
from tests.fixtures.ics import read
from tests.fixtures.ics.server import (
    CalendarServer,
    body,
    endless,
    gzipped,
    redirect,
    self_signed,
    sleeps,
    status,
    tls_context,
)

CALENDAR = read("weekly_moved_exdate.ics")
SECRET_PATH = "/calendar/ical/ada%40acme.example/private-5f3c9a0d1e2b4c6a8e7f/basic.ics"


@pytest.fixture
def server() -> Iterator[CalendarServer]:
    with CalendarServer() as running:
        yield running


def fetch(url: str, *, allow_private: bool = True, max_bytes: int = 5_000_000, timeout: float = 5.0) -> bytes:
    return fetch_calendar_url(url, max_bytes=max_bytes, timeout=timeout, allow_private=allow_private, source="Work")


def test_fetches_the_calendar(server: CalendarServer) -> None:
    server.routes[SECRET_PATH] = body(CALENDAR)
    assert fetch(server.url(SECRET_PATH)) == CALENDAR


def test_a_webcal_address_is_not_sent_in_the_clear(server: CalendarServer) -> None:
    """webcal:// was read over http: the secret address (and the calendar) crossed the network
    unencrypted. It is read over https; a server that serves http only gets a way out."""
    server.routes["/cal.ics"] = body(CALENDAR)
    with pytest.raises(CalendarSourceError) as caught:
        fetch(server.url("/cal.ics", scheme="webcal"))
    assert "paste the address with http:// in place of webcal://" in str(caught.value)
    assert server.seen == [], "the secret path was not sent over http"
    assert fetch(server.url("/cal.ics", scheme="http")) == CALENDAR  # the way out


def test_gzip_answer_is_decoded(server: CalendarServer) -> None:
    server.routes["/cal.ics"] = gzipped(CALENDAR)
    assert fetch(server.url("/cal.ics")) == CALENDAR


def test_redirects_are_followed_up_to_three(server: CalendarServer) -> None:
    server.routes["/old"] = redirect(server.url("/older"), 301)
    server.routes["/older"] = redirect("/oldest", 307)  # relative Location
    server.routes["/oldest"] = redirect(server.url("/cal.ics"), 308)
    server.routes["/cal.ics"] = body(CALENDAR)
    assert fetch(server.url("/old")) == CALENDAR
    assert server.seen == ["/old", "/older", "/oldest", "/cal.ics"]


def test_a_fourth_redirect_is_refused(server: CalendarServer) -> None:
    for i in range(4):
        server.routes[f"/r{i}"] = redirect(f"/r{i + 1}")
    server.routes["/r4"] = body(CALENDAR)
    with pytest.raises(CalendarSourceError, match="redirected more than 3 times") as caught:
        fetch(server.url("/r0"))
    assert caught.value.source == "Work"
    assert "/r4" not in server.seen


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",  # cloud metadata
        "http://[fe80::1]/",
        "http://0.0.0.0/",
    ],
)
def test_redirect_to_a_link_local_or_unspecified_address_is_refused_even_locally(
    server: CalendarServer, target: str
) -> None:
    server.routes["/cal.ics"] = redirect(target)
    with pytest.raises(CalendarInputError) as caught:
        fetch(server.url("/cal.ics"), allow_private=True)
    assert str(caught.value) == PRIVATE_ADDRESS_MESSAGE


def test_redirect_to_a_file_address_is_refused(server: CalendarServer) -> None:
    server.routes["/cal.ics"] = redirect("file:///etc/passwd")
    with pytest.raises(CalendarInputError, match="Only web addresses starting with https://"):
        fetch(server.url("/cal.ics"))


def test_redirect_chain_into_the_cloud_metadata_service_is_refused(server: CalendarServer) -> None:
    """Every hop is checked like the first: two allowed hops, then one into 169.254.169.254.

    (With ``allow_private=False`` the test server's own loopback address is refused at the
    first hop — see the loopback test below — so the chain is run with it allowed, and the
    last hop is one no setting allows.)
    """
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = redirect("http://169.254.169.254/computeMetadata/v1/")
    with pytest.raises(CalendarInputError) as caught:
        fetch(server.url("/a"), allow_private=True)
    assert str(caught.value) == PRIVATE_ADDRESS_MESSAGE
    assert server.seen == ["/a", "/b"]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/cal.ics",
        "data:text/calendar,BEGIN:VCALENDAR",
        "javascript:alert(1)",
        "calendar.google.com/calendar/ical/x/basic.ics",
        "gopher://127.0.0.1:6379/_INFO",
    ],
)
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(CalendarInputError, match=r"Only web addresses starting with https://, http://, webcal://"):
        fetch(url)


def test_user_and_password_in_the_address_are_refused() -> None:
    with pytest.raises(CalendarInputError, match="user name or password"):
        fetch("https://ada:hunter2@calendar.example/cal.ics")


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "10.1.2.3", "192.168.1.1", "172.16.0.5", "100.64.0.1"],
)
def test_loopback_and_private_addresses_are_refused_when_not_allowed(server: CalendarServer, host: str) -> None:
    server.routes["/cal.ics"] = body(CALENDAR)
    url = server.url("/cal.ics", host=host)
    with pytest.raises(CalendarInputError) as caught:
        fetch(url, allow_private=False)
    assert str(caught.value) == PRIVATE_ADDRESS_MESSAGE
    assert server.seen == []


@pytest.mark.parametrize("allow_private", [False, True])
def test_cloud_metadata_address_is_refused(allow_private: bool) -> None:
    started = time.monotonic()
    with pytest.raises(CalendarInputError) as caught:
        fetch("http://169.254.169.254/latest/meta-data/", allow_private=allow_private)
    assert str(caught.value) == PRIVATE_ADDRESS_MESSAGE
    assert time.monotonic() - started < 1  # refused before any connection attempt


@pytest.mark.parametrize(
    ("address", "allowed_privately", "refused_publicly"),
    [
        ("8.8.8.8", True, False),
        ("2606:4700:4700::1111", True, False),
        ("127.0.0.1", True, True),
        ("::1", True, True),
        ("10.0.0.1", True, True),
        ("fd00::1", True, True),
        ("::ffff:10.0.0.1", True, True),
        ("::ffff:8.8.8.8", True, False),
        ("64:ff9b::a00:1", True, True),  # NAT64 of 10.0.0.1
        ("2002:a00:1::1", True, True),  # 6to4 of 10.0.0.1
        ("169.254.169.254", False, True),
        ("fe80::1", False, True),
        ("::ffff:169.254.169.254", False, True),
        ("224.0.0.1", False, True),
        ("ff02::1", False, True),
        ("0.0.0.0", False, True),
        ("::", False, True),
        ("240.0.0.1", True, True),
    ],
)
def test_address_rules(address: str, allowed_privately: bool, refused_publicly: bool) -> None:
    ip = ipaddress.ip_address(address)
    assert (address_refusal(ip, allow_private=True) is None) is allowed_privately
    assert (address_refusal(ip, allow_private=False) is not None) is refused_publicly


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (404, r"not found \(HTTP 404\); copy the secret address again"),
        (410, r"not found \(HTTP 410\)"),
        (401, r"refused access \(HTTP 401\)"),
        (403, r"refused access \(HTTP 403\)"),
        (500, r"failed \(HTTP 500\); try again"),
        (503, r"failed \(HTTP 503\)"),
        (400, r"answered HTTP 400"),
    ],
)
def test_http_errors_become_plain_messages(server: CalendarServer, code: int, words: str) -> None:
    server.routes[SECRET_PATH] = status(code)
    with pytest.raises(CalendarSourceError, match=words) as caught:
        fetch(server.url(SECRET_PATH))
    assert caught.value.source == "Work"
    assert "private-5f3c9a0d1e2b4c6a8e7f" not in str(caught.value)


def test_a_body_over_the_cap_is_refused(server: CalendarServer) -> None:
    server.routes["/big.ics"] = body(b"BEGIN:VCALENDAR\r\n" + b"X" * 2_000_000)
    with pytest.raises(CalendarInputError, match="larger than 1 MB"):
        fetch(server.url("/big.ics"), max_bytes=1_000_000)


def test_a_stream_without_length_stops_at_the_cap(server: CalendarServer) -> None:
    server.routes["/endless.ics"] = endless()
    started = time.monotonic()
    with pytest.raises(CalendarInputError, match="larger than 1 MB"):
        fetch(server.url("/endless.ics"), max_bytes=1_000_000, timeout=10)
    assert time.monotonic() - started < 5


def test_a_server_that_never_answers_times_out_within_the_limit(server: CalendarServer) -> None:
    server.routes["/slow.ics"] = sleeps(10)
    started = time.monotonic()
    with pytest.raises(CalendarSourceError, match=r"did not send the calendar within 0\.5 seconds"):
        fetch(server.url("/slow.ics"), timeout=0.5)
    assert time.monotonic() - started < 2


def test_a_trickling_server_is_cut_off_at_the_total_deadline(server: CalendarServer) -> None:
    """One byte every 0.1 s never trips a per-read timeout; the whole fetch still ends on time."""
    server.routes["/drip.ics"] = endless(b"X", pause=0.1)
    started = time.monotonic()
    with pytest.raises(CalendarSourceError, match="within 1 seconds"):
        fetch(server.url("/drip.ics"), timeout=1)
    assert time.monotonic() - started < 2.5


def test_connection_refused_is_a_plain_message() -> None:
    with CalendarServer() as stopped:
        url = stopped.url("/cal.ics")
    with pytest.raises(CalendarSourceError, match="Could not connect to the calendar server"):
        fetch(url)


def test_unknown_host_is_a_plain_message() -> None:
    with pytest.raises(CalendarSourceError, match="name could not be found"):
        fetch("https://no-such-host.invalid/cal.ics")


def test_logs_name_the_host_never_the_secret_address(server: CalendarServer, caplog: pytest.LogCaptureFixture) -> None:
    server.routes[SECRET_PATH] = body(CALENDAR)
    server.routes["/gone"] = status(404)
    with caplog.at_level(logging.DEBUG):
        fetch(server.url(SECRET_PATH))
        with pytest.raises(CalendarSourceError):
            fetch(server.url("/gone?token=private-5f3c9a0d1e2b4c6a8e7f"))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "url_host=<127.0.0.1>" in text
    assert "private-5f3c9a0d1e2b4c6a8e7f" not in text
    assert "ada%40acme" not in text


class TestHttps:
    """TLS goes to the checked address while the certificate is verified against the name."""

    @pytest.fixture
    def certificate(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
        cert, key = self_signed(tmp_path, "localhost")
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust it, as a system CA would be
        return cert, key

    def test_fetches_over_tls_with_the_name_verified(self, certificate: tuple[Path, Path]) -> None:
        with CalendarServer(tls=tls_context(*certificate)) as tls_server:
            tls_server.routes["/cal.ics"] = body(CALENDAR)
            assert fetch(tls_server.url("/cal.ics", host="localhost")) == CALENDAR
            assert fetch(tls_server.url("/cal.ics", host="localhost", scheme="webcals")) == CALENDAR
            assert fetch(tls_server.url("/cal.ics", host="localhost", scheme="webcal")) == CALENDAR

    def test_a_certificate_for_another_name_is_refused(self, certificate: tuple[Path, Path], tmp_path: Path) -> None:
        other = self_signed(tmp_path, "calendar.example")
        with CalendarServer(tls=tls_context(*other)) as tls_server:
            tls_server.routes["/cal.ics"] = body(CALENDAR)
            with pytest.raises(CalendarSourceError, match="security certificate could not be verified"):
                fetch(tls_server.url("/cal.ics", host="localhost"))


@pytest.mark.parametrize("url", ["http://calendar.example.com:0/cal.ics", "https://calendar.example.com:0/"])
def test_port_0_is_an_invalid_port_not_the_default_one(url: str) -> None:
    """``:0`` was read as no port at all (the address fetched from port 80 or 443 instead)."""
    started = time.monotonic()
    with pytest.raises(CalendarInputError, match="invalid port number"):
        fetch(url, allow_private=False)
    assert time.monotonic() - started < 1  # refused as typed, before any lookup
