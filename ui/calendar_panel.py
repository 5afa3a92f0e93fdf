"""The calendar section of the My context page: where your meetings come from, and changing it.

Shows the source (demo, an uploaded .ics, a secret iCal address, Google Calendar) with
"updated N min ago · Refresh", a warning naming the source when it failed (the last good
copy keeps being used), your next meetings with their types (a type you change sticks;
for a recurring meeting it applies to the whole series), and the ways to connect or
disconnect. Every rule lives in :mod:`assistant.context`; this module only draws and calls.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from assistant.auth import Identity
from assistant.config import Settings
from assistant.context.agenda_data import meeting_types, typed_meetings
from assistant.context.calendar import CalendarService, CalendarStorageError, CalendarView, Connection
from assistant.context.classify import attending_others
from assistant.context.meeting_zone import zone_label
from assistant.context.sources import CalendarInputError
from assistant.context.type_overrides import set_override
from assistant.dates import short_day
from assistant.factory import get_calendar_service
from assistant.views.format import fmt_ago, nothing_ahead
from assistant.views.markdown import plain_text
from assistant.views.materials import md_text
from ui.components import browser_zone
from ui.google_calendar import render_google_connect
from ui.notices import Kind, clear_notices, draw_notices, notify

logger = logging.getLogger("assistant.pages.context.calendar")

NOTICE = "cal_panel_notice"  # ui.notices: shown on the next runs, above the panel
CONNECT_ERROR = "cal_connect_error"  # a refused file or address, shown next to where it was given
TAB = "cal_tab"  # the connect tab the user last used (kept across the rerun a callback causes)
TABS = ("Upload an .ics file", "Secret iCal address", "Google Calendar")
UPLOAD_NONCE = "cal_upload_nonce"  # bumps the uploader's key so a stored file leaves it
PANEL_DAYS = 14
_SOURCE_ICON = {
    "demo": ":material/science:",
    "ics_file": ":material/upload_file:",
    "ics_url": ":material/link:",
    "google": ":material/event_available:",
}


def upload_limit_mb(settings: Settings) -> int:
    """The calendar uploader's limit in MB: ICS_MAX_BYTES, never above the server's ``server.maxUploadSize``."""
    return max(1, min(int(st.get_option("server.maxUploadSize")), math.ceil(settings.ics_max_bytes / 1_000_000)))


def _notice(kind: Kind, text: str) -> None:
    notify(NOTICE, kind, text)


def _upload(service: CalendarService, user_id: str, key: str) -> None:
    uploaded = st.session_state.get(key)
    if uploaded is None:
        return
    st.session_state[TAB] = TABS[0]
    try:
        connection = service.connect_ics_file(user_id, uploaded.getvalue(), uploaded.name)
    except (CalendarInputError, CalendarStorageError) as e:
        st.session_state[CONNECT_ERROR] = f"**{plain_text(uploaded.name)} was not used.** {e}"
        return
    st.session_state[UPLOAD_NONCE] = st.session_state.get(UPLOAD_NONCE, 0) + 1
    _connected(service.settings, connection, f"Your meetings now come from {md_text(connection.label)}.")


def _connect_url(service: CalendarService, user_id: str) -> None:
    url = str(st.session_state.get("cal-ics-url") or "")
    st.session_state[TAB] = TABS[1]
    try:
        connection = service.connect_ics_url(user_id, url)
    except (CalendarInputError, CalendarStorageError) as e:
        st.session_state[CONNECT_ERROR] = f"**That address was not used.** {e}"
        return
    st.session_state["cal-ics-url"] = ""
    _connected(service.settings, connection, f"Your meetings now come from the {md_text(connection.label)}.")


def _connected(settings: Settings, connection: Connection, said: str) -> None:
    """Say the calendar is connected; one with nothing ahead says so. An export of past months was
    accepted with a plain "now come from", then showed "No meetings in the next 14 days" and an
    empty Prep queue, with nothing to say the file covered the wrong period. It replaces what the
    panel said of an earlier source: held a few seconds each, "now come from" three files read
    at once after three quick uploads."""
    clear_notices(NOTICE)
    if connection.meetings_ahead != 0:
        _notice("success", said)
        return
    _notice("warning", f"{said} It has {nothing_ahead(settings.calendar_days_ahead, address=True)}")


def _disconnect(service: CalendarService, user_id: str) -> None:
    try:
        service.disconnect(user_id)
    except CalendarStorageError as e:
        _notice("error", str(e))
        return
    _notice("success", "Calendar disconnected. You are seeing the demo meetings again.")


def _save_types(settings: Settings, service: CalendarService, user_id: str, rows: list[dict[str, Any]]) -> None:
    edited = st.session_state.get("cal-types", {}).get("edited_rows", {})
    types = meeting_types(settings)
    by_label = {types.label(t): t for t in types.types}
    for index, change in edited.items():
        label = change.get("Type")
        if label is None or not 0 <= int(index) < len(rows):
            continue
        row = rows[int(index)]
        try:
            set_override(
                service.engine, user_id, row["key"], by_label.get(label, label), datetime.now(UTC), types=types
            )
        except ValueError as e:
            _notice("error", str(e))
            return
    if edited:
        _notice("success", "Meeting type saved. The Prep queue and the agent use it from now on.")


def _source_header(view: CalendarView, service: CalendarService, user_id: str) -> None:
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key="cal-source"):
        st.markdown(f"{_SOURCE_ICON.get(view.kind, '')} **{md_text(view.label)}**")
        if view.is_demo:
            st.badge("Demo data", icon=":material/science:", color="orange")
        else:
            st.caption(f"updated {fmt_ago(view.fetched_at)}" if view.fetched_at else "not read yet")
            st.button("Refresh", key="cal-refresh", icon=":material/refresh:", type="tertiary")
    if view.warning:
        st.warning(md_text(view.warning), icon=":material/sync_problem:")


def _times_in() -> str:
    """Which clock the table's times are on: a traveller's browser moves between zones."""
    return f" Times are in your browser's time zone, {zone_label(datetime.now(browser_zone()))}."


def _meetings_table(settings: Settings, service: CalendarService, identity: Identity, view: CalendarView) -> None:
    zone = browser_zone()
    typed = typed_meetings(
        view.meetings, settings, engine=service.engine, user_id=identity.user_id, user_email=identity.email
    )
    if not typed:
        st.caption(f"No meetings in the next {PANEL_DAYS} days.")
        return
    types = meeting_types(settings)
    rows = [
        {
            "key": meeting.series_id or meeting.id,
            "When": (
                f"{short_day(meeting.start.astimezone(zone))} · all day"
                if meeting.all_day
                else f"{short_day(meeting.start.astimezone(zone))} {meeting.start.astimezone(zone):%H:%M}"
            ),
            "Meeting": meeting.title + (" ↻" if meeting.series_id else ""),
            "People": 1 + len(attending_others(meeting, identity.email)),  # you, as the Prep queue's cost counts
            "Type": label,
        }
        for meeting, _type_id, label in typed
    ]
    st.data_editor(
        [{k: v for k, v in row.items() if k != "key"} for row in rows],
        key="cal-types",
        hide_index=True,
        width="stretch",
        disabled=["When", "Meeting", "People"],
        column_config={
            "Type": st.column_config.SelectboxColumn(
                "Type", options=[types.label(t) for t in types.types], required=True, width="medium"
            ),
            "Meeting": st.column_config.TextColumn("Meeting", width="large"),
        },
        on_change=_save_types,
        args=(settings, service, identity.user_id, rows),
    )
    st.caption("Change a meeting's type and it sticks; for a recurring meeting (↻) it applies to every occurrence.")


def render_calendar_panel(settings: Settings, identity: Identity) -> None:
    """Draw the calendar section for the signed-in user.

    Args:
        settings: The app settings.
        identity: The signed-in identity.
    """
    service = get_calendar_service(settings)
    user_id = identity.user_id
    st.header("Calendar", icon=":material/calendar_month:", anchor=False)
    draw_notices(NOTICE)
    refresh = bool(st.session_state.get("cal-refresh"))
    try:
        view = service.view(user_id, days_ahead=PANEL_DAYS, tz=browser_zone(), refresh=refresh)
        connection = service.connection(user_id)
    except CalendarStorageError as e:
        st.error(str(e), icon=":material/error:")
        return
    google = connection is not None and connection.kind == "google"
    with st.container(border=True, key="cal-panel"):
        _source_header(view, service, user_id)
        st.caption(
            (
                "These are demo meetings. Connect your own calendar below and the Meeting Coordinator "
                "prepares you for your real ones."
                if view.is_demo
                else f"Your meetings in the next {PANEL_DAYS} days."
            )
            + _times_in()
        )
        _meetings_table(settings, service, identity, view)
        if google:
            render_google_connect(settings, identity, service)  # Reconnect / Disconnect, where the warning is
        elif connection is not None:
            st.button(
                "Disconnect this calendar",
                key="cal-disconnect",
                icon=":material/link_off:",
                on_click=_disconnect,
                args=(service, user_id),
            )

    error = st.session_state.pop(CONNECT_ERROR, None)
    with st.expander("Connect your calendar", icon=":material/add_link:", expanded=view.is_demo or bool(error)):
        if error:
            st.error(error, icon=":material/error:")
        upload_tab, url_tab, google_tab = st.tabs(list(TABS), default=st.session_state.get(TAB) or TABS[0])
        with upload_tab:
            key = f"cal-upload-{st.session_state.get(UPLOAD_NONCE, 0)}"
            limit = upload_limit_mb(settings)
            st.file_uploader(
                "Calendar file (.ics)",
                type=["ics", "zip"],
                key=key,
                on_change=_upload,
                args=(service, user_id, key),
                max_upload_size=limit,
                help=f"Exported from Google Calendar (its .zip as it is), Outlook or Apple Calendar; up to {limit} MB. "
                "A file is a snapshot: upload it again to update it.",
            )
            # A bigger file is refused by the browser before it reaches the app (only a red mark on
            # the file), so the limit and what to do about it are said here, before the upload.
            st.caption(
                f"Up to {limit} MB. A bigger calendar: export a shorter period or a single calendar, "
                "or connect its secret iCal address instead."
            )
        with url_tab:
            if not service.can_connect:
                st.info(
                    "Connecting an iCal address needs CALENDAR_ENCRYPTION_KEY on this server.", icon=":material/lock:"
                )
            else:
                st.text_input(
                    "Secret address in iCal format",
                    key="cal-ics-url",
                    type="password",
                    placeholder="https://calendar.google.com/calendar/ical/…/basic.ics",
                    help="Google: Settings → your calendar → Secret address in iCal format. Outlook: Settings → "
                    "Calendar → Shared calendars → Publish a calendar (ICS link). Apple: share as Public Calendar. "
                    "The address is stored encrypted and never shown again.",
                )
                st.button(
                    "Connect address",
                    key="cal-connect-url",
                    icon=":material/link:",
                    on_click=_connect_url,
                    args=(service, user_id),
                )
        with google_tab:
            if google:
                st.caption("Google Calendar is connected: see above to reconnect or disconnect it.")
            else:
                render_google_connect(settings, identity, service)
