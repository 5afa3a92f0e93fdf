"""Verification of OpenID Connect id tokens (Google) before any identity is trusted.

The checks follow the OpenID Connect core spec and Google's guidance: the signature is
checked against the provider's published JWKS (RS256 only), then issuer, audience,
expiry / issued-at / not-before with a small leeway, and a verified email address.

Nothing here logs or stores the token itself.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

Role = Literal["user", "admin"]

ALLOWED_ALGORITHMS: tuple[str, ...] = ("RS256",)
"""The only signature algorithms accepted; checked before any key is looked up."""

MAX_TOKEN_CHARS = 16_384
GOOGLE_ISSUER = "https://accounts.google.com"
_REQUIRED_CLAIMS = ("iss", "aud", "sub", "exp", "iat")


class AuthError(Exception):
    """Sign-in was refused.

    Attributes:
        reason: A short machine-readable code (``bad_signature``, ``alg_not_allowed``,
            ``wrong_audience``, ``wrong_issuer``, ``expired``, ``not_yet_valid``,
            ``email_unverified``, ``unknown_key``, ``malformed``, ``nonce_mismatch``,
            ``jwks_unavailable``, ``provider_unavailable``, ``not_allowed``,
            ``dev_login_disabled``).
        message: A plain sentence, safe to log; never contains the token or secrets.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Identity:
    """A signed-in person, built only from a verified id token (or the local dev login).

    Attributes:
        user_id: The stable user id stored with sessions: exactly the token's ``sub``
            claim (or TEST_USER_ID for the local dev login).
        email: Lower-cased verified email address.
        name: Display name (falls back to the email).
        role: ``"user"`` or ``"admin"``; set by the access policy.
        issued_at: Epoch seconds when the identity was established (token ``iat``), used
            for the identity lifetime check.
        is_dev: True only for the local dev login.
        hosted_domain: Google Workspace domain (``hd`` claim), if any.
    """

    user_id: str
    email: str
    name: str
    role: Role = "user"
    issued_at: float = 0.0
    is_dev: bool = False
    hosted_domain: str | None = None

    @property
    def is_admin(self) -> bool:
        """Whether this identity has the admin role."""
        return self.role == "admin"


