"""Fetching a calendar address without turning it into a way to read the server's network.

A user pastes a secret iCal address; the server fetches it. Unchecked, that address could be
``http://169.254.169.254/`` (cloud credentials), ``http://localhost:5432`` or ``file:///etc/passwd``.
:func:`fetch_calendar_url`:

- accepts ``http``, ``https``, ``webcal`` and ``webcals`` (both read over https: the address is
  a secret, never sent in the clear unless the user writes ``http://``), nothing else;
- resolves the host once, refuses the fetch when *any* of its addresses is off-limits, and
  connects to the address it checked (the pool's host is the IP; the ``Host`` header, TLS SNI
  and certificate verification use the name), so a DNS answer that changes between the check
  and the connection (DNS rebinding) cannot redirect it;
- follows at most :data:`MAX_REDIRECTS` redirects itself, checking every hop the same way;
- streams the body and stops at ``max_bytes``; one deadline (``timeout``) bounds the name
  lookup, the connection, the wait for the answer and the whole body.

Off-limits addresses: link-local (``169.254.0.0/16`` with the cloud metadata service,
``fe80::/10``), multicast and unspecified (``0.0.0.0``, ``::``) always; loopback, private
(RFC 1918, ``fc00::/7``), shared (``100.64.0.0/10``), reserved and every other non-global
address unless ``allow_private`` (ENV=local by default). IPv4 addresses embedded in IPv6
(``::ffff:a.b.c.d``, 6to4, NAT64 ``64:ff9b::/96``) are judged as the IPv4 address.

Residual risks: an HTTP(S) proxy from the environment is not used (the connection goes
straight to the checked address), so a deployment whose egress goes only through a proxy
cannot fetch ICS addresses; a hung DNS lookup is abandoned at the deadline but its thread
runs on until the resolver gives up (at most :data:`_DNS_WORKERS` at a time).

The address is a credential (a secret iCal address gives read access to the calendar): logs
name its host only, and no message repeats it.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeoutError
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from assistant.context.sources import CalendarInputError, CalendarSourceError
from assistant.inputs import log_safe

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 3
MAX_URL_CHARS = 4_096
_CHUNK_BYTES = 64 * 1024
_SCHEMES = {"http": "http", "https": "https", "webcal": "https", "webcals": "https"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HEADERS = {
    "Accept": "text/calendar, text/plain;q=0.5, */*;q=0.1",
    "Accept-Encoding": "gzip, deflate",
    "User-Agent": "executive-assistant-calendar/1.0",
}
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_DNS_WORKERS = 4
_dns_pool = ThreadPoolExecutor(max_workers=_DNS_WORKERS, thread_name_prefix="ics-dns")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_fetching = threading.local()


class _HideRequestLines(logging.Filter):
    """Drops urllib3's connection-pool records (``"GET /path?query"``) while this thread fetches a calendar.

    urllib3 logs every request line at DEBUG; for a secret iCal address the path is the secret.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_fetching, "active", False)


logging.getLogger("urllib3.connectionpool").addFilter(_HideRequestLines())

# Said when a webcal:// address could not be read over https (clients differ: some read webcal
# over http, which sends the secret address, and the calendar, across the network unencrypted).
WEBCAL_OVER_HTTPS = (
    "A webcal:// address is read over https, so the secret address is never sent unencrypted; if this "
    "calendar server serves it over http only, paste the address with http:// in place of webcal:// "
    "(it then crosses the network unencrypted)."
)

PRIVATE_ADDRESS_MESSAGE = (
    "That calendar address points at a local or private network address, which this server does not fetch; "
    "use the public secret address your calendar service gives you."
)


@dataclass(frozen=True)
class _Target:
    """One hop's request: where to connect and what to ask for."""

    scheme: str  # http | https
    host: str  # lower-case name or IP literal, no brackets
    port: int
    request_target: str  # path and query
    host_header: str

    @property
    def url(self) -> str:
        """The absolute URL (for resolving a relative redirect; never logged)."""
        return f"{self.scheme}://{self.host_header}{self.request_target}"


def _mb(max_bytes: int) -> str:
    return f"{max_bytes / 1_000_000:g} MB"


