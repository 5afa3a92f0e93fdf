"""What the secret key settings must look like: CALENDAR_ENCRYPTION_KEY, SESSION_COOKIE_SECRET, and the
Google client (its id and secret not swapped).

Pure checks on a value already read (``assistant/config.py`` reads the environment and calls them).
"""

from __future__ import annotations

import base64

COOKIE_SECRET_MIN_CHARS = 32
_FERNET_HINT = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
_RANDOM_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def key_problem(setting: str, value: str) -> str | None:
    """Why this value cannot be the key setting ``setting`` (a lower-case field name), or None.

    Args:
        setting: ``calendar_encryption_key``, ``session_cookie_secret``, ``google_client_id`` or
            ``google_client_secret``.
        value: The secret as given.

    Returns:
        One sentence naming the variable and how to generate a good value, or None when it is fine.
    """
    if setting == "google_client_id" and value.startswith("GOCSPX-"):  # every sign-in: "invalid_client"
        return "GOOGLE_CLIENT_ID holds a client secret (GOCSPX-...): were the client id and secret swapped?"
    if setting == "google_client_secret" and value.endswith(".apps.googleusercontent.com"):
        return (
            "GOOGLE_CLIENT_SECRET holds the client id (...apps.googleusercontent.com): were the id and secret swapped?"
        )
    if setting.startswith("google_"):
        return None
    if setting == "session_cookie_secret":
        # "changeme" signed cookies an attacker could brute-force offline, then forge any identity, admins included
        if len(value) < COOKIE_SECRET_MIN_CHARS:
            return (
                f"SESSION_COOKIE_SECRET must be at least {COOKIE_SECRET_MIN_CHARS} random characters "
                f"(it signs every sign-in); generate one with {_RANDOM_HINT}"
            )
        return None
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) != 32:
        return (
            "CALENDAR_ENCRYPTION_KEY must be a Fernet key (urlsafe base64 of 32 bytes); "
            f"generate one with {_FERNET_HINT}"
        )
    return None
