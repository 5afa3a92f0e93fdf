"""The sign-in gate: the only Streamlit code of the identity feature.

``streamlit_app.py`` calls :func:`require_identity` before building the navigation and
:func:`render_identity_sidebar` after it. In ENV=local the gate returns the dev login
(TEST_USER_ID) and shows a banner; in dev/prod it shows a Google sign-in card until an
id token returned by Google's token endpoint has been verified and admitted by the
access policy. The identity is kept only in server-side session state and comes from
nothing the browser controls except that verified token: never from URL parameters.

A verified Google sign-in is also remembered in a signed, revocable cookie (see
``assistant.auth.remember``), so a reload, a new tab or a resumed session URL does not ask
for Google again until IDENTITY_MAX_AGE_HOURS after the sign-in. The access policy is
applied again whenever the cookie is read; Sign out revokes the cookie everywhere.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

import streamlit as st

from assistant.auth import (
    NOT_ALLOWED_MESSAGE,
    AuthError,
    Identity,
    check_access,
    dev_identity,
    get_provider_metadata,
    identity_expired,
    verify_id_token,
)
from assistant.auth.remember import COOKIE_NAME, RememberedIdentity
from assistant.config import Settings
from assistant.factory import get_sign_in_memory
from assistant.inputs import clean_display_text, log_safe

logger = logging.getLogger("assistant.auth.gate")

_IDENTITY_KEY = "_auth_identity"
_ATTEMPT_KEY = "_auth_attempt"
_NONCE_KEY = "_auth_nonce"
_NOTICE_KEY = "_auth_notice"
_ERROR_KEY = "_auth_error"
_REMEMBERED_KEY = "_auth_remembered"  # RememberedIdentity of the cookie in use (for sign-out)
_COOKIE_OP_KEY = "_auth_cookie_op"  # a cookie to write ("set", value, max_age) or clear ("clear",)
_NO_RESTORE_KEY = "_auth_no_restore"  # signed out in this browser session: ignore the old cookie
_COMPONENT_KEY = "google_signin"
_ORIGIN_LOGGED_KEY = "_auth_origin_logged"  # the page's address was logged as away from OAUTH_REDIRECT_URI

_RETRY_MESSAGE = "We couldn't complete the sign-in with Google. Please try again."
_CANCELLED_MESSAGE = "The sign-in was cancelled or took too long. Please try again."
_EXPIRED_MESSAGE = "Your sign-in has expired. Please sign in again."
_SIGNED_OUT_ELSEWHERE_MESSAGE = "You signed out in another tab or window. Please sign in again."
_UNAVAILABLE_MESSAGE = "Google sign-in is unavailable right now. Please try again in a minute."
_NOT_CONFIGURED_MESSAGE = "Sign-in is not configured for this deployment. Please contact your administrator."

_GOOGLE_ICON = (
    "data:image/svg+xml;charset=utf-8,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 48 48'%3E"
    "%3Cpath fill='%234285F4' d='M45 24.5c0-1.6-.1-3.1-.4-4.5H24v8.5h11.8c-.5 2.7-2 5-4.4 6.6v5.5h7.1"
    "c4.2-3.9 6.5-9.5 6.5-16.1z'/%3E%3Cpath fill='%2334A853' d='M24 46c5.9 0 10.9-2 14.5-5.4l-7.1-5.5"
    "c-2 1.3-4.5 2.1-7.4 2.1-5.7 0-10.6-3.9-12.3-9.1H4.4v5.7C8 41 15.4 46 24 46z'/%3E%3Cpath "
    "fill='%23FBBC05' d='M11.7 28.1c-.4-1.3-.7-2.7-.7-4.1s.3-2.8.7-4.1v-5.7H4.4C2.9 17.2 2 20.5 2 24"
    "s.9 6.8 2.4 9.8l7.3-5.7z'/%3E%3Cpath fill='%23EA4335' d='M24 10.8c3.2 0 6.1 1.1 8.4 3.3l6.3-6.3"
    "C34.9 4.2 29.9 2 24 2 15.4 2 8 7 4.4 14.2l7.3 5.7c1.7-5.2 6.6-9.1 12.3-9.1z'/%3E%3C/svg%3E"
)


def require_identity(settings: Settings, pages: list[Any] | None = None) -> Identity:
    """Return the signed-in identity, or render the sign-in card and stop the script.

    Args:
        settings: The app settings.
        pages: The app's pages; registered with a hidden menu under the sign-in card, so no
            navigation is shown before sign-in or left over after sign-out, and the URL
            (``/sessions?session=...``) is kept for after the sign-in.

    Returns:
        The identity: the dev login in ENV=local, otherwise a verified Google identity
        admitted by the access policy and younger than IDENTITY_MAX_AGE_HOURS.
    """
    if settings.is_local:
        return _dev_login(settings)

    if not settings.google_client_id or settings.google_client_secret is None or not settings.oauth_redirect_uri:
        # Settings already refuse to load like this outside local; never fall back to the dev login.
        logger.error("env=<%s> | oauth client not configured, refusing to serve", settings.env)
        st.error(_NOT_CONFIGURED_MESSAGE)
        st.stop()

    identity = st.session_state.get(_IDENTITY_KEY)
    if isinstance(identity, Identity) and not identity.is_dev:
        if identity_expired(identity, max_age_hours=settings.identity_max_age_hours):
            logger.info("user_id=<%s> | identity older than max age, signing in again", identity.user_id)
            _end_sign_in(_EXPIRED_MESSAGE)
        elif _signed_out_elsewhere(settings, identity):
            _end_sign_in(_SIGNED_OUT_ELSEWHERE_MESSAGE)
        else:
            _write_cookie(settings)
            return identity
    elif identity is not None:
        _clear_session()

    restored = _restore_from_cookie(settings)
    if restored is not None:
        return restored

    _write_cookie(settings)
    if pages:
        st.navigation(pages, position="hidden")
    _render_sign_in(settings)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises  # pragma: no cover


def still_signed_in(settings: Settings) -> bool:
    """Whether this browser session's sign-in still holds: not expired, not ended elsewhere.

    A rerun of a fragment (the chat page's conversation) runs none of :func:`require_identity`;
    it asks this first and reruns the whole app when the answer is no, so a sign-out in another
    tab or an expired identity ends the sign-in there too, before anything is sent.

    Args:
        settings: The app settings.
    """
    if settings.is_local:
        return True
    identity = st.session_state.get(_IDENTITY_KEY)
    if not isinstance(identity, Identity) or identity.is_dev:
        return False
    if identity_expired(identity, max_age_hours=settings.identity_max_age_hours):
        return False
    return not _signed_out_elsewhere(settings, identity)


def render_identity_sidebar(identity: Identity, settings: Settings) -> None:
    """Show who is signed in and, for Google identities, a sign-out button.

    Args:
        identity: The identity returned by :func:`require_identity`.
        settings: The app settings (sign-out revokes the remembered sign-in).
    """
    with st.sidebar:
        role = " · admin" if identity.is_admin else ""
        st.caption(f"Signed in as **{_md(identity.name)}**{role}  \n{_md(identity.email)}")
        if identity.is_dev:
            st.caption("Local dev login (ENV=local)")
        elif st.button("Sign out", key="_auth_sign_out", width="stretch"):
            sign_out(settings)


def sign_out(settings: Settings) -> None:
    """Forget the identity and everything else held for this browser session, revoke the
    remembered sign-in (on every replica and tab), clear its cookie, then rerun."""
    identity = st.session_state.get(_IDENTITY_KEY)
    remembered = st.session_state.get(_REMEMBERED_KEY)
    if isinstance(identity, Identity):
        logger.info("user_id=<%s> | signed out", identity.user_id)
        if isinstance(remembered, RememberedIdentity):
            memory = get_sign_in_memory(settings)
            if memory is not None:
                memory.revoke(remembered.token_id, remembered.expires_at, user_id=identity.user_id)
    _end_sign_in(None)
    st.rerun()


# --- internals ---------------------------------------------------------------------


def _dev_login(settings: Settings) -> Identity:
    identity = st.session_state.get(_IDENTITY_KEY)
    if not (isinstance(identity, Identity) and identity.is_dev and identity.user_id == settings.test_user_id):
        identity = dev_identity(settings)  # raises AuthError outside ENV=local
        st.session_state[_IDENTITY_KEY] = identity
        logger.info("user_id=<%s>, role=<%s> | local dev login", identity.user_id, identity.role)
    st.info(
        f"Local dev login: you are **{_md(identity.name)}** ({_md(identity.user_id)}). "
        "Deployed environments (ENV=dev or prod) require Google sign-in.",
        icon=":material/science:",
    )
    return identity


def _restore_from_cookie(settings: Settings) -> Identity | None:
    """The identity remembered in this browser's sign-in cookie, re-admitted by the policy."""
    if st.session_state.get(_NO_RESTORE_KEY):
        return None
    value = st.context.cookies.get(COOKIE_NAME)
    if not value:
        return None
    memory = get_sign_in_memory(settings)
    if memory is None:
        return None
    try:
        remembered = memory.read(value)
        identity = check_access(remembered.identity, settings)
    except AuthError as e:
        logger.info("reason=<%s> | remembered sign-in not accepted", e.reason)
        st.session_state[_NO_RESTORE_KEY] = True
        st.session_state[_COOKIE_OP_KEY] = ("clear",)
        if e.reason == "not_allowed":
            st.session_state[_ERROR_KEY] = NOT_ALLOWED_MESSAGE
        elif e.reason == "expired":
            st.session_state[_NOTICE_KEY] = _EXPIRED_MESSAGE
        return None
    st.session_state[_IDENTITY_KEY] = identity
    st.session_state[_REMEMBERED_KEY] = remembered
    logger.info("user_id=<%s>, role=<%s> | remembered sign-in restored", identity.user_id, identity.role)
    return identity


def _end_sign_in(notice: str | None) -> None:
    """Drop this browser session's identity and its cookie (the cookie the browser sent with
    this session is not read again), and say why on the sign-in card."""
    _clear_session()
    if notice:
        st.session_state[_NOTICE_KEY] = notice
    st.session_state[_COOKIE_OP_KEY] = ("clear",)
    st.session_state[_NO_RESTORE_KEY] = True


def _signed_out_elsewhere(settings: Settings, identity: Identity) -> bool:
    """Whether this sign-in was ended by Sign out in another tab or browser (one key lookup)."""
    remembered = st.session_state.get(_REMEMBERED_KEY)
    if not isinstance(remembered, RememberedIdentity):
        return False
    memory = get_sign_in_memory(settings)
    if memory is None:
        return False
    try:
        revoked = memory.is_revoked(remembered.token_id)
    except AuthError:
        return False  # storage trouble is reported by the pages; do not sign everyone out for it
    if revoked:
        logger.info("user_id=<%s> | sign-in ended elsewhere", identity.user_id)
    return revoked


def _write_cookie(settings: Settings) -> None:
    """Send a pending cookie write or removal to the browser (once)."""
    op = st.session_state.pop(_COOKIE_OP_KEY, None)
    if not op:
        return
    secure = "; Secure" if (settings.oauth_redirect_uri or "").startswith("https://") else ""
    if op[0] == "set":
        cookie = f"{COOKIE_NAME}={op[1]}; Path=/; Max-Age={int(op[2])}; SameSite=Lax{secure}"
    else:
        cookie = f"{COOKIE_NAME}=; Path=/; Max-Age=0; SameSite=Lax{secure}"
    st.html(f"<script>document.cookie = {json.dumps(cookie)};</script>", unsafe_allow_javascript=True)


def _clear_session() -> None:
    # Sign-out, expiry and a stray identity all start from a clean slate, so nothing held
    # for one person (chat history, selections) is ever shown to the next one in this browser.
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def _md(text: str) -> str:
    """A display name or email from the provider (or TEST_USER_*) as plain text inside Markdown.

    One line without control characters (:func:`assistant.inputs.clean_display_text`), Markdown
    punctuation escaped, and a colon before a letter followed by a zero-width space, so neither
    ``:material/icon:`` / ``:emoji:`` shortcodes nor ``:red[...]`` colours are rendered.
    """
    escaped = re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", clean_display_text(text))
    return re.sub(r":(?=[A-Za-z])", ":\u200b", escaped)


def _render_sign_in(settings: Settings) -> None:
    # Imported here, by the run that draws the button: its component registers with the server
    # when it is declared during a script run, and the dev login never needs it (~0.1 s at start).
    from streamlit_oauth import OAuth2Component, StreamlitOauthError

    attempt = int(st.session_state.setdefault(_ATTEMPT_KEY, 0))
    key = f"{_COMPONENT_KEY}_{attempt}"
    nonce = str(st.session_state.setdefault(_NONCE_KEY, secrets.token_urlsafe(24)))
    # streamlit-oauth keeps the expected state in session_state and only compares it when the
    # redirect carries one; read it first so a missing state is refused too.
    expected_state = st.session_state.get(f"state-{key}")

    _, middle, _ = st.columns([1, 2, 1])
    with middle, st.container(border=True):
        st.subheader("Executive Assistant")
        st.write("Sign in with your Google work account to continue.")
        notice = st.session_state.pop(_NOTICE_KEY, None)
        if notice:
            st.info(str(notice))
        error = st.session_state.pop(_ERROR_KEY, None)
        if error:
            st.error(str(error))

        if _away_from_redirect_uri(settings):
            return
        try:
            metadata = get_provider_metadata(settings.oauth_issuer)
        except AuthError:
            st.error(_UNAVAILABLE_MESSAGE)
            return

        secret = settings.google_client_secret
        component = OAuth2Component(
            client_id=settings.google_client_id,
            client_secret=secret.get_secret_value() if secret is not None else None,
            authorize_endpoint=metadata.authorization_endpoint,
            token_endpoint=metadata.token_endpoint,
        )
        try:
            result = component.authorize_button(
                "Continue with Google",
                redirect_uri=settings.oauth_redirect_uri,
                scope=settings.oauth_scopes,
                key=key,
                pkce="S256",
                extras_params={"nonce": nonce, "prompt": "select_account"},
                icon=_GOOGLE_ICON,
                width="stretch",
            )
        except StreamlitOauthError:
            logger.warning("attempt=<%d> | sign-in cancelled, denied or state mismatch", attempt)
            _fail(_CANCELLED_MESSAGE)
        except Exception as e:  # token endpoint errors (httpx / httpx_oauth); details to the log only
            logger.warning("attempt=<%d>, %s | code exchange failed", attempt, token_error_fields(e))
            _fail(_RETRY_MESSAGE)
        if not result:
            return
        _complete_sign_in(settings, result, expected_state, nonce, metadata.jwks_uri, attempt)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(scheme)


def _away_from_redirect_uri(settings: Settings) -> bool:
    """Say where to sign in when this page is not on OAUTH_REDIRECT_URI's origin (scheme, host, port).

    Google sends the sign-in back to OAUTH_REDIRECT_URI and the page watches its popup, which it can
    only read on its own origin: opened elsewhere (a replica's own address, http instead of https),
    the popup would stay open on that address and the sign-in never end.
    """
    here, there = st.context.url, str(settings.oauth_redirect_uri)
    try:
        if not here or _origin(here) == _origin(there):
            return False
    except ValueError:  # a port the browser would not send: nothing to compare
        return False
    if not st.session_state.get(_ORIGIN_LOGGED_KEY):
        st.session_state[_ORIGIN_LOGGED_KEY] = True
        logger.warning("page=<%s>, redirect_uri=<%s> | sign-in opened away from OAUTH_REDIRECT_URI", here, there)
    st.warning(
        f"Sign in at `{there}`: Google returns the sign-in there (OAUTH_REDIRECT_URI), not to this address.",
        icon=":material/link:",
    )
    st.link_button("Open the sign-in page", there, type="primary", width="stretch")
    return True


# The token endpoint's OAuth error codes a deployment's settings cause, and the settings to check.
_TOKEN_ERROR_SETTINGS = {
    "invalid_client": "GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET",
    "unauthorized_client": "GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET",
    "redirect_uri_mismatch": "OAUTH_REDIRECT_URI",
}


def token_error_fields(error: Exception) -> str:
    """Log fields for a failed code exchange: the HTTP status and the provider's OAuth ``error`` code
    (never its body, never a token), and the settings that cause that code; else the error's type."""
    response = getattr(error, "response", None)  # httpx_oauth's errors carry the token endpoint's answer
    status = getattr(response, "status_code", None)
    if response is None or not isinstance(status, int):
        return f"error=<{type(error).__name__}>"
    try:
        body = response.json()
        code = body.get("error") if isinstance(body, dict) else None
    except ValueError:
        code = None
    fields = f"status=<{status}>, oauth_error=<{log_safe(code, 40) if code else 'none'}>"
    check = _TOKEN_ERROR_SETTINGS.get(str(code))
    return f"{fields}, check=<{check}>" if check else fields


def _complete_sign_in(
    settings: Settings,
    result: dict[str, Any],
    expected_state: object,
    nonce: str,
    jwks_uri: str,
    attempt: int,
) -> None:
    state = result.get("state")
    if (
        not isinstance(expected_state, str)
        or not isinstance(state, str)
        or not secrets.compare_digest(state, expected_state)
    ):
        logger.warning("attempt=<%d> | sign-in refused: missing or mismatched state", attempt)
        _fail(_CANCELLED_MESSAGE)
    token = result.get("token")
    id_token = token.get("id_token") if isinstance(token, dict) else None
    if not isinstance(id_token, str):
        logger.warning("attempt=<%d> | token response without id_token", attempt)
        _fail(_RETRY_MESSAGE)
    assert isinstance(id_token, str)
    try:
        verified = verify_id_token(
            id_token,
            client_id=str(settings.google_client_id),
            issuer=settings.oauth_issuer,
            jwks_uri=jwks_uri,
            nonce=nonce,
        )
        identity = check_access(verified, settings)
    except AuthError as e:
        _fail(NOT_ALLOWED_MESSAGE if e.reason == "not_allowed" else _RETRY_MESSAGE)
        return
    # A fresh session state for the new person; the tokens themselves are not kept.
    _clear_session()
    st.session_state[_IDENTITY_KEY] = identity
    st.session_state[_ATTEMPT_KEY] = attempt + 1
    memory = get_sign_in_memory(settings)
    issued = memory.issue(identity) if memory is not None else None
    if issued is not None:
        st.session_state[_COOKIE_OP_KEY] = ("set", issued.value, issued.max_age_s)
        st.session_state[_REMEMBERED_KEY] = RememberedIdentity(
            identity=identity, token_id=issued.token_id, expires_at=issued.expires_at
        )
    logger.info("user_id=<%s>, role=<%s> | signed in", identity.user_id, identity.role)
    st.rerun()


def _fail(message: str) -> None:
    """Show a polite refusal on a fresh sign-in button (new component key, new state/nonce)."""
    st.session_state[_ATTEMPT_KEY] = int(st.session_state.get(_ATTEMPT_KEY, 0)) + 1
    st.session_state.pop(_NONCE_KEY, None)
    st.session_state[_ERROR_KEY] = message
    st.rerun()


def current_identity() -> Identity:
    """The identity established by :func:`require_identity` in this browser session.

    Pages call this instead of reading session state directly, so a page that is somehow
    run without the entry script (e.g. Streamlit's legacy ``pages/`` directory mode)
    stops instead of running unauthenticated.

    Returns:
        The signed-in identity.
    """
    identity = st.session_state.get(_IDENTITY_KEY)
    if not isinstance(identity, Identity):
        logger.warning("identity=<none> | page run without a signed-in identity")
        st.error("Please sign in first.")
        st.link_button("Go to sign-in", "/")
        st.stop()
    assert isinstance(identity, Identity)
    return identity