def _parse_target(url: str) -> _Target:
    """Checks an address's form and splits it into what one request needs.

    Raises:
        CalendarInputError: Not an http(s)/webcal(s) address, no host, credentials in it, a bad port.
    """
    url = url.strip()
    if len(url) > MAX_URL_CHARS:
        raise CalendarInputError(f"That calendar address is longer than {MAX_URL_CHARS} characters; copy it again.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise CalendarInputError("That calendar address contains spaces or invisible characters; copy it again.")
    parts = urlsplit(url)
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise CalendarInputError(
            "Only web addresses starting with https://, http://, webcal:// or webcals:// can be used as a calendar "
            "address; copy the secret iCal address from your calendar's settings."
        )
    if parts.username is not None or parts.password is not None:
        raise CalendarInputError(
            "Calendar addresses with a user name or password in them are not supported; "
            "use the secret iCal address your calendar service gives you."
        )
    host = parts.hostname
    if not host:
        raise CalendarInputError("That calendar address has no server name; copy the whole address again.")
    try:
        port = parts.port if parts.port is not None else _DEFAULT_PORTS[scheme]
        if port == 0:  # no server listens there; read as "no port", it was fetched from the default one
            raise ValueError("port 0")
    except ValueError as e:
        raise CalendarInputError("That calendar address has an invalid port number; copy it again.") from e
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as e:
        raise CalendarInputError("That calendar address has an invalid server name; copy it again.") from e
    try:
        literal: IpAddress | None = ipaddress.ip_address(ascii_host)
    except ValueError:
        literal = None
    netloc = f"[{ascii_host}]" if isinstance(literal, ipaddress.IPv6Address) else ascii_host
    if port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    request_target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(scheme=scheme, host=ascii_host, port=port, request_target=request_target, host_header=netloc)


def address_refusal(address: IpAddress, *, allow_private: bool) -> str | None:
    """Why this address may not be fetched, or None when it may.

    Args:
        address: A resolved IPv4 or IPv6 address.
        allow_private: Whether loopback, private and other non-global addresses are allowed.

    Returns:
        A short reason ("link-local", "loopback", …) or None.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_refusal(embedded, allow_private=allow_private)
    if address.is_unspecified:
        return "unspecified"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if allow_private:
        return None
    if address.is_loopback:
        return "loopback"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not global"
    return None


def _lookup(target: _Target, deadline: float, source: str) -> list[IpAddress]:
    """The host's addresses (an IP literal is its own), looked up before the deadline."""
    try:
        return [ipaddress.ip_address(target.host)]
    except ValueError:
        pass
    future = _dns_pool.submit(socket.getaddrinfo, target.host, target.port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(0.0, deadline - time.monotonic()))
    except FutureTimeoutError as e:
        future.cancel()
        raise CalendarSourceError(
            source, "Looking up the calendar server took too long; try again in a few minutes."
        ) from e
    except (socket.gaierror, UnicodeError) as e:
        raise CalendarSourceError(
            source, "The calendar server's name could not be found; check the address and try again."
        ) from e
    addresses: list[IpAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])  # without an IPv6 scope id
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise CalendarSourceError(
            source, "The calendar server's name could not be found; check the address and try again."
        )
    return addresses


def _resolve(target: _Target, *, allow_private: bool, deadline: float, source: str) -> list[str]:
    """The host's addresses, every one of them checked (the connection uses only these).

    Raises:
        CalendarInputError: One of the addresses is off-limits.
        CalendarSourceError: The name does not resolve, or not before the deadline.
    """
    addresses = _lookup(target, deadline, source)
    for address in addresses:
        reason = address_refusal(address, allow_private=allow_private)
        if reason is not None:
            logger.warning(
                "url_host=<%s>, address=<%s>, reason=<%s> | refused calendar address",
                log_safe(target.host),
                address,
                reason,
            )
            raise CalendarInputError(PRIVATE_ADDRESS_MESSAGE)
    return [str(a) for a in addresses]


def _tls_context() -> ssl.SSLContext:
    """Verifying context: the system's trust store (SSL_CERT_FILE honoured) plus certifi's bundle."""
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=certifi.where())
    return context


def _status_error(status: int, source: str) -> CalendarSourceError:
    if status in (404, 410):
        message = (
            f"The calendar address was not found (HTTP {status}); copy the secret address again from your "
            "calendar's settings."
        )
    elif status in (401, 403):
        message = (
            f"The calendar server refused access (HTTP {status}); the secret address may have been reset, "
            "so copy it again from your calendar's settings."
        )
    elif status >= 500:
        message = f"The calendar server failed (HTTP {status}); try again in a few minutes."
    elif status == 429:
        message = "The calendar server is asking us to slow down (HTTP 429); try again in a few minutes."
    else:
        message = f"The calendar server answered HTTP {status} instead of the calendar; check the address."
    return CalendarSourceError(source, message)


def _timeout_error(source: str, timeout: float) -> CalendarSourceError:
    return CalendarSourceError(
        source, f"The calendar server did not send the calendar within {timeout:g} seconds; try again later."
    )


def _too_big(max_bytes: int) -> CalendarInputError:
    return CalendarInputError(
        f"The calendar is larger than {_mb(max_bytes)}; use an address for a smaller calendar "
        "or export a shorter period as a file."
    )


