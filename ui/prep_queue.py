"""The Prep queue on the chat page: meetings whose prep window is open or about to open.

Each card shows the meeting (its title is other people's text: drawn as plain text), its
type, when its window opens, what is already prepared and what the meeting costs in
people's time; "Prepare" starts a prep session bound to the meeting, "Resume prep" reopens
that session, and the materials (agenda, question bank, note-taking template) download as
Markdown or Word, built from stored data when clicked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import streamlit as st

from assistant.auth import Identity
from assistant.config import Settings
from assistant.context.calendar import CalendarStorageError
from assistant.context.classify import MeetingTypesError, MeetingTypeStorageError
from assistant.context.data_files import DataFileError
from assistant.context.meeting_cost import format_usd
from assistant.context.meetings import Meeting
from assistant.context.prep_queue import PrepQueue, QueueEntry, build_prep_queue
from assistant.factory import get_calendar_service, unusable_setting
from assistant.starters import describe_date, describe_when
from assistant.views.format import counted, fmt_ago
from assistant.views.materials import materials_for, md_text, to_docx, to_markdown
from ui.components import browser_zone

logger = logging.getLogger("assistant.pages.chat.prep_queue")

MAX_CARDS = 6
PER_ROW = 3
CONTEXT_PAGE = "app_pages/context.py"  # My context: where a calendar is connected
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def load_queue(settings: Settings, identity: Identity, now: datetime, *, refresh: bool = False) -> PrepQueue | None:
    """The user's queue, or None after showing why it cannot be read."""
    try:
        return build_prep_queue(
            get_calendar_service(settings),
            settings,
            user_id=identity.user_id,
            user_email=identity.email,
            now=now,
            tz=browser_zone(),
            refresh=refresh,
        )
    except (CalendarStorageError, MeetingTypesError, MeetingTypeStorageError, DataFileError) as e:
        st.warning(
            f"The Prep queue is unavailable: {unusable_setting(settings, e) or e}", icon=":material/sync_problem:"
        )
        return None


def _materials(settings: Settings, identity: Identity, meeting: Meeting, fmt: str, zone: ZoneInfo) -> bytes:
    """The meeting's materials as a file; ``zone`` is the reader's, read when the card was drawn: the
    file is built when the download is asked for, outside the script run, where the browser's zone
    is unknown (the materials said "19:15 UTC" beside a card saying "14:15")."""
    materials = materials_for(
        meeting,
        settings=settings,
        engine=get_calendar_service(settings).engine,
        user_id=identity.user_id,
        user_email=identity.email,
        tz=zone,
        now=datetime.now(meeting.start.tzinfo),
    )
    return to_docx(materials) if fmt == "docx" else to_markdown(materials).encode("utf-8")


