"""Calendar secrets at rest: Google refresh tokens and secret iCal addresses, Fernet-encrypted.

The key comes from CALENDAR_ENCRYPTION_KEY. In ENV=local without one, a key is generated
once into ``.data/calendar.key`` (owner-only) so `make run` can connect a calendar; a
deployment without the key cannot connect calendars at all (demo data only) rather than
storing a secret in clear.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from assistant.config import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)

LOCAL_KEY_FILE = PROJECT_ROOT / ".data" / "calendar.key"
NO_KEY_MESSAGE = (
    "Connecting a calendar is off on this server: an administrator must set CALENDAR_ENCRYPTION_KEY. "
    "You are seeing demo meetings."
)


class SecretUnavailableError(Exception):
    """No key is configured, or a stored secret cannot be decrypted with the current key."""


class TokenCipher:
    """Encrypts and decrypts one secret string with a Fernet key."""

    def __init__(self, key: bytes) -> None:
        from cryptography.fernet import Fernet  # imported on first use: the app starts without it

        self._fernet = Fernet(key)

    def encrypt(self, secret: str) -> str:
        """The secret, encrypted and authenticated (urlsafe base64 text)."""
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The secret back.

        Raises:
            SecretUnavailableError: The token was encrypted with another key or altered.
        """
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as e:
            raise SecretUnavailableError(
                "A stored calendar secret cannot be decrypted (the encryption key changed); reconnect the calendar."
            ) from e


def cipher_for(settings: Settings, key_file: Path = LOCAL_KEY_FILE) -> TokenCipher | None:
    """The cipher for these settings, or None when calendar connections are off.

    Args:
        settings: CALENDAR_ENCRYPTION_KEY; ENV=local falls back to a generated key file.
        key_file: Where the local key lives.
    """
    if settings.calendar_encryption_key is not None:
        return TokenCipher(settings.calendar_encryption_key.get_secret_value().encode("ascii"))
    if not settings.is_local:
        return None
    try:
        return TokenCipher(key_file.read_bytes().strip())
    except FileNotFoundError:
        pass
    from cryptography.fernet import Fernet

    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first
        return TokenCipher(key_file.read_bytes().strip())
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    logger.info("key_file=<%s> | generated a local calendar encryption key", key_file)
    return TokenCipher(key)
