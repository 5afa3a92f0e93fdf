"""Calendar secrets at rest: encrypted and authenticated, never readable with another key nor
once altered (and then a sentence asking to reconnect, without the secret); the local key made
once, owner-only, and shared by every process; no key off ENV=local means no connecting."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from assistant.config import load_settings
from assistant.context.secrets import SecretUnavailableError, TokenCipher, cipher_for

SECRET = "https://calendar.google.com/calendar/ical/ada%40example.com/private-0123456789abcdef/basic.ics"


def test_a_secret_is_stored_unreadable_and_comes_back_whole() -> None:
    cipher = TokenCipher(Fernet.generate_key())
    token = cipher.encrypt(SECRET)
    assert "private-0123456789abcdef" not in token and "ada" not in token
    assert token != cipher.encrypt(SECRET)  # a fresh nonce each time: equal secrets do not look equal
    assert cipher.decrypt(token) == SECRET
    assert cipher.decrypt(cipher.encrypt("1//refresh-ünïcode-✓")) == "1//refresh-ünïcode-✓"


@pytest.mark.parametrize("damage", ["another key", "altered", "cut short", "not ascii"])
def test_a_secret_that_cannot_be_decrypted_asks_to_reconnect_without_showing_it(damage: str) -> None:
    cipher = TokenCipher(Fernet.generate_key())
    token = cipher.encrypt(SECRET)
    if damage == "another key":
        cipher = TokenCipher(Fernet.generate_key())
    elif damage == "altered":
        token = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    elif damage == "cut short":
        token = token[: len(token) // 2]
    else:
        token = "é" + token
    with pytest.raises(SecretUnavailableError) as caught:
        cipher.decrypt(token)
    assert str(caught.value) == (
        "A stored calendar secret cannot be decrypted (the encryption key changed); reconnect the calendar."
    )
    assert "private" not in str(caught.value) and token not in str(caught.value)


def test_the_configured_key_is_used_and_reads_what_it_wrote(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    settings = load_settings(calendar_encryption_key=key)
    first, second = cipher_for(settings, tmp_path / "unused.key"), cipher_for(settings, tmp_path / "unused.key")
    assert first is not None and second is not None
    assert second.decrypt(first.encrypt(SECRET)) == SECRET
    assert not (tmp_path / "unused.key").exists()  # a configured key writes no file


def test_locally_a_key_is_made_once_owner_only_and_reused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    key_file = tmp_path / "nested" / "calendar.key"
    settings = load_settings(env="local")
    first = cipher_for(settings, key_file)
    assert first is not None and key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    token = first.encrypt(SECRET)
    again = cipher_for(settings, key_file)  # the next run, or another process
    assert again is not None and again.decrypt(token) == SECRET
    key = key_file.read_bytes().strip().decode()
    assert "generated a local calendar encryption key" in caplog.text and key not in caplog.text


def test_a_deployment_without_a_key_cannot_connect_calendars(tmp_path: Path) -> None:
    settings = load_settings(
        env="dev",
        database_url=f"sqlite:///{tmp_path / 'a.db'}",
        sessions_bucket_name="test-sessions",
        oauth_redirect_uri="https://app.example.com/",
        allowed_email_domains="example.com",
        google_client_id="id",
        google_client_secret="secret",
    )
    assert cipher_for(settings, tmp_path / "calendar.key") is None
    assert not (tmp_path / "calendar.key").exists()
