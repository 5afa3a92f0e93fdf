"""What a URL's host is: this machine (loopback, a Unix socket) or a private network address.

Settings use these to tell a local setup from a deployment (a database or S3 endpoint on this
machine) and to let a model server on a private address through without a key.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_local_url(url: str) -> bool:
    """Whether a database or S3 URL points at this machine (loopback host or Unix socket)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if not host:
        # postgresql:///db or ?host=/run/postgresql: a Unix socket on this machine.
        query_host = next((q[5:] for q in parts.query.split("&") if q.startswith("host=")), "")
        return not query_host or query_host.startswith("/") or query_host.lower() in _LOOPBACK_HOSTS
    return host in _LOOPBACK_HOSTS


def is_private_address(url: str) -> bool:
    """Whether an http(s) URL's host is ``localhost`` or a loopback, private or link-local IP address.

    True for ``http://127.0.0.1:8000/v1``, ``http://192.168.1.20:1234/v1``, ``http://[::1]:8080``,
    ``http://localhost:11434``; False for a host name or a public address.
    """
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local
