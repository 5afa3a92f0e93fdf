"""What the secret key settings must look like (``assistant/keys.py``): one sentence saying how to make a good one."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet

from assistant.keys import COOKIE_SECRET_MIN_CHARS, key_problem


def test_a_generated_fernet_key_is_a_calendar_encryption_key() -> None:
    assert key_problem("calendar_encryption_key", Fernet.generate_key().decode()) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "changeme",
        base64.urlsafe_b64encode(b"x" * 31).decode(),  # one byte short
        base64.urlsafe_b64encode(b"x" * 33).decode(),
        "é" * 44,  # not ASCII
        "!" * 44,  # not base64
    ],
    ids=["empty", "word", "31-bytes", "33-bytes", "non-ascii", "not-base64"],
)
def test_anything_but_32_bytes_of_urlsafe_base64_is_refused_with_how_to_generate_one(value: str) -> None:
    problem = key_problem("calendar_encryption_key", value)
    assert problem is not None
    assert problem.startswith("CALENDAR_ENCRYPTION_KEY must be a Fernet key")
    assert "Fernet.generate_key()" in problem
    if value:
        assert value not in problem  # the secret itself is never repeated


def test_a_cookie_secret_needs_its_minimum_length() -> None:
    assert key_problem("session_cookie_secret", "x" * COOKIE_SECRET_MIN_CHARS) is None
    problem = key_problem("session_cookie_secret", "x" * (COOKIE_SECRET_MIN_CHARS - 1))
    assert problem is not None
    assert f"SESSION_COOKIE_SECRET must be at least {COOKIE_SECRET_MIN_CHARS} random characters" in problem
    assert "secrets.token_urlsafe(32)" in problem


def test_a_swapped_google_client_id_and_secret_are_named() -> None:
    assert "were the client id and secret swapped?" in (key_problem("google_client_id", "GOCSPX-abc") or "")
    assert "were the id and secret swapped?" in (
        key_problem("google_client_secret", "1234-abc.apps.googleusercontent.com") or ""
    )


def test_google_client_values_in_their_own_places_are_fine() -> None:
    assert key_problem("google_client_id", "1234-abc.apps.googleusercontent.com") is None
    assert key_problem("google_client_secret", "GOCSPX-abc") is None
    assert key_problem("google_client_secret", "short") is None  # Google's value: no length rule here
