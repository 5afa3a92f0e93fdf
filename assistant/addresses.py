"""What a URL's host is: this machine (loopback, a Unix socket) or a private network address; DATABASE_URL's form;
the comma lists of email addresses and domains that decide who may sign in.

Settings use these to tell a local setup from a deployment (a database or S3 endpoint on this
machine) and to let a model server on a private address through without a key.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qs, urlsplit

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
# The databases and drivers installed (requirements.txt): SQLAlchemy's "backend+driver://..." scheme.
_DATABASE_DRIVERS = {"sqlite": ("", "pysqlite"), "postgresql": ("", "psycopg")}
_LIST_EXAMPLES = {"a domain": "example.com,example.org", "an email address": "ann@example.com,bob@example.com"}
_DATABASE_URL_EXAMPLES = "e.g. sqlite:///path/to/assistant.db or postgresql+psycopg://user:password@host:5432/db"


def database_url(value: str) -> str:
    """A DATABASE_URL as SQLAlchemy takes it (``postgres://`` becomes ``postgresql://``).

    Raises:
        ValueError: Not a URL of an installed database and driver; the message gives examples.
    """
    value = value.strip()
    scheme, sep, rest = value.partition("://")
    backend, _, driver = scheme.lower().partition("+")
    if backend == "postgres":  # Heroku, Render and Fly write postgres://; SQLAlchemy knows postgresql
        backend, value = "postgresql", f"postgresql{scheme[len('postgres') :]}://{rest}"
    if not sep or backend not in _DATABASE_DRIVERS:
        shown = f"{backend} is not supported" if sep and backend else "is not a database URL"
        raise ValueError(f"{shown}: use SQLite or PostgreSQL, {_DATABASE_URL_EXAMPLES}")
    if driver not in _DATABASE_DRIVERS[backend]:
        raise ValueError(
            f"the {driver} driver is not installed; use {backend}+{_DATABASE_DRIVERS[backend][-1]}:// "
            f"({_DATABASE_URL_EXAMPLES})"
        )
    return value


def is_local_url(url: str) -> bool:
    """Whether a database or S3 URL points at this machine (loopback host or Unix socket)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    query = parse_qs(parts.query)
    # libpq's host and hostaddr (each possibly a list) win over the address's own host
    named = [h.strip().lower() for key in ("host", "hostaddr") for v in query.get(key, []) for h in v.split(",")]
    if named:  # ?host=/run/postgresql: a Unix socket on this machine
        return all(h.startswith("/") or h in _LOOPBACK_HOSTS for h in named)
    return not host or host in _LOOPBACK_HOSTS  # postgresql:///db: a Unix socket


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


def address_list(setting: str, parts: list[str]) -> list[str]:
    """Check a comma list of domains (``*_domains`` settings) or email addresses (the others).

    Args:
        setting: The setting's field name, e.g. ``allowed_email_domains`` or ``admin_emails``.
        parts: Its entries, already split on commas, stripped and lower-cased.

    Raises:
        ValueError: An entry is of the other kind, or two entries were run together (a space,
            a semicolon, quotes); such an entry matched nobody, so every sign-in was refused.
    """
    domains = setting.endswith("domains")
    address = next((p for p in parts if "@" in p and domains), None)
    if address:  # "@example.com" or "boss@example.com" where a domain goes would match nobody
        raise ValueError(f"{address} is not a domain: write {address.rsplit('@', 1)[-1]}, not an email address")
    domain = next((p for p in parts if "@" not in p and setting in ("allowed_emails", "admin_emails")), None)
    if domain:  # "example.com" where an address goes matched nobody: every sign-in refused, no admin
        raise ValueError(f"{domain} is not an email address (a whole domain goes in ALLOWED_EMAIL_DOMAINS)")
    odd = next((p for p in parts if re.search(r"[\s;\"'<>()\[\]/:]", p)), None)
    if odd:  # "a@x.com; b@x.com" or "x.com y.com" was one entry that matched nobody
        what = "a domain" if domains else "an email address"
        raise ValueError(f"{odd} is not {what} (separate several with commas: {_LIST_EXAMPLES[what]})")
    return parts