class JwksCache:
    """Thread-safe cache of a provider's signing keys.

    Keys are fetched lazily and kept for ``ttl_s``. An unknown key id triggers one
    refresh, but refreshes are rate-limited to one per ``min_refresh_interval_s`` so a
    flood of tokens with random ``kid`` values cannot hammer the JWKS endpoint.

    Args:
        jwks_uri: The provider's JWKS URL.
        ttl_s: How long fetched keys are trusted before a routine refresh.
        min_refresh_interval_s: Minimum delay between two fetches.
        timeout_s: HTTP timeout for one fetch.
        clock: Time source (tests inject a fake one).
        session: Optional ``requests`` session.
    """

    def __init__(
        self,
        jwks_uri: str,
        *,
        ttl_s: float = 3600.0,
        min_refresh_interval_s: float = 60.0,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
    ) -> None:
        self.jwks_uri = jwks_uri
        self.ttl_s = ttl_s
        self.min_refresh_interval_s = min_refresh_interval_s
        self.timeout_s = timeout_s
        self._clock = clock
        self._session = session
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetch_count = 0

    def get_key(self, kid: str) -> Any:
        """Return the public key for ``kid``, refreshing the set at most once if unknown.

        Args:
            kid: The key id from the token header.

        Returns:
            An RSA public key object usable by PyJWT.

        Raises:
            AuthError: ``unknown_key`` if the key is still unknown after a refresh (or a
                refresh is not allowed yet); ``jwks_unavailable`` if the set can't be fetched.
        """
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self.ttl_s
            if (stale or kid not in self._keys) and self._may_refresh(now):
                self._refresh(now)
            key = self._keys.get(kid)
        if key is None:
            logger.warning("kid=<%s>, jwks_uri=<%s> | signing key not found", kid[:64], self.jwks_uri)
            raise AuthError("unknown_key", "The token was signed with a key the provider does not publish.")
        return key

    def _may_refresh(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= self.min_refresh_interval_s

    def _refresh(self, now: float) -> None:
        # Record the attempt first: a failing endpoint is rate-limited as well.
        self._fetched_at = now
        self.fetch_count += 1
        # PyJWT (with cryptography) and requests: imported when a key is first needed, at a
        # sign-in, not when the app starts (~45 ms of the warm start; dev login never needs them).
        import jwt
        import requests
        from jwt.algorithms import RSAAlgorithm

        try:
            getter = self._session.get if self._session is not None else requests.get
            response = getter(self.jwks_uri, timeout=self.timeout_s)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as e:
            logger.warning("jwks_uri=<%s>, error=<%s> | jwks fetch failed", self.jwks_uri, type(e).__name__)
            if not self._keys:
                raise AuthError("jwks_unavailable", "The sign-in provider's keys could not be fetched.") from e
            return
        keys: dict[str, Any] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not isinstance(entry.get("kid"), str):
                continue
            if entry.get("use", "sig") != "sig" or entry.get("alg", "RS256") not in ALLOWED_ALGORITHMS:
                continue
            try:
                keys[entry["kid"]] = RSAAlgorithm.from_jwk(entry)
            except (jwt.InvalidKeyError, ValueError, KeyError, TypeError):
                logger.warning("kid=<%s> | skipping unusable jwks entry", str(entry.get("kid"))[:64])
        self._keys = keys
        logger.info("jwks_uri=<%s>, keys=<%d> | jwks refreshed", self.jwks_uri, len(keys))


_default_caches: dict[str, JwksCache] = {}
_default_caches_lock = threading.Lock()


def default_jwks_cache(jwks_uri: str) -> JwksCache:
    """The process-wide cache for ``jwks_uri`` (public keys only, safe to share)."""
    with _default_caches_lock:
        cache = _default_caches.get(jwks_uri)
        if cache is None:
            cache = _default_caches[jwks_uri] = JwksCache(jwks_uri)
        return cache


def clear_jwks_caches() -> None:
    """Forget every process-wide JWKS cache (tests)."""
    with _default_caches_lock:
        _default_caches.clear()


_ALG_MESSAGE = "The sign-in token uses a signature algorithm that is not accepted."


def _refuse(reason: str, message: str, issuer: str) -> AuthError:
    logger.warning("reason=<%s>, issuer=<%s> | id token refused", reason, issuer)
    return AuthError(reason, message)


def _accepted_issuers(issuer: str) -> set[str]:
    issuers = {issuer}
    if issuer.rstrip("/") == GOOGLE_ISSUER:
        # Google documents both spellings of its issuer.
        issuers |= {GOOGLE_ISSUER, "accounts.google.com"}
    return issuers


def _number(claims: Mapping[str, Any], name: str, issuer: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse("malformed", f"The token's '{name}' claim is not a number.", issuer)
    return float(value)


# Long on purpose: a linear checklist of the id_token checks, in the order a reviewer reads them
# (algorithm, key, signature, issuer, audience, times, email, nonce); splitting it hides the order.
def verify_id_token(
    token: str,
    *,
    client_id: str,
    issuer: str,
    jwks_uri: str,
    leeway_s: int = 60,
    now: float | None = None,
    jwks_cache: JwksCache | None = None,
    nonce: str | None = None,
) -> Identity:
    """Verify an OpenID Connect id token and return who it identifies.

    Args:
        token: The compact JWT from the token endpoint response.
        client_id: Our OAuth client id; must be the token's audience.
        issuer: The expected ``iss`` (for Google both documented spellings are accepted).
        jwks_uri: Where the provider publishes its signing keys.
        leeway_s: Clock skew tolerated for ``exp``, ``iat`` and ``nbf``.
        now: Current epoch seconds (tests); defaults to ``time.time()``.
        jwks_cache: Key cache to use; defaults to a process-wide one per ``jwks_uri``.
        nonce: If given, the token's ``nonce`` claim must equal it.

    Returns:
        The identity with role ``"user"``; apply :func:`assistant.auth.check_access` next.

    Raises:
        AuthError: With a ``reason`` code when anything does not check out.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise _refuse("malformed", "The sign-in token is not a well-formed JWT.", issuer)
    import jwt  # at a sign-in, not at start (see JwksCache._refresh)

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as e:
        raise _refuse("malformed", "The sign-in token header could not be read.", issuer) from e

    # Algorithm allow-list before touching any key: defeats alg=none and HS256-with-public-key.
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise _refuse("alg_not_allowed", _ALG_MESSAGE, issuer)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _refuse("malformed", "The sign-in token does not name its signing key.", issuer)

    cache = jwks_cache if jwks_cache is not None else default_jwks_cache(jwks_uri)
    try:
        key = cache.get_key(kid)
    except AuthError as e:
        raise _refuse(e.reason, e.message, issuer) from e

    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=list(ALLOWED_ALGORITHMS),
            audience=client_id,
            options={
                "require": list(_REQUIRED_CLAIMS),
                "verify_signature": True,
                "verify_aud": True,
                "verify_iss": False,  # checked below, to accept Google's two spellings
                "verify_exp": False,  # checked below against `now`
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidSignatureError as e:
        raise _refuse("bad_signature", "The sign-in token's signature is not valid.", issuer) from e
    except jwt.InvalidAlgorithmError as e:
        raise _refuse("alg_not_allowed", _ALG_MESSAGE, issuer) from e
    except jwt.InvalidAudienceError as e:
        raise _refuse("wrong_audience", "The sign-in token was issued for another application.", issuer) from e
    except jwt.MissingRequiredClaimError as e:
        raise _refuse("malformed", f"The sign-in token lacks the '{e.claim}' claim.", issuer) from e
    except jwt.PyJWTError as e:
        raise _refuse("malformed", "The sign-in token could not be decoded.", issuer) from e

    if claims.get("iss") not in _accepted_issuers(issuer):
        raise _refuse("wrong_issuer", "The sign-in token comes from an unexpected issuer.", issuer)
    aud = claims.get("aud")
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != client_id:
        raise _refuse("wrong_audience", "The sign-in token was issued for another application.", issuer)

    current = time.time() if now is None else now
    exp = _number(claims, "exp", issuer)
    iat = _number(claims, "iat", issuer)
    if current > exp + leeway_s:
        raise _refuse("expired", "The sign-in token has expired.", issuer)
    if iat > current + leeway_s:
        raise _refuse("not_yet_valid", "The sign-in token is not valid yet.", issuer)
    if "nbf" in claims and _number(claims, "nbf", issuer) > current + leeway_s:
        raise _refuse("not_yet_valid", "The sign-in token is not valid yet.", issuer)

    if nonce is not None:
        token_nonce = claims.get("nonce")
        if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce, nonce):
            raise _refuse("nonce_mismatch", "The sign-in token does not belong to this sign-in attempt.", issuer)

    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise _refuse("malformed", "The sign-in token has no usable subject.", issuer)
    email = claims.get("email")
    verified = claims.get("email_verified")
    if not isinstance(email, str) or "@" not in email:
        raise _refuse("email_unverified", "The sign-in token carries no email address.", issuer)
    if verified is not True and not (isinstance(verified, str) and verified.lower() == "true"):
        raise _refuse("email_unverified", "The account's email address is not verified.", issuer)

    name = claims.get("name")
    hd = claims.get("hd")
    return Identity(
        user_id=sub,
        email=email.strip().lower(),
        name=name.strip() if isinstance(name, str) and name.strip() else email.strip().lower(),
        role="user",
        issued_at=iat,
        is_dev=False,
        hosted_domain=hd.strip().lower() if isinstance(hd, str) and hd.strip() else None,
    )
