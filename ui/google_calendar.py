"""Connect, reconnect and disconnect Google Calendar: the Streamlit side of the consent round trip.

Connecting sends the whole tab to Google's consent page (same-tab navigation) and Google sends
it back to OAUTH_REDIRECT_URI (the app's root) with ``?code=…&state=…``. That is a new browser
session: nothing kept in ``st.session_state`` survives it, so the state is signed for the user
by :func:`assistant.context.google.new_state` instead, and :func:`handle_google_callback` must
run on every page load right after the sign-in gate (``streamlit_app.py``), whatever page the
root URL opens. Its state starts with ``cal.``; the sign-in's own callback (streamlit-oauth,
read from its popup) never does, so neither flow takes the other's ``code``.

The rule for offering the button is :func:`assistant.context.google.can_connect`: a Google
OAuth client is configured and the user signed in with it (not the local dev login).
"""

from __future__ import annotations

import json
import logging

import streamlit as st

from assistant.auth import Identity
from assistant.config import Settings
from assistant.context.calendar import CalendarService, CalendarStorageError
from assistant.context.google import (
    CANCELLED_MESSAGE,
    GoogleConnectError,
    GoogleGrant,
    authorization_url,
    can_connect,
    check_state,
    exchange_code,
    is_calendar_state,
    new_state,
    revoke,
)
from assistant.context.secrets import NO_KEY_MESSAGE, SecretUnavailableError
from assistant.inputs import log_safe
from assistant.views.format import fmt_ago
from assistant.views.markdown import plain_text
from assistant.views.materials import md_text
from ui.notices import Kind, draw_notices, notify

logger = logging.getLogger("assistant.pages.google_calendar")

NOTICE = "gcal_notice"  # ui.notices: shown on the next runs by render_google_connect
GO = "gcal_go"  # the consent URL to send this tab to on the next run
_OAUTH_PARAMS = ("code", "state", "scope", "error", "error_description", "error_subtype", "authuser", "hd", "prompt")


def handle_google_callback(settings: Settings, identity: Identity, service: CalendarService) -> bool:
    """Finish a Google Calendar connection when this page load is Google's redirect back.

    Call it on every run, right after the sign-in gate returned the identity and before the
    page runs. It acts only on a ``state`` of the calendar flow: it removes Google's query
    parameters (a reload does not replay the code), checks the state against this user,
    exchanges the code, stores the grant and leaves a notice for :func:`render_google_connect`.

    Args:
        settings: The app settings.
        identity: The signed-in identity.
        service: Stores the connection.

    Returns:
        True when this load was a calendar callback (connected or refused): the caller may
        then switch to the page that draws :func:`render_google_connect`.
    """
    state = st.query_params.get("state")
    if not is_calendar_state(state):
        return False
    assert isinstance(state, str)
    code = st.query_params.get("code")
    error = st.query_params.get("error")
    for name in _OAUTH_PARAMS:
        if name in st.query_params:
            del st.query_params[name]

    grant: GoogleGrant | None = None
    try:
        if error:
            logger.info(
                "user_id=<%s>, error=<%s> | google calendar consent not given", identity.user_id, log_safe(error)
            )
            raise GoogleConnectError(CANCELLED_MESSAGE)
        if not can_connect(settings, identity):
            raise GoogleConnectError("Google Calendar can only be connected when you sign in with Google.")
        check_state(settings, state, identity.user_id)
        if not code:
            raise GoogleConnectError(CANCELLED_MESSAGE)
        grant = exchange_code(settings, code, state, account=identity.email)
        connection = service.connect_google(identity.user_id, grant.refresh_token, grant.account or identity.email)
    except GoogleConnectError as e:
        logger.info("user_id=<%s> | google calendar not connected", identity.user_id)
        _notice("error", str(e))
        return True
    except (SecretUnavailableError, CalendarStorageError) as e:
        logger.warning(
            "user_id=<%s>, error=<%s> | google calendar grant not stored", identity.user_id, type(e).__name__
        )
        if grant is not None:
            revoke(settings, grant.refresh_token)  # nothing keeps it: do not leave a live grant behind
        _notice("error", NO_KEY_MESSAGE if isinstance(e, SecretUnavailableError) else str(e))
        return True
    _notice("success", f"Connected {md_text(connection.label)}. Your meetings now come from it.")
    st.toast("Google Calendar connected", icon=":material/event_available:")
    return True