def window_text(entry: QueueEntry, now: datetime) -> str:
    """The card's prep line: "Prep window open", "Prep opens in 2 h 05 min", or "Prep opens Monday at 15:30".

    ``now`` is in the reader's zone: the opening time is told in it.
    """
    item = entry.item
    if item.status == "open":
        return "Prep window open"
    minutes = max(1, int((item.window_opens_at - now).total_seconds() // 60))
    if minutes >= 12 * 60:  # over a weekend "in 65 h" says less than the day
        return f"Prep opens {describe_when(item.window_opens_at, now)}"
    return (
        f"Prep opens in {minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"Prep opens in {minutes} min"
    )


def _card(
    settings: Settings,
    identity: Identity,
    entry: QueueEntry,
    index: int,
    now: datetime,
    on_prepare: Callable[[Meeting, str], None],
    on_resume: Callable[[str], None],
) -> None:
    meeting = entry.item.meeting
    zone = browser_zone()
    when = describe_when(meeting.start, now.astimezone(zone), all_day=meeting.all_day)
    # Cards of a row share its height and keep their buttons at the bottom, so the buttons line
    # up whatever the title's length; a card grows when its text wraps (the chat page's CSS,
    # ``.st-key-prep-queue``). A fixed height clipped the buttons of a narrow card.
    # Each card's buttons read "Prepare", "Materials": a screen reader heard "Prepare, Materials,
    # Prepare, …". Their labels go on with the meeting's title in italics, visually hidden (the
    # chat page's CSS, ``[class*="st-key-prep-card-"] button em``): "Prepare for Q3 Budget Review".
    title = md_text(meeting.title).strip()
    named = f" _for {title}_" if title else ""
    with st.container(border=True, key=f"prep-card-{index}"):
        st.markdown(f"**{md_text(meeting.title)}**")
        st.badge(entry.item.type_label, icon=":material/label:", color="blue")
        st.caption(f"{when} · {window_text(entry, now.astimezone(zone))}")
        notes = entry.item.notes_count
        if notes:
            prepared = f"{counted(notes, 'prep note')} saved"
        else:
            prepared = "Prep started, no notes saved yet" if entry.session_id else "Nothing prepared yet"
        cost = f"{format_usd(entry.cost.total_usd)} of people's time" if entry.cost.priced else entry.cost.label
        st.caption(f"{prepared} · {cost}", help=entry.cost.label)
        with st.container(horizontal=True, gap="small"):
            if entry.session_id:
                st.button(
                    "Resume prep" + named,
                    key=f"prep-resume-{index}",
                    icon=":material/play_arrow:",
                    type="primary",
                    on_click=on_resume,
                    args=(entry.session_id,),
                )
            else:
                st.button(
                    "Prepare" + named,
                    key=f"prep-start-{index}",
                    icon=":material/edit_note:",
                    type="primary",
                    on_click=on_prepare,  # the prompt is the session's title: a day that stays true
                    args=(meeting, describe_date(meeting.start.astimezone(zone), all_day=meeting.all_day)),
                )
            with st.popover("Materials" + named, icon=":material/download:", key=f"prep-materials-{index}"):
                st.caption("Agenda, questions for this type of meeting and a note-taking template, from what is saved.")
                stem = _stem(meeting)
                zone = browser_zone()
                st.download_button(
                    "Markdown",
                    data=lambda: _materials(settings, identity, meeting, "md", zone),
                    file_name=f"{stem}.md",
                    mime="text/markdown",
                    key=f"prep-md-{index}",
                    icon=":material/description:",
                    on_click="ignore",  # a download changes nothing on the page: no rerun
                )
                st.download_button(
                    "Word (.docx)",
                    data=lambda: _materials(settings, identity, meeting, "docx", zone),
                    file_name=f"{stem}.docx",
                    mime=_DOCX,
                    key=f"prep-docx-{index}",
                    icon=":material/article:",
                    on_click="ignore",
                )


def _stem(meeting: Meeting) -> str:
    """A safe file name stem for the meeting's materials."""
    words = "".join(ch if ch.isalnum() else "-" for ch in meeting.title.lower()).strip("-")
    return ("prep-" + "-".join(p for p in words.split("-") if p))[:60] or "prep"


def render_prep_queue(
    settings: Settings,
    identity: Identity,
    queue: PrepQueue,
    now: datetime,
    *,
    on_prepare: Callable[[Meeting, str], None],
    on_resume: Callable[[str], None],
) -> None:
    """Draw the queue.

    Args:
        settings: The app settings.
        identity: The signed-in identity.
        queue: :func:`load_queue`'s result.
        now: Current time (aware).
        on_prepare: Called with the meeting and its "when" text to start a prep session.
        on_resume: Called with a prep session's id to reopen it.
    """
    view = queue.view
    with st.container(key="prep-queue"):
        with st.container(horizontal=True, gap="small", vertical_alignment="center", key="prep-queue-head"):
            st.markdown("### Prep queue", anchors=False)
            if view.is_demo:  # the welcome named no way to the user's own meetings
                st.badge("Demo calendar", icon=":material/science:", color="orange")
                st.page_link(CONTEXT_PAGE, label="Use your own calendar", icon=":material/add_link:")
            else:
                updated = f"updated {fmt_ago(view.fetched_at)}" if view.fetched_at else "not read yet"
                st.caption(f"{md_text(view.label)} · {updated}")
                st.button("Refresh", key="prep-refresh", icon=":material/refresh:", type="tertiary")
        if view.warning:
            st.warning(md_text(view.warning), icon=":material/sync_problem:")
        if not queue.entries:
            st.caption("Nothing to prepare in the next few hours. Ask about any meeting below.")
            return
        entries = queue.entries[:MAX_CARDS]
        for row in range(0, len(entries), PER_ROW):
            columns = st.columns(PER_ROW)
            for offset, entry in enumerate(entries[row : row + PER_ROW]):
                with columns[offset]:
                    _card(settings, identity, entry, row + offset, now, on_prepare, on_resume)
        if len(queue.entries) > MAX_CARDS:
            more = counted(len(queue.entries) - MAX_CARDS, "more meeting")
            st.caption(f"{more} to prepare soon; see My context for all.")
