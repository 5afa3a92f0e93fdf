"""Google Calendar, read-only: the consent step and the code exchange (events: :mod:`~assistant.context.google_events`).

Connecting is an incremental consent on top of the Google sign-in: the user clicks "Connect
Google Calendar", Google asks for ``calendar.readonly`` only (the sign-in scopes are kept
with ``include_granted_scopes``), and the browser comes back to the app's OAuth redirect URI
with ``?code=…&state=…``. The state is signed here (HMAC under a key derived from the OAuth
client secret) and names the user it was made for, so it still holds after the full-page
round trip to Google has dropped the browser session, and a code obtained by someone else
cannot be planted on another user. The PKCE verifier is derived from the state the same way,
so nothing has to be stored between the two steps.

The URL building and the code exchange go through google-auth-oauthlib's :class:`Flow`. The
refresh token is the only secret kept by the app (encrypted by :mod:`assistant.context.calendar`);
nothing here logs it or shows it in a ``repr``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.auth import Identity
from assistant.config import Settings
from assistant.inputs import clean_display_text, log_safe

# google-auth-oauthlib, oauthlib and requests (~30 ms) are imported by the functions that
# talk to Google, when a user connects or disconnects a calendar, not when the app starts.
if TYPE_CHECKING:
    from google_auth_oauthlib.flow import Flow

logger = logging.getLogger(__name__)

# requests-oauthlib writes the token request (the code, the client's Basic credentials) and the
# token response (the refresh token) at DEBUG: never let those through, whatever LOG_LEVEL says.
logging.getLogger("requests_oauthlib").setLevel(logging.INFO)
logging.getLogger("oauthlib").setLevel(logging.INFO)

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.readonly"
STATE_PREFIX = "cal."
STATE_MAX_AGE_S = 15 * 60
REQUEST_TIMEOUT_S = 15.0
PAGE_SIZE = 250
MAX_PAGES = 20

TITLE_MAX = 200
LOCATION_MAX = 200
DESCRIPTION_MAX = 4000
NAME_MAX = 120
EMAIL_MAX = 320
URL_MAX = 2000

RECONNECT_MESSAGE = "Google Calendar access was revoked or expired. Reconnect it on the My context page."
RATE_LIMITED_MESSAGE = "Google is limiting requests; try again in a minute."
UNREACHABLE_MESSAGE = "Google Calendar could not be reached. Try again in a minute."
UNAVAILABLE_MESSAGE = "Google Calendar is not answering right now. Try again in a minute."
API_DISABLED_MESSAGE = (
    "The Google Calendar API is not enabled for this app's Google project. Ask your administrator to enable it."
)
CLIENT_REFUSED_MESSAGE = "Google refused this app's OAuth client. Ask your administrator to check its settings."
BAD_ANSWER_MESSAGE = "Google Calendar sent an answer the app could not read. Try again later."

SCOPE_NOT_GRANTED_MESSAGE = (
    "Google Calendar was not connected: the permission to see your calendar was not granted. "
    "Click Connect Google Calendar again and tick the calendar box on Google's page."
)
NO_LASTING_ACCESS_MESSAGE = "Google did not give lasting access to your calendar. Click Connect Google Calendar again."
STATE_MESSAGE = "That Google Calendar connection link is not valid any more. Click Connect Google Calendar again."
CODE_MESSAGE = "Google did not accept the connection (the link was already used or is too old). Try again."
CANCELLED_MESSAGE = "Google Calendar was not connected: access was not granted on Google's page."

_RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"})
_API_DISABLED_REASONS = frozenset({"accessNotConfigured", "SERVICE_DISABLED"})
_STATE_KEY_LABEL = b"executive-assistant/google-calendar-state/v1"


class GoogleConnectError(Exception):
    """Connecting Google Calendar failed; the message is a plain sentence for the user."""


@dataclass(frozen=True)
class GoogleGrant:
    """What a successful code exchange gives.

    Attributes:
        refresh_token: The long-lived secret to store (encrypted); never log it.
        account: The Google account's email (from the id token), or the fallback given.
        scopes: The scopes Google says were granted (including earlier sign-in scopes).
    """

    refresh_token: str = field(repr=False)
    account: str
    scopes: tuple[str, ...]


# --- who may connect -------------------------------------------------------------------


def can_connect(settings: Settings, identity: Identity) -> bool:
    """Whether "Connect Google Calendar" is offered to this identity.

    The rule: a Google OAuth client is configured (client id, secret, redirect URI) and the
    identity came from that client's sign-in (not the local dev login). ENV=local never has a
    client (Settings refuse it), so local runs use the demo calendar or ICS; tests run the app
    with ENV=dev against the fake sign-in and the fake Calendar API, with no special case.

    Args:
        settings: The app settings.
        identity: The signed-in identity.
    """
    return (
        not identity.is_dev
        and bool(settings.google_client_id)
        and settings.google_client_secret is not None
        and bool(settings.oauth_redirect_uri)
    )


# --- the signed state -----------------------------------------------------------------


def _state_key(settings: Settings) -> bytes:
    secret = settings.session_cookie_secret or settings.google_client_secret
    if secret is None:
        raise GoogleConnectError("Google Calendar cannot be connected: this server has no Google OAuth client.")
    return hmac.new(secret.get_secret_value().encode("utf-8"), _STATE_KEY_LABEL, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _state_mac(key: bytes, user_id: str, issued: str, nonce: str) -> str:
    message = f"{user_id}|{issued}|{nonce}".encode("utf-8", "surrogatepass")
    return _b64(hmac.new(key, message, hashlib.sha256).digest()[:18])


def new_state(settings: Settings, user_id: str, *, now: float | None = None) -> str:
    """A fresh ``state`` for the consent URL, signed for this user.

    Args:
        settings: Supplies the signing key (derived from the OAuth client secret).
        user_id: The signed-in user's id; the callback must come back to the same user.
        now: Epoch seconds (tests).

    Returns:
        ``cal.<issued>.<nonce>.<mac>``: URL-safe, prefixed so it is never taken for a sign-in state.
    """
    issued = str(int(time.time() if now is None else now))
    nonce = secrets.token_urlsafe(18)
    return f"{STATE_PREFIX}{issued}.{nonce}.{_state_mac(_state_key(settings), user_id, issued, nonce)}"


def is_calendar_state(state: object) -> bool:
    """Whether a ``state`` query parameter belongs to the calendar flow (not to the sign-in)."""
    return isinstance(state, str) and state.startswith(STATE_PREFIX)


def check_state(settings: Settings, state: str, user_id: str, *, now: float | None = None) -> None:
    """Accept a returned ``state`` only if it was signed here for this user, recently.

    Args:
        settings: Supplies the signing key.
        state: The ``state`` query parameter Google sent back.
        user_id: The user now signed in.
        now: Epoch seconds (tests).

    Raises:
        GoogleConnectError: Forged, altered, for another user, or older than 15 minutes.
    """
    parts = state[len(STATE_PREFIX) :].split(".") if is_calendar_state(state) else []
    if len(parts) != 3 or not parts[0].isdigit():
        raise GoogleConnectError(STATE_MESSAGE)
    issued, nonce, mac = parts
    expected = _state_mac(_state_key(settings), user_id, issued, nonce)
    if not hmac.compare_digest(mac.encode("ascii", "replace"), expected.encode("ascii")):
        raise GoogleConnectError(STATE_MESSAGE)
    age = (time.time() if now is None else now) - int(issued)
    if not -60 <= age <= STATE_MAX_AGE_S:
        raise GoogleConnectError(STATE_MESSAGE)


def _code_verifier(settings: Settings, state: str) -> str:
    """The PKCE verifier for this state: recomputed at the exchange, never stored (43 chars)."""
    return _b64(hmac.new(_state_key(settings), b"pkce|" + state.encode("utf-8"), hashlib.sha256).digest())


# --- consent and code exchange -----------------------------------------------------------


def _flow(settings: Settings, state: str) -> Flow:
    from google_auth_oauthlib.flow import Flow

    secret = settings.google_client_secret
    if not settings.google_client_id or secret is None or not settings.oauth_redirect_uri:
        raise GoogleConnectError("Google Calendar cannot be connected: this server has no Google OAuth client.")
    client_config = {
        "web": {
            "client_id": settings.google_client_id,
            "client_secret": secret.get_secret_value(),
            "auth_uri": settings.google_auth_url,
            "token_uri": settings.google_token_url,
            "redirect_uris": [settings.oauth_redirect_uri],
        }
    }
    return Flow.from_client_config(
        client_config,
        scopes=[CALENDAR_SCOPE],
        redirect_uri=settings.oauth_redirect_uri,
        state=state,
        code_verifier=_code_verifier(settings, state),
        autogenerate_code_verifier=False,
    )


def authorization_url(settings: Settings, state: str, login_hint: str | None) -> str:
    """Google's consent page asking for read-only calendar access, on top of the sign-in.

    Args:
        settings: OAuth client, redirect URI and GOOGLE_AUTH_URL.
        state: From :func:`new_state`.
        login_hint: The signed-in email, so Google preselects that account.

    Returns:
        The URL to send the browser to (same tab).
    """
    extra: dict[str, str] = {
        "access_type": "offline",
        "include_granted_scopes": "true",
        "prompt": "consent",
    }
    if login_hint:
        extra["login_hint"] = login_hint
    url, _ = _flow(settings, state).authorization_url(state=state, **extra)
    return str(url)


def exchange_code(settings: Settings, code: str, state: str, *, account: str | None = None) -> GoogleGrant:
    """Trade the code Google sent back for a refresh token with calendar access.

    Check the state first (:func:`check_state`); this function derives the PKCE verifier
    from it.

    Args:
        settings: OAuth client, redirect URI and GOOGLE_TOKEN_URL.
        code: The ``code`` query parameter.
        state: The ``state`` query parameter (already checked).
        account: The email to label the connection with when Google sends no id token.

    Returns:
        The grant.

    Raises:
        GoogleConnectError: The code was refused, the calendar permission was not granted,
            no refresh token came back, or Google could not be reached.
    """
    import requests
    from oauthlib.oauth2 import OAuth2Error

    flow = _flow(settings, state)
    try:
        token: dict[str, Any] = dict(flow.fetch_token(code=code, timeout=REQUEST_TIMEOUT_S))
    except Warning as w:
        # oauthlib refuses a scope other than the one asked for; with include_granted_scopes
        # Google always adds the sign-in scopes, so the granted set is checked below instead.
        scoped = getattr(w, "token", None)
        if not isinstance(scoped, dict):
            raise GoogleConnectError(CODE_MESSAGE) from w
        token = dict(scoped)
    except OAuth2Error as e:
        logger.warning("error=<%s> | google calendar code exchange refused", log_safe(e.error))
        raise GoogleConnectError(CODE_MESSAGE) from e
    except requests.RequestException as e:
        logger.warning("error=<%s> | google calendar code exchange failed", type(e).__name__)
        raise GoogleConnectError(UNREACHABLE_MESSAGE) from e

    scope = token.get("scope")
    granted = tuple(scope.split()) if isinstance(scope, str) else tuple(str(s) for s in scope or ())
    if CALENDAR_SCOPE not in granted:
        logger.info("scopes=<%d> | google calendar scope not granted", len(granted))
        raise GoogleConnectError(SCOPE_NOT_GRANTED_MESSAGE)
    refresh_token = token.get("refresh_token")
    if not isinstance(refresh_token, str) or not refresh_token:
        logger.warning("google calendar code exchange returned no refresh token")
        raise GoogleConnectError(NO_LASTING_ACCESS_MESSAGE)
    email = _id_token_email(token.get("id_token"), settings.google_client_id)
    return GoogleGrant(refresh_token=refresh_token, account=email or (account or ""), scopes=granted)


def _id_token_email(id_token: object, client_id: str | None) -> str | None:
    """The email of the id token the token endpoint returned (only a label; not verified).

    It came straight from Google's token endpoint over TLS in exchange for our client secret
    (OpenID Connect Core 3.1.3.7); it labels the connection and decides nothing.
    """
    if not isinstance(id_token, str):
        return None
    from google.auth import jwt as google_jwt

    try:
        claims = google_jwt.decode(id_token, verify=False)  # type: ignore[no-untyped-call]
    except ValueError:
        return None
    if claims.get("aud") != client_id:
        return None
    email = claims.get("email")
    return clean_display_text(email, EMAIL_MAX).lower() if isinstance(email, str) else None


def revoke(settings: Settings, refresh_token: str) -> bool:
    """Ask Google to revoke a grant (best effort; used on disconnect).

    Args:
        settings: GOOGLE_REVOKE_URL.
        refresh_token: The grant's refresh token.

    Returns:
        True when Google confirmed (or the token was already invalid), False otherwise.
    """
    import requests

    try:
        response = requests.post(
            settings.google_revoke_url,
            data={"token": refresh_token},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=REQUEST_TIMEOUT_S,
        )
    except requests.RequestException as e:
        logger.warning("error=<%s> | google calendar revoke failed", type(e).__name__)
        return False
    if response.status_code == 200:
        logger.info("google calendar grant revoked")
        return True
    if response.status_code == 400:  # invalid_token: revoked or expired already
        logger.info("status=<%d> | google calendar grant already invalid", response.status_code)
        return True
    logger.warning("status=<%d> | google calendar revoke refused", response.status_code)
    return False


__all__ = [
    "CALENDAR_SCOPE",
    "RECONNECT_MESSAGE",
    "GoogleConnectError",
    "GoogleGrant",
    "authorization_url",
    "can_connect",
    "check_state",
    "exchange_code",
    "is_calendar_state",
    "new_state",
    "revoke",
]