def render_google_connect(settings: Settings, identity: Identity, service: CalendarService) -> None:
    """The Google Calendar controls: Connect, or the connection with Reconnect / Disconnect.

    Args:
        settings: The app settings.
        identity: The signed-in identity.
        service: The user's calendar connection.
    """
    _go_to_google()
    draw_notices(NOTICE)

    if not can_connect(settings, identity):
        st.caption("Google Calendar can be connected when you sign in with Google (not with the local dev login).")
        return
    try:
        connection = service.connection(identity.user_id)
    except CalendarStorageError as e:
        st.error(str(e), icon=":material/error:")
        return

    if connection is not None and connection.kind == "google":
        label = plain_text(connection.label)
        if connection.status == "reconnect":
            st.warning(
                f"{label}: access was revoked or expired. Reconnect it to see your meetings again.",
                icon=":material/link_off:",
            )
            _connect_button(settings, identity, "Reconnect Google Calendar", key="gcal-reconnect")
        else:
            st.markdown(f":material/event_available: **{label}** · connected {fmt_ago(connection.connected_at)}")
        st.button(
            "Disconnect Google Calendar",
            key="gcal-disconnect",
            icon=":material/link_off:",
            on_click=_disconnect,
            args=(identity, service),
        )
        return

    if not service.can_connect:
        st.info(NO_KEY_MESSAGE, icon=":material/lock:")
        return
    st.caption(
        "Read-only: the assistant sees your primary calendar's events (titles, times, attendees, descriptions) "
        "and never changes them."
        + (f" Connecting replaces {plain_text(connection.label)}." if connection is not None else "")
    )
    _connect_button(settings, identity, "Connect Google Calendar", key="gcal-connect")


# --- internals ---------------------------------------------------------------------------


def _notice(kind: Kind, text: str) -> None:
    notify(NOTICE, kind, text)


def _connect_button(settings: Settings, identity: Identity, label: str, *, key: str) -> None:
    st.button(
        label,
        key=key,
        type="primary",
        icon=":material/calendar_month:",
        on_click=_start_consent,
        args=(settings, identity),
    )


def _start_consent(settings: Settings, identity: Identity) -> None:
    """Button callback: a fresh signed state and the consent URL, opened on this run."""
    try:
        state = new_state(settings, identity.user_id)
        st.session_state[GO] = authorization_url(settings, state, identity.email or None)
    except GoogleConnectError as e:
        _notice("error", str(e))
        return
    logger.info("user_id=<%s> | google calendar consent started", identity.user_id)


def _go_to_google() -> None:
    """Send this tab to Google's consent page (same tab), with a link if scripts are blocked."""
    url = st.session_state.pop(GO, None)
    if not isinstance(url, str):
        return
    st.html(f"<script>window.location.assign({json.dumps(url)});</script>", unsafe_allow_javascript=True)
    st.info("Opening Google…", icon=":material/open_in_new:")
    st.link_button("Continue to Google", url, icon=":material/open_in_new:")


def _disconnect(identity: Identity, service: CalendarService) -> None:
    """Button callback: forget the connection, then revoke the grant at Google (best effort)."""
    try:
        _, told = service.disconnect_and_revoke(identity.user_id)
    except CalendarStorageError as e:
        _notice("error", str(e))
        return
    if not told:
        _notice(
            "success",
            "Google Calendar disconnected. Google could not be told right now; you can also remove the app's "
            "access at myaccount.google.com/permissions.",
        )
        return
    _notice("success", "Google Calendar disconnected. You see the demo calendar again.")
