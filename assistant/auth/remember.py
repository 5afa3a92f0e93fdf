"""Staying signed in across reloads and tabs: a signed session cookie, revocable on sign-out.

After Google sign-in the app hands the browser a short JWT (HS256) in a cookie. It holds
the verified identity (``sub``, email, name, Workspace domain) and the time of the Google
sign-in; it expires when the identity would (IDENTITY_MAX_AGE_HOURS after sign-in), so a
reload never extends a sign-in. When a new browser session starts, the gate reads the
cookie, checks it here and applies the access policy again, so a user removed from the
allow-list or from ADMIN_EMAILS is refused or demoted at their next page load.

* The signing key is SESSION_COOKIE_SECRET when set, otherwise derived (HMAC-SHA256) from
  the OAuth client secret, so every replica behind a load balancer accepts the same cookie
  without extra configuration, and rotating either secret signs everyone out.
* Only HS256 is accepted, with our own issuer and an audience naming this deployment (its
  OAuth redirect URI), so neither an id token from Google, any other JWT, nor a cookie of
  another deployment sharing the secret (dev vs prod) is taken for a session cookie.
* Sign-out records the cookie's id (``jti``) in the ``revoked_sign_ins`` table until the
  cookie would have expired: a copied cookie stops working everywhere at once.

Nothing here logs the cookie itself.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from assistant.auth.tokens import AuthError, Identity
from assistant.db import revoked_sign_ins, write_tx

logger = logging.getLogger(__name__)

COOKIE_NAME = "ea_sign_in"
AUDIENCE = "executive-assistant/session"
ISSUER = "executive-assistant"
ALGORITHM = "HS256"
MAX_COOKIE_CHARS = 4096
_KEY_LABEL = b"executive-assistant/session-cookie/v1"


def derive_key(secret: str) -> bytes:
    """The cookie signing key: HMAC-SHA256 of a fixed label under ``secret``.

    Args:
        secret: SESSION_COOKIE_SECRET, or the OAuth client secret when that is unset.

    Returns:
        A 32-byte key; the secret itself never signs anything.
    """
    return hmac.new(secret.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()


@dataclass(frozen=True)
class RememberedIdentity:
    """An identity read back from a valid, unrevoked sign-in cookie.

    Attributes:
        identity: The identity as signed in (role not yet re-checked: apply the policy).
        token_id: The cookie's ``jti``, needed to revoke it on sign-out.
        expires_at: Epoch seconds when the cookie expires.
    """

    identity: Identity
    token_id: str
    expires_at: float


@dataclass(frozen=True)
class IssuedCookie:
    """A freshly signed cookie value and what the browser needs to store it."""

    value: str
    token_id: str
    max_age_s: int
    expires_at: float


class SignInMemory:
    """Issues, reads and revokes sign-in cookies.

    Args:
        engine: The SQL database holding ``revoked_sign_ins`` (already migrated).
        key: The signing key (see :func:`derive_key`).
        max_age_hours: IDENTITY_MAX_AGE_HOURS; the cookie never outlives the sign-in.
        deployment: Names this deployment in the audience (the OAuth redirect URI).
    """

    def __init__(self, engine: Engine, key: bytes, *, max_age_hours: float, deployment: str = "") -> None:
        self._engine = engine
        self._key = key
        self._max_age_s = max_age_hours * 3600.0
        self._audience = AUDIENCE + (":" + deployment if deployment else "")

    def issue(self, identity: Identity, *, now: float | None = None) -> IssuedCookie | None:
        """Sign a cookie for a verified Google identity.

        Args:
            identity: The identity just admitted by the access policy.
            now: Current epoch seconds (tests).

        Returns:
            The cookie, or None when the sign-in is already too old to remember (or a dev login).
        """
        if identity.is_dev:
            return None
        current = time.time() if now is None else now
        expires = identity.issued_at + self._max_age_s
        if expires - current < 1:
            return None
        token_id = secrets.token_urlsafe(16)
        claims = {
            "iss": ISSUER,
            "aud": self._audience,
            "sub": identity.user_id,
            "email": identity.email,
            "name": identity.name,
            "hd": identity.hosted_domain,
            "auth_time": int(identity.issued_at),
            "iat": int(current),
            "exp": int(expires),
            "jti": token_id,
        }
        import jwt  # PyJWT imports cryptography (~20 ms): at a sign-in, not when the app starts

        value = jwt.encode(claims, self._key, algorithm=ALGORITHM)
        return IssuedCookie(value=value, token_id=token_id, max_age_s=int(expires - current), expires_at=expires)

    def read(self, value: str, *, now: float | None = None) -> RememberedIdentity:
        """Check a cookie and return the identity it remembers.

        Args:
            value: The cookie value sent by the browser.
            now: Current epoch seconds (tests).

        Returns:
            The remembered identity.

        Raises:
            AuthError: ``malformed``, ``alg_not_allowed``, ``bad_signature``, ``expired``,
                ``wrong_audience``, ``wrong_issuer`` or ``revoked``; or
                ``provider_unavailable`` when the revocation list cannot be read (the
                caller then asks for a normal sign-in rather than trusting the cookie).
        """
        if not value or len(value) > MAX_COOKIE_CHARS:
            raise AuthError("malformed", "The sign-in cookie is malformed.")
        import jwt  # see issue()

        try:
            header = jwt.get_unverified_header(value)
        except jwt.PyJWTError as e:
            raise AuthError("malformed", "The sign-in cookie is malformed.") from e
        if header.get("alg") != ALGORITHM:
            raise AuthError("alg_not_allowed", "The sign-in cookie uses a signature algorithm that is not allowed.")
        current = time.time() if now is None else now
        try:
            # Expiry is checked below against ``current`` (one clock for the app and its tests).
            claims = jwt.decode(
                value,
                self._key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=ISSUER,
                options={
                    "require": ["exp", "iat", "sub", "jti", "auth_time"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidAudienceError as e:
            raise AuthError("wrong_audience", "The sign-in cookie was not issued for this app.") from e
        except jwt.InvalidIssuerError as e:
            raise AuthError("wrong_issuer", "The sign-in cookie was not issued by this app.") from e
        except jwt.InvalidSignatureError as e:
            raise AuthError("bad_signature", "The sign-in cookie's signature is not valid.") from e
        except jwt.PyJWTError as e:
            raise AuthError("malformed", "The sign-in cookie is malformed.") from e
        try:
            expires_at = float(claims["exp"])
            auth_time = float(claims["auth_time"])
        except (TypeError, ValueError) as e:
            raise AuthError("malformed", "The sign-in cookie is malformed.") from e
        if current >= expires_at or current - auth_time > self._max_age_s:
            raise AuthError("expired", "The remembered sign-in has expired.")
        token_id = str(claims["jti"])
        if self.is_revoked(token_id):
            raise AuthError("revoked", "This sign-in was ended by signing out.")
        email = str(claims.get("email") or "")
        if not email or not str(claims["sub"]):
            raise AuthError("malformed", "The sign-in cookie is malformed.")
        hd = claims.get("hd")
        identity = Identity(
            user_id=str(claims["sub"]),
            email=email,
            name=str(claims.get("name") or email),
            issued_at=auth_time,
            hosted_domain=str(hd) if hd else None,
        )
        return RememberedIdentity(identity=identity, token_id=token_id, expires_at=expires_at)

    def is_revoked(self, token_id: str) -> bool:
        """Whether the cookie with this id was signed out.

        Raises:
            AuthError: ``provider_unavailable`` when the database cannot be read.
        """
        try:
            with self._engine.connect() as conn:
                found = conn.execute(
                    select(revoked_sign_ins.c.token_id).where(revoked_sign_ins.c.token_id == token_id)
                ).first()
        except SQLAlchemyError as e:
            logger.error("error=<%s> | revocation list unavailable", type(e).__name__)
            raise AuthError("provider_unavailable", "The sign-in could not be checked right now.") from e
        return found is not None

    def revoke(self, token_id: str, expires_at: float, *, user_id: str, now: float | None = None) -> bool:
        """End a remembered sign-in everywhere (sign-out); also forgets long-expired entries.

        Returns:
            True when recorded; False when the database could not be written (logged).
        """
        current = time.time() if now is None else now
        try:
            with write_tx(self._engine) as conn:
                conn.execute(
                    delete(revoked_sign_ins).where(revoked_sign_ins.c.expires_at < datetime.fromtimestamp(current, UTC))
                )
                conn.execute(
                    revoked_sign_ins.insert().values(
                        token_id=token_id,
                        user_id=user_id,
                        expires_at=datetime.fromtimestamp(expires_at, UTC),
                        revoked_at=datetime.fromtimestamp(current, UTC),
                    )
                )
        except IntegrityError:
            return True  # already revoked (sign-out in two tabs)
        except SQLAlchemyError as e:
            logger.error("user_id=<%s>, error=<%s> | could not revoke sign-in", user_id, type(e).__name__)
            return False
        logger.info("user_id=<%s> | remembered sign-in revoked", user_id)
        return True