def _open(
    target: _Target, addresses: list[str], deadline: float, timeout: float, source: str
) -> tuple[urllib3.HTTPConnectionPool, urllib3.BaseHTTPResponse]:
    """Sends the GET to the first checked address that accepts a connection (the pool is the caller's to close)."""
    last_error: Exception | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        limits = urllib3.Timeout(connect=remaining, read=remaining)
        pool: urllib3.HTTPConnectionPool
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                target.port,
                timeout=limits,
                retries=False,
                maxsize=1,
                server_hostname=target.host,
                ssl_context=_tls_context(),
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, target.port, timeout=limits, retries=False, maxsize=1)
        try:
            response = pool.urlopen(
                "GET",
                target.request_target,
                headers={**_HEADERS, "Host": target.host_header},
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
        except NewConnectionError as e:  # refused, unreachable: try the next address
            last_error = e
            pool.close()
            continue
        except ConnectTimeoutError as e:
            last_error = e
            pool.close()
            continue
        except SSLError as e:
            pool.close()
            raise CalendarSourceError(
                source,
                "The calendar server's security certificate could not be verified; check that the address is right.",
            ) from e
        except ReadTimeoutError as e:
            pool.close()
            raise _timeout_error(source, timeout) from e
        except (ProtocolError, HTTPError, OSError) as e:
            pool.close()
            raise CalendarSourceError(
                source, "The connection to the calendar server broke off; try again in a few minutes."
            ) from e
        return pool, response
    if isinstance(last_error, ConnectTimeoutError) and not isinstance(last_error, NewConnectionError):
        raise _timeout_error(source, timeout) from last_error
    if last_error is None:
        raise _timeout_error(source, timeout)
    raise CalendarSourceError(
        source, "Could not connect to the calendar server; check the address and try again later."
    ) from last_error


def _read_capped(
    response: urllib3.BaseHTTPResponse, max_bytes: int, deadline: float, timeout: float, source: str
) -> bytes:
    """The body, decoded (gzip), refused past ``max_bytes`` or past the deadline."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes and not response.headers.get("Content-Encoding"):
        raise _too_big(max_bytes)
    sock = getattr(response.connection, "sock", None)
    chunks: list[bytes] = []
    total = 0
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _timeout_error(source, timeout)
            if sock is not None:
                sock.settimeout(remaining)  # every read, not only the first, ends by the deadline
            # read1: what one socket read gives (read() would wait for a full chunk, byte by byte)
            chunk = response.read1(_CHUNK_BYTES, decode_content=True)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise _too_big(max_bytes)
            chunks.append(chunk)
    except (ReadTimeoutError, TimeoutError) as e:
        raise _timeout_error(source, timeout) from e
    except (ProtocolError, HTTPError, OSError) as e:
        raise CalendarSourceError(
            source, "The connection to the calendar server broke off; try again in a few minutes."
        ) from e
    return b"".join(chunks)


def fetch_calendar_url(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    allow_private: bool,
    source: str = "Calendar address",
) -> bytes:
    """The bytes behind a calendar address, fetched under the rules in this module's docstring.

    Args:
        url: An ``http``, ``https``, ``webcal`` or ``webcals`` address (a secret: never logged).
        max_bytes: Refuse a body larger than this (decoded).
        timeout: Seconds for the whole fetch: lookup, connection, every redirect and the body.
        allow_private: Whether loopback, private and other non-global addresses may be fetched
            (link-local, multicast and unspecified addresses never are).
        source: What the page calls the source, for :class:`CalendarSourceError`.

    Returns:
        The response body of the final hop (2xx).

    Raises:
        CalendarInputError: The address is not allowed (scheme, form, an off-limits address on
            any hop) or the calendar is larger than ``max_bytes``.
        CalendarSourceError: Network error, timeout, HTTP error status, too many redirects.
    """
    _fetching.active = True
    try:
        return _fetch(url, max_bytes=max_bytes, timeout=timeout, allow_private=allow_private, source=source)
    finally:
        _fetching.active = False


def _fetch(url: str, *, max_bytes: int, timeout: float, allow_private: bool, source: str) -> bytes:
    started = time.monotonic()
    deadline = started + timeout
    target = _parse_target(url)
    webcal = urlsplit(url.strip()).scheme.lower() == "webcal"
    for hop in range(MAX_REDIRECTS + 1):
        logger.info("url_host=<%s>, hop=<%s> | fetching calendar", log_safe(target.host), hop)
        addresses = _resolve(target, allow_private=allow_private, deadline=deadline, source=source)
        try:
            pool, response = _open(target, addresses, deadline, timeout, source)
        except CalendarSourceError as e:
            if hop or not webcal:
                raise
            raise CalendarSourceError(source, f"{e} {WEBCAL_OVER_HTTPS}") from e
        try:
            status = response.status
            if status in _REDIRECTS:
                location = response.headers.get("Location", "").strip()
                if not location:
                    raise CalendarSourceError(
                        source, "The calendar server sent a redirect without a destination; check the address."
                    )
                target = _parse_target(urljoin(target.url, location))
                continue
            if not 200 <= status < 300:
                logger.warning("url_host=<%s>, status=<%s> | calendar fetch refused", log_safe(target.host), status)
                raise _status_error(status, source)
            body = _read_capped(response, max_bytes, deadline, timeout, source)
        finally:
            response.release_conn()
            response.close()
            pool.close()
        logger.info(
            "url_host=<%s>, status=<%s>, bytes=<%s>, elapsed_ms=<%s> | fetched calendar",
            log_safe(target.host),
            status,
            len(body),
            round((time.monotonic() - started) * 1000),
        )
        return body
    raise CalendarSourceError(
        source,
        f"The calendar address redirected more than {MAX_REDIRECTS} times; "
        "copy the final secret address from your calendar's settings.",
    )
