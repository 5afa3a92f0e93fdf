"""OpenID Connect discovery: the provider's endpoints, fetched once and cached."""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from assistant.auth.tokens import AuthError

logger = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the discovery document the sign-in flow needs."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    revocation_endpoint: str | None = None


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(url: object, field: str, issuer: str) -> str:
    if not isinstance(url, str) or not url:
        raise AuthError("provider_unavailable", f"The provider's discovery document lacks '{field}'.")
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname)):
        return url
    logger.warning("issuer=<%s>, field=<%s> | insecure endpoint in discovery document", issuer, field)
    raise AuthError("provider_unavailable", f"The provider's '{field}' must use https.")


class DiscoveryCache:
    """Fetches ``<issuer>/.well-known/openid-configuration`` and keeps it for ``ttl_s``.

    Args:
        ttl_s: How long a fetched document is reused.
        timeout_s: HTTP timeout for one fetch.
        clock: Time source (tests).
    """

    def __init__(
        self, *, ttl_s: float = 3600.0, timeout_s: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self._clock = clock
        self._entries: dict[str, tuple[float, ProviderMetadata]] = {}
        self._lock = threading.Lock()

    def get(self, issuer: str) -> ProviderMetadata:
        """Return the provider metadata for ``issuer``, fetching it when missing or stale.

        Args:
            issuer: The issuer URL (e.g. ``https://accounts.google.com``).

        Returns:
            The endpoints.

        Raises:
            AuthError: ``provider_unavailable`` when the document can't be fetched or is
                invalid (wrong issuer, missing or non-https endpoints).
        """
        with self._lock:
            entry = self._entries.get(issuer)
            now = self._clock()
            if entry is not None and now - entry[0] < self.ttl_s:
                return entry[1]
            metadata = self._fetch(issuer)
            self._entries[issuer] = (now, metadata)
            return metadata

    def clear(self) -> None:
        """Forget every cached document."""
        with self._lock:
            self._entries.clear()

    def _fetch(self, issuer: str) -> ProviderMetadata:
        import requests  # at the first sign-in, not when the app starts

        url = issuer.rstrip("/") + DISCOVERY_PATH
        try:
            response = requests.get(url, timeout=self.timeout_s)
            response.raise_for_status()
            doc = response.json()
        except (requests.RequestException, ValueError) as e:
            logger.warning("issuer=<%s>, error=<%s> | discovery document fetch failed", issuer, type(e).__name__)
            raise AuthError("provider_unavailable", "The sign-in provider could not be reached.") from e
        if not isinstance(doc, dict):
            raise AuthError("provider_unavailable", "The provider's discovery document is not a JSON object.")
        if str(doc.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
            logger.warning("issuer=<%s> | discovery document names another issuer", issuer)
            raise AuthError("provider_unavailable", "The provider's discovery document names another issuer.")
        revocation = doc.get("revocation_endpoint")
        metadata = ProviderMetadata(
            issuer=str(doc["issuer"]),
            authorization_endpoint=_check_url(doc.get("authorization_endpoint"), "authorization_endpoint", issuer),
            token_endpoint=_check_url(doc.get("token_endpoint"), "token_endpoint", issuer),
            jwks_uri=_check_url(doc.get("jwks_uri"), "jwks_uri", issuer),
            revocation_endpoint=(
                _check_url(revocation, "revocation_endpoint", issuer) if isinstance(revocation, str) else None
            ),
        )
        logger.info("issuer=<%s> | discovery document loaded", issuer)
        return metadata


_default_cache = DiscoveryCache()


def get_provider_metadata(issuer: str) -> ProviderMetadata:
    """Provider metadata from the process-wide discovery cache (public data, safe to share).

    Args:
        issuer: The issuer URL.

    Returns:
        The endpoints.

    Raises:
        AuthError: ``provider_unavailable`` on fetch or validation failure.
    """
    return _default_cache.get(issuer)


def clear_discovery_cache() -> None:
    """Forget the process-wide discovery documents (tests)."""
    _default_cache.clear()
