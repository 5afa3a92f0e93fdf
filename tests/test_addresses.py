"""URL hosts, DATABASE_URL's form and the sign-in lists (``assistant/addresses.py``): usable or refused."""

from __future__ import annotations

import re

import pytest

from assistant.addresses import address_list, database_url, is_local_url, is_private_address


@pytest.mark.parametrize(
    ("given", "taken"),
    [
        ("sqlite:///data/assistant.db", "sqlite:///data/assistant.db"),
        ("  sqlite+pysqlite:///:memory:\n", "sqlite+pysqlite:///:memory:"),
        ("postgresql+psycopg://app@db:5432/x", "postgresql+psycopg://app@db:5432/x"),
        ("postgres://app:pw@db/x", "postgresql://app:pw@db/x"),
        ("postgres+psycopg://app@db/x", "postgresql+psycopg://app@db/x"),
        ("PostgreSQL://app@db/x", "PostgreSQL://app@db/x"),
    ],
)
def test_database_urls_of_installed_drivers_are_taken(given: str, taken: str) -> None:
    assert database_url(given) == taken


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("", "is not a database URL"),
        ("assistant.db", "is not a database URL"),
        ("://host/db", "is not a database URL"),
        ("mysql://app@db/x", "mysql is not supported"),
        ("postgresql+asyncpg://app@db/x", "the asyncpg driver is not installed; use postgresql+psycopg://"),
        ("sqlite+aiosqlite:///x.db", "the aiosqlite driver is not installed; use sqlite+pysqlite://"),
    ],
)
def test_other_database_urls_are_refused_with_examples(given: str, says: str) -> None:
    with pytest.raises(ValueError) as refused:
        database_url(given)
    assert says in str(refused.value)
    assert "sqlite:///path/to/assistant.db" in str(refused.value)  # the message shows what to write


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:5432/db",
        "postgresql://me@LOCALHOST/db",
        "http://[::1]:9000",
        "postgresql:///assistant",  # no host: a Unix socket
        "postgresql://db.internal/x?host=/var/run/postgresql",
        "postgresql://u@/x?host=/tmp,localhost",
        "sqlite:///tmp/x.db",
    ],
)
def test_urls_on_this_machine_are_local(url: str) -> None:
    assert is_local_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app@db.internal:5432/x",
        "https://s3.eu-west-1.amazonaws.com",
        "postgresql://u@localhost/x?host=db.internal",  # libpq's host= wins over the address's own
        "postgresql://u@/x?host=/tmp,db.internal",  # one of several hosts is another machine
        "postgresql://u@/x?hostaddr=10.0.0.5",
        "http://[::1",  # cannot be read: not taken for local
    ],
)
def test_urls_elsewhere_or_unreadable_are_not_local(url: str) -> None:
    assert not is_local_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/v1",
        "http://192.168.1.20:1234/v1",
        "http://10.1.2.3",
        "http://[::1]:8080",
        "http://[fe80::1]:8080",
        "http://169.254.169.254/",
        "http://localhost:11434",
        "http://models.localhost:8080",
    ],
)
def test_loopback_private_and_link_local_hosts_are_private(url: str) -> None:
    assert is_private_address(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.openai.com/v1",
        "http://8.8.8.8/v1",
        "http://localhost.evil.example",
        "http://[2001:4860::8888]/",
        "http://[::1",
        "",
    ],
)
def test_host_names_public_and_unreadable_addresses_are_not_private(url: str) -> None:
    assert not is_private_address(url)


def test_sign_in_lists_of_the_right_kind_are_taken_as_they_are() -> None:
    assert address_list("allowed_email_domains", ["example.com", "example.org"]) == ["example.com", "example.org"]
    assert address_list("admin_emails", ["ann@example.com"]) == ["ann@example.com"]
    assert address_list("allowed_emails", []) == []


@pytest.mark.parametrize(
    ("setting", "parts", "says"),
    [
        ("allowed_email_domains", ["@example.com"], "@example.com is not a domain: write example.com"),
        ("internal_domains", ["boss@example.com"], "boss@example.com is not a domain: write example.com"),
        ("allowed_emails", ["example.com"], "example.com is not an email address (a whole domain goes in"),
        ("admin_emails", ["ann@example.com; bob@example.com"], "separate several with commas: ann@example.com,bob@"),
        ("allowed_email_domains", ["x.com y.com"], "x.com y.com is not a domain (separate several with commas"),
        ("allowed_emails", ['"ann" <ann@example.com>'], "is not an email address (separate several with commas"),
    ],
)
def test_an_entry_of_the_wrong_kind_or_two_run_together_is_refused_by_name(
    setting: str, parts: list[str], says: str
) -> None:
    # each matched nobody: every sign-in refused, or no admin, with nothing saying why
    with pytest.raises(ValueError, match=re.escape(says)):
        address_list(setting, parts)
