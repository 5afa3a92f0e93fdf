"""Chat page: thin drawing of ChatService sessions and events (no business logic here).

Wording, labels and formatting come from :mod:`assistant.views.conversation`, starter prompts from
:mod:`assistant.starters`, exports from :mod:`assistant.views.export`. The open session
lives in the URL (``?session=<id>``) so it survives a reload; it is always re-read through
the service with the signed-in user's id, so another user's id is simply "not found".
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError
from streamlit import runtime
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from assistant.chat import (
    AlreadyAnsweredError,
    ChatEvent,
    ChatInputError,
    ChatService,
    DisplayTurn,
    LimitExceededError,
    SessionBusyError,
    build_display_turns,
)
from assistant.chat.bridge import finish_unread
from assistant.chat.compare import Branch, compare_choices
from assistant.config import get_settings
from assistant.context.calendar import CalendarStorageError
from assistant.context.meetings import Meeting
from assistant.context.prep_queue import prep_prompt
from assistant.context.prep_sessions import sessions_by_meeting
from assistant.factory import get_calendar_service, get_chat_service
from assistant.inputs import log_safe, validate_session_id
from assistant.sessions.base import (
    UNTITLED,
    PendingTurn,
    SessionDocument,
    SessionError,
    SessionMeta,
    SessionNotFoundError,
    TurnRecord,
)
from assistant.sessions.queries import MAX_SEARCH_CHARS, SHORT_SEARCH_SESSIONS
from assistant.sessions.search import search_words, uses_text_index
from assistant.starters import starter_prompts
from assistant.views import conversation as view
from assistant.views.export import session_to_json, session_to_markdown
from assistant.views.markdown import plain_text, question_markdown, screen_markdown
from assistant.views.models import model_view, offered_label
from ui import kept
from ui.auth_gate import current_identity, still_signed_in
from ui.components import (
    ASSISTANT_AVATAR,
    NOT_FOUND,
    USER_AVATAR,
    browser_zone,
    draw_turn,
    follow_newest_answer,
    hidden_answers_bar,
    pinned_chat_input,
)
from ui.kept import Kept
from ui.model_choice import (
    COMPARED,
    CompareRefused,
    compare_popover,
    draw_comparison,
    model_picker,
    picked_model,
    take_comparison,
)
from ui.notices import Kind, draw_notices, notify
from ui.prep_queue import load_queue, render_prep_queue
from ui.streaming import CURSOR, draw_answer

logger = logging.getLogger("assistant.pages.chat")

PENDING = "chat_pending"  # {"session_id": str | None, "text": str}: a send queued by a starter or Retry
FAILED = "chat_failed"  # {"session_id", "text", "category", "message", "retryable"}: the last failed turn
FLASH = "chat_flash"  # ui.notices: shown on the next runs, above the conversation; opening a session drops them
CONFIRM_DELETE = "chat_confirm_delete"  # session id awaiting delete confirmation
SHOWN = "chat_shown_turns"  # {session_id: how many of the latest answers are drawn}
# {"session_id", "first"}: the first answer drawn at this tab's last send; the latest answers stay
# where they are until the next send (a click after a send dropped the top one: the page moved up)
SENT_FROM = "chat_sent_from"
LAST_OPEN = "chat_last_open"  # the session this tab last showed: the Chat page reopens it (New session clears it)
ELSEWHERE_POLL_S = 1.0  # how often a tab looks for the answer another tab is writing
RECENT_TURNS = 10  # a long session draws its latest answers; earlier ones load on request (keeps a send flat)
# A send redraws every answer on the page before its own shows: past this many shown ("Show all" on a
# 155-answer session made each send wait 3-4 s for its first word), it goes back to the latest ones.
KEEP_SHOWN_ON_SEND = 3 * RECENT_TURNS
# {"session_id", "first"}: the answer drawn first in the transcript's places at this tab's last
# full run; answers a later send hides keep their places, as empty elements (_draw_transcript)
LAID_FROM = "chat_laid_from"
SEARCH = "chat_search"
ANSWERING = "chat_answering"  # the session whose answer this browser tab is drawing now (what Stop stops)
LEFT_ANSWERING = "chat_left_answering"  # a session whose answer this tab stopped drawing mid-way (it goes on)
REFUSED = "chat_refused"  # _Refused: a send just refused, drawn by the rerun that puts its text back in the input
HELD_PREP = "chat_held_prep"  # {"text", "meeting_id"}: a refused Prepare's text, back in the input
# Drawn under an answer while it streams: the page's style shows the Stop button (drawn hidden
# by every full run) while this marker is on the page.
ANSWERING_MARKER = '<span class="answering-marker"></span>'
PREVIEW_CHARS = 200  # a message over the length limit is echoed back only this far
LIVE_GRACE_S = 1.5  # how long opening a session waits on an answer another tab is still receiving

settings = get_settings()
identity = current_identity()
user_id: str = identity.user_id
service: ChatService = get_chat_service(settings)
pickable = service.models_for(identity.email)  # the models this user may start a session with (default first)

st.html(
    """<style>
    .st-key-session-list [data-testid="stButton"], .st-key-session-list [data-testid="stTooltipHoverTarget"]
        { width: 100%; }
    .st-key-session-list button { width: 100%; justify-content: flex-start; text-align: left; }
    .st-key-session-list button > div, .st-key-session-list button > div > span
        { justify-content: flex-start; min-width: 0; max-width: 100%; }
    .st-key-session-list button [data-testid="stMarkdownContainer"] { min-width: 0; overflow: hidden; }
    .st-key-session-list button p { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    [data-testid="stPopoverBody"] [data-testid="stForm"] [data-testid="InputInstructions"] { display: none; }
    [data-testid="stSidebar"] [data-testid="stProgressBarTrack"] { background-color: rgba(128, 128, 128, 0.22); }
    .st-key-welcome h2 { margin-bottom: 0.25rem; font-size: 1.5rem; letter-spacing: normal; }
    .st-key-chat-header [data-testid="stMarkdownContainer"] h1 { font-size: 1.75rem; font-weight: 600;
        line-height: 1.2; padding: 0.75rem 0 1rem; letter-spacing: -0.005em; }
    .st-key-prep-queue [data-testid="stMarkdownContainer"] h3 { font-size: 1.5rem; padding: 0.5rem 0 1rem;
        letter-spacing: normal; }
    .st-key-prep-queue-head > [data-testid="stElementContainer"]:not(:first-child) { align-self: center;
        margin-top: 0.15rem; }
    .st-key-prep-queue-head [data-testid="stCaptionContainer"],
    .st-key-prep-queue-head [data-testid="stCaptionContainer"] p { margin-bottom: 0; }
    .st-key-prep-queue [data-testid="stHorizontalBlock"] { align-items: stretch; }
    .st-key-prep-queue [data-testid="stColumn"], .st-key-prep-queue [data-testid="stColumn"] > div,
    .st-key-prep-queue [data-testid="stLayoutWrapper"]:has(> [class*="st-key-prep-card-"])
        { display: flex; flex-direction: column; flex: 1 1 auto; }
    [class*="st-key-prep-card-"] { flex: 1 1 auto; min-height: 232px; }
    [class*="st-key-prep-card-"] > :last-child { margin-top: auto; }
    [class*="st-key-prep-card-"] [data-testid="stCaptionContainer"] p { text-wrap: pretty; }
    [class*="st-key-prep-card-"] > [data-testid="stElementContainer"]:first-child p { display: -webkit-box;
        -webkit-box-orient: vertical; -webkit-line-clamp: 3; line-clamp: 3; overflow: hidden; }
    [class*="st-key-prep-card-"] button em { position: absolute; width: 1px; height: 1px; overflow: hidden;
        clip-path: inset(50%); white-space: nowrap; }
    [data-testid="stChatMessage"] [data-testid="stCaptionContainer"] p { font-size: 0.78rem; }
    .st-key-stop-answer { display: none; position: fixed; right: 5rem; width: auto !important; z-index: 999;
        bottom: calc(var(--ea-above-input, 122px) - 0.6rem); }
    body:has(.answering-marker) .st-key-stop-answer { display: block; }
    .ea-jump { position: fixed; bottom: calc(var(--ea-above-input, 122px) - 0.6rem); right: 5rem; z-index: 999;
        cursor: pointer; font: inherit; font-size: 0.95rem; line-height: 1.6; padding: 0.42rem 1rem;
        border: 1px solid color-mix(in srgb, currentColor 22%, transparent); }
    .ea-jump:hover { border-color: currentColor; }
    .ea-jump[hidden] { display: none; }
    body:has(.answering-marker) .ea-jump { right: 13.9rem; }
    .st-key-stop-answer button { padding: 0.2rem 0.9rem; }
    .st-key-stop-answer button, .ea-jump { border-radius: 999px; box-shadow: 0 2px 8px rgba(0, 0, 0, 0.18); }
    [data-testid="stChatMessage"] [data-stale="true"], .st-key-earlier-turns [data-stale="true"]
        { opacity: 1 !important; transition: none !important; }
    </style>"""
)


# --------------------------------------------------------------------------- callbacks
def _flash(kind: Kind, text: str) -> None:
    notify(FLASH, kind, text)


def _open(session_id: str | None) -> None:
    if session_id:
        st.query_params["session"] = session_id
    else:
        st.query_params.pop("session", None)
        st.session_state.pop(LAST_OPEN, None)
    st.session_state.pop(FAILED, None)
    st.session_state.pop(CONFIRM_DELETE, None)
    st.session_state.pop(FLASH, None)  # what was said about the session left behind
    st.session_state.pop(SENT_FROM, None)


def _queue_send(session_id: str | None, text: str) -> None:
    st.session_state.pop(FAILED, None)
    st.session_state[PENDING] = {"session_id": session_id, "text": text}


def _prepare_meeting(meeting: Meeting, when: str) -> None:
    # A new prep session bound to the meeting (from the Prep queue). One the meeting already has is
    # opened instead: a card drawn before it was started (another tab, a page left open) still
    # offered Prepare, and a click made a second, identical session (Resume prep reopened the latest).
    try:
        started = sessions_by_meeting(get_calendar_service(settings).engine, user_id, [meeting.id]).get(meeting.id)
    except SQLAlchemyError:  # the send that follows says the database cannot be reached
        started = None
    if started is not None:
        _open(started)
        _flash("success", "This meeting was already being prepared: here is the prep session you started earlier.")
        return
    _open(None)
    st.session_state[PENDING] = {"session_id": None, "text": prep_prompt(meeting, when), "meeting_id": meeting.id}


def _retry(session_id: str, text: str, turn_idx: int | None = None) -> None:
    # The failed turn was not stored: sending the same text again re-runs it exactly once. Its
    # index makes a second Retry (another tab's, or this one's after a reload) a no-op once a
    # turn has been stored there: it sent the question again.
    logger.info("session_id=<%s> | retrying failed turn", session_id)
    _queue_send(session_id, text)
    st.session_state[PENDING]["retry_of"] = turn_idx


def _reload() -> None:
    st.session_state.pop(FAILED, None)


def _dismiss(session_id: str) -> None:
    st.session_state.pop(FAILED, None)
    try:
        service.dismiss_pending(session_id, user_id)
    except SessionError as e:
        _flash("error", str(e))


def _save_feedback(session_id: str, turn_idx: int, key: str) -> None:
    value = view.feedback_value(st.session_state.get(key))
    try:
        service.set_feedback(session_id, user_id, turn_idx, value)
    except (SessionError, ValueError) as e:
        _flash("error", f"Your feedback could not be saved: {e}")


def _answering_here(session_id: str) -> bool:
    """Whether this tab draws, or left going, an answer for ``session_id``: renaming, completing or
    deleting the session stops it first, as Stop does (ChatService._settle; a delete stops it here)."""
    return session_id in (st.session_state.get(ANSWERING), st.session_state.get(LEFT_ANSWERING))


def _complete(session_id: str) -> None:
    try:
        service.complete(session_id, user_id, stop_answer=_answering_here(session_id))
        _flash("success", "Session completed. It is now read-only; you can continue it in a new session.")
    except SessionError as e:
        _flash("error", str(e))


def _stop() -> None:
    # the answer this tab draws, or the one it left going and shows as being answered
    answering = st.session_state.get(ANSWERING) or st.session_state.get(LEFT_ANSWERING)
    if answering:
        service.stop(answering)


def _stop_elsewhere(session_id: str) -> None:
    # an answer of this user's session that no tab of this browser is drawing (see _draw_answering_elsewhere)
    if service.stop(session_id):
        logger.info("session_id=<%s> | answer written elsewhere stopped from this tab", session_id)


def _export(session_id: str, render: Callable[[SessionDocument], str]) -> str:
    """A session exported by ``render`` (Markdown or JSON), built when its download is clicked."""
    return render(service.open_session(session_id, user_id))


def _continue(session_id: str) -> None:
    try:
        meta = service.continue_session(session_id, user_id, user_email=identity.email)
    except SessionError as e:
        _flash("error", str(e))
        return
    _open(meta.id)


def _ask_delete(session_id: str | None) -> None:
    if session_id:
        st.session_state[CONFIRM_DELETE] = session_id
    else:
        st.session_state.pop(CONFIRM_DELETE, None)


def _delete(session_id: str) -> None:
    try:  # an answer being written for it (this tab's or another's) is stopped: it goes with the session
        service.delete(session_id, user_id)
    except SessionError as e:
        _flash("error", str(e))
        return
    _open(None)
    _flash("success", "Session deleted.")


# --------------------------------------------------------------------------- current session
def _not_found() -> tuple[None, None]:
    st.query_params.pop("session", None)
    _flash("error", NOT_FOUND)
    return None, None


def _current() -> tuple[SessionMeta | None, SessionDocument | None]:
    named = st.query_params.get_all("session")
    if len(named) > 1:  # ?session=a&session=b opened b without a word: which one was meant is unknown
        logger.info("user_id=<%s>, sessions=<%d> | an address names more than one session", user_id, len(named))
        st.query_params.pop("session", None)
        _flash("error", "This address names more than one session; open one from the sidebar.")
        return None, None
    raw = named[0] if named else None
    restored = not raw and bool(st.session_state.get(LAST_OPEN))
    if restored:
        # Back on the Chat page from another page (its link drops the address's session): the
        # conversation this tab left, not a new one. New session, Prepare or a delete clear it.
        st.query_params["session"] = raw = st.session_state[LAST_OPEN]
    if not raw:
        return None, None
    session_id = validate_session_id(raw)
    if session_id is None:
        # Never a session this app created: not found, without asking the store (or logging it raw).
        logger.info("user_id=<%s>, session_id=<%s> | malformed session id, not found", user_id, log_safe(raw))
        return _not_found()
    # A previous run may have been interrupted mid-answer (Stop, a click elsewhere, a reload): let
    # the service finish storing what was produced before drawing it. An answer still streaming to
    # another tab is not waited for (it is shown as being answered elsewhere).
    # This tab's own answer, left mid-way by a click elsewhere, is not waited for either: it shows
    # at once as being answered, the rest as it comes.
    left_here = st.session_state.get(LEFT_ANSWERING) == session_id
    service.wait_idle(session_id, live_grace=0.0 if left_here else LIVE_GRACE_S, user_id=user_id)
    try:
        doc = service.open_session(session_id, user_id)
    except SessionNotFoundError:
        logger.info("user_id=<%s>, session_id=<%s> | session not found", user_id, session_id)
        if restored:  # the session this tab left was deleted since (another tab): a new one, silently
            st.session_state.pop(LAST_OPEN, None)
            st.query_params.pop("session", None)
            return None, None
        return _not_found()
    except SessionError as e:
        logger.warning("session_id=<%s>, error=<%s> | session cannot be opened", session_id, e)
        meta = service.get_session(session_id, user_id)
        st.error(f"This session cannot be shown: {e}", icon=":material/broken_image:")
        return meta, None
    return doc.meta, doc


def _unanswered(session: SessionMeta | None) -> tuple[dict[str, Any] | None, PendingTurn | None]:
    """The session's question that no stored turn answers: (failed, being answered elsewhere).

    The store keeps it from before the model is called (a reload, a restart or another tab
    winning the race never makes it vanish); this browser's last failure is the fallback
    when the store could not record it.
    """
    if session is None or read_only:  # a closed session (or one whose model was withdrawn) takes no Retry
        st.session_state.pop(FAILED, None)
        return None, None
    try:
        stored = service.pending_turn(session.id, user_id)
    except SessionError as e:
        logger.warning("session_id=<%s>, error=<%s> | pending question not read", session.id, e)
        stored = None
    if stored is not None and stored.status == "running":
        return None, stored
    if stored is not None:
        return {
            "session_id": session.id,
            "text": stored.text,
            "category": stored.error_category or "model_error",
            "message": stored.error_message or "",
            "retryable": stored.retryable,
            "turn_idx": stored.turn_idx,
        }, None
    local: dict[str, Any] | None = st.session_state.get(FAILED)
    if local and local.get("session_id") == session.id and session.turn_count == local.get("turn_count"):
        return local, None
    st.session_state.pop(FAILED, None)
    return None, None


def _load() -> None:
    """Read what the page shows about the open session into the page's globals.

    A full run reads it once at the top; a rerun of the conversation fragment alone reads it
    again (module-level code does not run then).
    """
    global meta, doc, model_note, read_only, failed, answering_elsewhere, compare_models
    meta, doc = _current()
    if meta is not None:
        st.session_state[LAST_OPEN] = meta.id
    model_note = service.model_refusal(meta) if meta is not None and not meta.read_only else None
    # A session whose stored conversation cannot be opened (damaged, or storage refused it) takes
    # nothing either: it showed the welcome, the starters and an input whose sends were refused.
    read_only = bool(meta and (meta.read_only or model_note or doc is None))
    failed, answering_elsewhere = _unanswered(meta)
    compare_models = compare_choices(service, meta, identity.email) if meta is not None else []


def _sidebar_shows(session: SessionMeta | None) -> tuple[str, str, str, bool] | None:
    """What the sidebar drew of ``session``: a fragment rerun that reads otherwise reruns the app."""
    return (session.id, session.state, session.title, read_only) if session is not None else None


meta: SessionMeta | None = None
doc: SessionDocument | None = None
model_note: str | None = None
read_only = False
failed: dict[str, Any] | None = None
answering_elsewhere: PendingTurn | None = None
compare_models: list[str] = []
comparing: Branch | CompareRefused | None = None
sending = False  # this run sends a question: no stored answer is the latest one any more
KEPT: Kept | None = None  # this run's filter of what the conversation fragment sends (ui.kept)
# An answer this tab was drawing when a click elsewhere (or a lost connection) ended the run goes
# on, unread here (the conversation's finally); Stop's callback, which runs before this, has read
# ANSWERING. This run shows that answer as being answered, with Stop; an answer it streams sets
# ANSWERING again.
if (_left := st.session_state.pop(ANSWERING, None)) is not None:
    st.session_state[LEFT_ANSWERING] = _left
_load()


# --------------------------------------------------------------------------- sidebar
# Placeholders of this run that an answer updates in place (no second script run per send).
SLOTS: dict[str, DeltaGenerator] = {}


def _fill_spend() -> None:
    spent = service.spend_today(user_id)
    budget = view.budget_view(
        spent.usd, settings.daily_budget_usd, spent.unpriced_calls, now=service.clock(), zone=browser_zone()
    )
    if budget.limited:
        SLOTS["spend"].progress(budget.fraction, text=f":material/payments: {budget.text}")
    else:  # nothing to fill: a bar that is always empty would read as "nothing spent of something"
        SLOTS["spend"].caption(f":material/payments: {budget.text}")


def _sidebar() -> None:
    st.button(
        "New session",
        icon=":material/add_comment:",
        type="primary",
        width="stretch",
        on_click=_open,
        args=(None,),
        key="new-session",
    )
    with st.container(key="spend-today"):
        SLOTS["spend"] = st.empty()  # filled by _conversation (on every run, so its reruns may refill it)

    if meta is not None:
        with st.container(border=True, key="current-session"):
            badge = view.state_badge("damaged" if doc is None else meta.state)
            st.markdown(f"**{view.display_title(meta.title, 60)}**")
            st.badge(badge.label, icon=badge.icon, color=badge.color)
            SLOTS["summary"] = st.empty()  # filled by _conversation, like the spend
            # keyed by the state: a new menu, closed, once Complete is clicked (it stayed open)
            with st.popover(
                "Session actions", icon=":material/tune:", width="stretch", key=f"session-actions-{meta.state}"
            ):
                with st.form("rename-form", border=False):
                    new_title = st.text_input("Title", value=meta.title, max_chars=120)
                    if st.form_submit_button("Rename", icon=":material/edit:"):
                        try:
                            service.rename(meta.id, user_id, new_title, stop_answer=_answering_here(meta.id))
                            st.rerun()
                        except (SessionError, ValueError) as e:
                            st.error(str(e))
                st.button(
                    "Complete session",
                    icon=":material/task_alt:",
                    key="complete-session",
                    disabled=read_only,
                    help="End this session: it becomes read-only and can be continued in a new one.",
                    width="stretch",
                    on_click=_complete,
                    args=(meta.id,),
                )
                if doc is not None and doc.turns:
                    st.download_button(
                        "Export as Markdown",
                        data=partial(_export, meta.id, partial(session_to_markdown, zone=browser_zone())),
                        file_name=view.export_filename(meta, "md", browser_zone()),
                        mime="text/markdown",
                        icon=":material/download:",
                        on_click="ignore",
                        width="stretch",
                        key="export-md",
                    )
                    st.download_button(
                        "Export as JSON",
                        data=partial(_export, meta.id, session_to_json),
                        file_name=view.export_filename(meta, "json", browser_zone()),
                        mime="application/json",
                        icon=":material/data_object:",
                        on_click="ignore",
                        width="stretch",
                        key="export-json",
                    )
                st.button(
                    "Delete session",
                    icon=":material/delete:",
                    key="delete-session",
                    width="stretch",
                    on_click=_ask_delete,
                    args=(meta.id,),
                )
            if st.session_state.get(CONFIRM_DELETE) == meta.id:
                with st.container(key="confirm-box-delete-session"):  # announced by the page's a11y script
                    st.warning(
                        f"Delete “{view.display_title(meta.title, 60)}”? The transcript is removed for good.",
                        icon=":material/warning:",
                    )
                    with st.container(horizontal=True, gap="small"):
                        st.button("Delete", type="primary", key="confirm-delete", on_click=_delete, args=(meta.id,))
                        st.button("Cancel", key="cancel-delete", on_click=_ask_delete, args=(None,))


def _session_list() -> None:
    """The sidebar's search and session list: drawn after the conversation (the chat input
    reaches the browser before the session list query runs), below the session card."""
    st.text_input(
        "Search sessions",
        key=SEARCH,
        placeholder="Search sessions",
        icon=":material/search:",
        label_visibility="collapsed",
        max_chars=MAX_SEARCH_CHARS,  # SQLite refuses a LIKE pattern past 50,000 bytes
    )
    query = str(st.session_state.get(SEARCH) or "").strip()
    sessions, total = service.list_sessions(user_id, text=query or None, limit=30)
    now = service.clock()
    with st.container(key="session-list", gap=None):
        if not sessions and query:
            # short words are looked for in the newest sessions only: say so where that left some out
            bounded = not uses_text_index(search_words(query)) and _session_count() > SHORT_SEARCH_SESSIONS
            st.caption("No sessions match your search." + (f" {view.SHORT_WORDS_NOTE}" if bounded else ""))
        elif not sessions:
            st.caption("No sessions yet: your first one starts here.")
        for s in sessions:
            st.button(
                view.display_title(s.title, view.SIDEBAR_TITLE_CHARS),
                key=f"open-{s.id}",
                icon=view.STATE_ICONS.get(s.state, ":material/chat_bubble:"),
                help=view.session_help(s, now),
                type="secondary" if meta is not None and s.id == meta.id else "tertiary",
                width="stretch",
                on_click=_open,
                args=(s.id,),
            )
        if total > len(sessions) and query:  # a common word's count is an estimate: not shown
            st.caption(f"Showing the {len(sessions)} most recent matches. Narrow the search to find the others.")
        elif total > len(sessions):
            st.caption(f"Showing the {len(sessions)} most recent of {total:,}. Search to find older ones.")


def _session_count() -> int:
    """How many sessions the user has (read only where a search needs it)."""
    return service.list_sessions(user_id, limit=1)[1]


# --------------------------------------------------------------------------- drawing helpers
def _turn_footer(session_id: str, turn: TurnRecord) -> None:
    key = f"feedback-{session_id}-{turn.idx}"
    st.feedback(
        "thumbs",
        key=key,
        default=view.feedback_index(turn.feedback),
        on_change=_save_feedback,
        args=(session_id, turn.idx, key),
    )
    st.caption(view.turn_footer(turn))
    compare_popover(service, session_id, turn.idx, compare_models)
    if turn.status == "stopped" and _is_latest(session_id, turn.idx) and not read_only:  # its note: send it again
        st.button(
            "Ask again",
            icon=":material/refresh:",
            key=f"ask-again-{turn.idx}",
            type="tertiary",
            help="Send this question again for a full answer.",
            on_click=_retry,  # refused once the session has moved on (another tab sent something)
            args=(session_id, turn.user_text, turn.idx + 1),
        )


def _is_latest(session_id: str, turn_idx: int) -> bool:
    """Whether that stored answer is the open session's latest (none is while this run sends)."""
    return not sending and meta is not None and meta.id == session_id and turn_idx == meta.turn_count - 1


def _draw_turn(item: DisplayTurn, session_id: str) -> None:
    draw_turn(
        item,
        footer_key="turn-footer",
        footer=lambda turn: _turn_footer(session_id, turn),
    )
    if compare_models or comparing is not None:
        live = comparing if isinstance(comparing, Branch) else None
        refused = comparing if isinstance(comparing, CompareRefused) else None
        draw_comparison(service, user_id, item, session_id, live=live, refused=refused, on_open=_open)


def _show_earlier(session_id: str, first: int) -> None:
    st.session_state.setdefault(SHOWN, {})[session_id] = first


def _fold_long_transcript(items: list[DisplayTurn], session_id: str) -> None:
    """Before a send: earlier answers shown on request stay shown, unless they are too many to
    redraw quickly (more than KEEP_SHOWN_ON_SEND); then the latest ones are drawn again. The
    latest answers drawn with this send stay the ones drawn until the next send (SENT_FROM)."""
    shown = st.session_state.get(SHOWN, {})
    first = shown.get(session_id)
    if first is not None and len(items) - int(first) > KEEP_SHOWN_ON_SEND:
        del shown[session_id]
    st.session_state[SENT_FROM] = {"session_id": session_id, "first": max(0, len(items) - RECENT_TURNS)}


def _window_first(items: list[DisplayTurn], session_id: str) -> int:
    """The first of ``items`` the page shows (see _visible_turns)."""
    first = st.session_state.get(SHOWN, {}).get(session_id)
    sent = st.session_state.get(SENT_FROM) or {}
    if first is None and sent.get("session_id") == session_id:
        first = int(sent["first"])  # the answers drawn with the last send, and its own: none moves
        if len(items) - first > KEEP_SHOWN_ON_SEND:  # other tabs answered since: the latest ones
            first = None
    if first is None:
        first = len(items) - RECENT_TURNS
    return max(0, min(int(first), len(items)))


def _visible_turns(items: list[DisplayTurn], session_id: str) -> list[DisplayTurn]:
    """The latest answers of a long session, after a bar that loads earlier ones.

    Drawing hundreds of answers on every run would make each send wait for all of them;
    the whole transcript stays one click away (and on the Sessions page and in exports).
    Once earlier answers are shown they stay shown while new ones are added (up to
    KEEP_SHOWN_ON_SEND of them: see _fold_long_transcript). The window moves with a send only:
    a later click (thumbs, a tool step) redraws the answers the send drew, its own included.
    The bar's place is held by an empty element while it is not drawn (see _draw_transcript).
    """
    first = _window_first(items, session_id)
    if first == 0:
        st.empty()
        return items
    hidden_answers_bar(
        "earlier-turns",
        first,
        later=False,
        step=RECENT_TURNS,
        show=partial(_show_earlier, session_id),
        step_to=first - min(RECENT_TURNS, first),
        all_to=0,
        button_keys=("show-earlier", "show-all-turns"),
    )
    return items[first:]


def _draw_transcript(items: list[DisplayTurn], session_id: str) -> None:
    """The bar of earlier answers and the answers shown, each in a place of its own.

    Every answer keeps its place (a block of its own) from the full run that drew the
    transcript until the next one: an answer a send moved out of the window leaves an empty
    element, instead of every answer below moving up one place. An answer in the same place,
    drawn the same, is not sent to the browser again (ui.kept): a send's messages do not grow
    with the session.
    """
    visible = _visible_turns(items, session_id)
    first = len(items) - len(visible)
    laid = st.session_state.get(LAID_FROM) or {}
    laid_from = first
    if _fragment_rerun() and laid.get("session_id") == session_id and int(laid["first"]) <= first:
        laid_from = int(laid["first"])
    st.session_state[LAID_FROM] = {"session_id": session_id, "first": laid_from}
    for _ in range(first - laid_from):
        st.empty()
    keeper = KEPT
    for item in visible:
        with st.container(key=f"turn-{item.turn.idx}"):
            drawn_from = _drawn_from(item, session_id) if keeper is not None else None
            if keeper is None or drawn_from is None:
                _draw_turn(item, session_id)
                continue
            held = keeper.hold(drawn_from)
            if held is not None:  # the browser shows this very answer here: nothing to draw
                kept.keep_registered(held)
                continue
            _draw_turn(item, session_id)
            keeper.drawn(kept.container_path(), drawn_from)


def _drawn_from(item: DisplayTurn, session_id: str) -> str | None:
    """A digest of all that _draw_turn draws ``item`` from, or None when that is more than the
    page knows here (a comparison under it, read from the store as it draws)."""
    if comparing is not None or item.turn.idx in st.session_state.get(COMPARED, {}).get(session_id, {}):
        return None
    inputs = (item, session_id, sending, read_only, _is_latest(session_id, item.turn.idx), compare_models)
    return hashlib.blake2b(repr(inputs).encode(), digest_size=16).hexdigest()


def _draw_welcome() -> None:
    with st.container(key="welcome"):
        st.markdown(f"## Hello, {view.welcome_name(identity.name)}", anchors=False)
        st.markdown(
            "I'm your **Meeting Coordinator**. I can brief you on upcoming meetings, draft agendas, "
            "check budgets against plan and track your big rocks. Pick one of your next meetings "
            "or ask anything below."
        )
        if meta is None:
            model_picker(service, pickable)
    now = service.clock()
    queue = load_queue(settings, identity, now, refresh=bool(st.session_state.get("prep-refresh")))
    if queue is not None:
        render_prep_queue(settings, identity, queue, now, on_prepare=_prepare_meeting, on_resume=_open)
    queued = {e.item.meeting.id for e in queue.entries} if queue is not None else set()
    meetings = [m for m in queue.view.meetings if m.id not in queued] if queue is not None else None
    starters = starter_prompts(settings.data_dir, now.astimezone(browser_zone()), limit=4, meetings=meetings)
    with st.container(key="starters", horizontal=True, gap="small"):
        for i, starter in enumerate(starters):
            st.button(
                plain_text(starter.prompt),  # meeting titles are other people's text: never Markdown
                key=f"starter-{i}",
                icon=starter.icon,
                on_click=_queue_send,
                args=(meta.id if meta else None, starter.prompt),
            )


def _draw_failed(item: dict[str, Any]) -> None:
    shown = view.error_view(str(item["category"]), str(item["message"]), bool(item["retryable"]))
    # One place for the question and the failure, where a Retry's answer is drawn (_stream): the
    # failure and its buttons leave the page as that answer starts, not when it ends. Each message
    # holds one block, which the answer's first element replaces whole (a block drawn over a block
    # of its kind keeps the old one's children on the page until the run ends).
    place = st.container(key="failed-question")
    with place, st.chat_message("user", avatar=USER_AVATAR), st.container():
        st.markdown(question_markdown(str(item["text"])))
        st.caption(":material/error: Not answered")
    with place, st.chat_message("assistant", avatar=ASSISTANT_AVATAR), st.container(key="failed-turn"), st.container():
        st.error(f"**{shown.title}.** {shown.message}", icon=shown.icon)
        with st.container(horizontal=True, gap="small"):
            if shown.action == "retry":
                st.button(
                    "Send again" if item["category"] == "conflict" else "Retry",
                    icon=":material/refresh:",
                    type="primary",
                    key="retry-turn",
                    on_click=_retry,
                    args=(item["session_id"], item["text"], item.get("turn_idx", item.get("turn_count"))),
                )
            elif shown.action == "reload":
                st.button("Reload", icon=":material/sync:", type="primary", key="reload-session", on_click=_reload)
            st.button(
                "Dismiss",
                icon=":material/close:",
                key="dismiss-turn",
                help="Forget this question without sending it again.",
                on_click=_dismiss,
                args=(item["session_id"],),
            )


def _draw_answering_elsewhere(item: PendingTurn) -> None:
    with st.chat_message("user", avatar=USER_AVATAR):
        st.markdown(question_markdown(item.text))
    with st.chat_message("assistant", avatar=ASSISTANT_AVATAR), st.container(key="answering-elsewhere"):
        busy_here = service.is_busy(item.session_id)  # written by this server: it can be stopped from here
        left_here = st.session_state.get(LEFT_ANSWERING) == item.session_id and busy_here
        if left_here:
            st.html(ANSWERING_MARKER)  # this tab's own answer, left going by a click elsewhere: Stop shows
        _follow_elsewhere(item.session_id)
        with st.container(horizontal=True, gap="small"):
            st.button("Refresh", icon=":material/sync:", key="refresh-session")
            if busy_here and not left_here:
                # Another tab's answer, or this tab's before a reload or a closed window: without it,
                # the reader could only wait for the whole answer (on a paid model too).
                st.button(
                    "Stop answer",
                    icon=":material/stop_circle:",
                    key="stop-elsewhere",
                    on_click=_stop_elsewhere,
                    args=(item.session_id,),
                )


@st.fragment(run_every=ELSEWHERE_POLL_S)
def _follow_elsewhere(session_id: str) -> None:
    """Look again every second; once the other tab's answer is stored (or it failed, or its
    server went away) the whole page reruns and shows it, with no Refresh needed. Meanwhile an
    answer this server is writing (for another tab, or for this one before a reload or a lost
    connection) shows as far as it has come."""
    try:
        pending = service.pending_turn(session_id, user_id)
    except SessionError:
        return  # the store is unreachable for a moment: look again at the next tick
    if pending is None or pending.status != "running":
        st.rerun(scope="app")
    so_far = service.answer_so_far(session_id, user_id)
    st.info(
        "This question is still being answered. "
        + ("The rest shows as it comes." if so_far else "The answer shows here when it is done."),
        icon=":material/hourglass_top:",
    )
    if so_far:
        with st.container(key="answer-so-far"):
            st.markdown(screen_markdown(so_far) + CURSOR, anchors=False)


def _refuse(refused: _Refused) -> None:
    box = {"warning": st.warning, "info": st.info}.get(refused.kind, st.error)
    with st.container(key="refusal"):
        box(refused.reason, icon=refused.icon)
        if refused.length > PREVIEW_CHARS or read_only:  # a read-only session's input cannot take it back
            label = "Start of your message (not sent)" if refused.preview_only else "Your message (not sent)"
            with st.expander(label, icon=":material/content_copy:"):
                st.code(refused.text, language=None, wrap_lines=True)


@dataclass
class _Started:
    """A send whose answer is being produced while the page draws.

    ``events`` is the service's generator: closing it stops the answer (see the ``finally`` at the end).
    """

    session: SessionMeta
    text: str
    events: Generator[ChatEvent, None, None]
    streamed: bool = False


@dataclass
class _Refused:
    """A send refused before anything was written (drawn where the answer would be).

    ``text`` is what is echoed back to copy: the whole message when it is within the length
    limit, otherwise only its first :data:`PREVIEW_CHARS` characters and "…" (``preview_only``),
    so a huge paste is neither kept nor sent back to the browser.
    """

    text: str
    reason: str
    icon: str
    kind: str = "error"
    length: int = 0
    preview_only: bool = False
    meeting_id: str | None = None  # a refused Prepare's meeting: sent again as it is, it still prepares it
    busy: bool = False  # refused while another answer for the session was being written

    @classmethod
    def of(cls, raw: str, reason: str, icon: str, kind: str = "error") -> _Refused:
        """The refusal of ``raw``, keeping no more of it than it may echo."""
        if len(raw) <= settings.max_message_chars:
            return cls(raw, reason, icon, kind, len(raw))
        return cls(raw[:PREVIEW_CHARS] + "…", reason, icon, kind, len(raw), preview_only=True)


def _start_send(
    session: SessionMeta | None, raw: str, meeting_id: str | None = None, retry_of: int | None = None
) -> _Started | _Refused:
    """Start the answer at once (ChatService.start_turn), so the model works while the page draws."""
    try:
        meeting = service.calendar.find(user_id, meeting_id) if meeting_id and session is None else None
    except (ValueError, CalendarStorageError):
        meeting = None  # the meeting left the calendar since the click: an ordinary new session
    try:
        turn = service.start_turn(
            user_id,
            raw,
            session_id=session.id if session else None,
            user_email=identity.email,
            meeting=meeting,
            tz=browser_zone(),
            model=picked_model(pickable) if session is None else None,
            retry_of=retry_of,
        )
        return _Started(turn.session, turn.text, turn.events)
    except AlreadyAnsweredError as e:  # its text is not put back: sending it would ask it twice
        return _Refused("", f"{e} Its answer is above.", ":material/done_all:", "info")
    except ChatInputError as e:
        return _Refused.of(raw, f"**Message not sent.** {e}", ":material/block:")
    except LimitExceededError as e:
        when = view.retry_at_text(e.retry_at, service.clock(), browser_zone())
        reason = f"**Message not sent.** {e.reason}"
        if when:
            reason += f" {when}"
        return _Refused.of(raw, reason, ":material/hourglass_top:", "warning")
    except SessionBusyError as e:
        if retry_of is not None:  # another tab's Retry is answering this very question
            return _Refused("", "This question is being answered in another tab or window.", ":material/sync:", "info")
        busy = _Refused.of(raw, str(e), ":material/hourglass_top:", "info")
        busy.busy = True
        return busy
    except SessionError as e:
        return _Refused.of(raw, f"**Message not sent.** {e}", ":material/block:")


def _draw_stop_button() -> None:
    """The Stop button: drawn (hidden) by every full run, shown while an answer streams.

    It must not belong to the conversation fragment: Streamlit lets a click inside a fragment
    wait until the fragment's run ends (here: until the answer is finished), while a click on
    a widget outside it interrupts the run at once, which is what stops the answer.
    """
    st.button("Stop answer", icon=":material/stop_circle:", key="stop-answer", type="secondary", on_click=_stop)


def _show_stop_button(session_id: str) -> DeltaGenerator:
    st.session_state[ANSWERING] = session_id
    st.session_state.pop(LEFT_ANSWERING, None)
    shown = st.empty()
    shown.html(ANSWERING_MARKER)
    return shown


def _stream(started: _Started) -> None:
    session, text, events = started.session, started.text, started.events
    # in the place, and drawn as, _draw_transcript draws it: the next send does not send it again
    turn_place = st.container(key=f"turn-{session.turn_count}")
    with turn_place, st.chat_message("user", avatar=USER_AVATAR):
        st.markdown(question_markdown(text), anchors=False)
    with turn_place, st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
        outcome = draw_answer(events, live_key="live-answer", controls=partial(_show_stop_button, session.id))
        finished, failure, under = outcome.finished, outcome.failure, outcome.controls
        if finished is not None and failure is None and session.turn_count > 0:
            # A later turn of a session: its footer, the spend and the session summary are drawn
            # here instead of running the whole script again (the title and the session list
            # change only with a session's first turn, which still reruns). The footer takes the
            # Stop marker's place.
            footer = (under if under is not None else st.empty()).container(
                horizontal=True, vertical_alignment="center", key=f"turn-footer-{finished.turn.idx}"
            )
            with footer:
                _turn_footer(session.id, finished.turn)
        elif under is not None:
            under.empty()
    started.streamed = True
    st.session_state.pop(ANSWERING, None)  # drawn to its end: nothing left for Stop here
    if finished is not None and failure is None and session.turn_count > 0:
        _fill_spend()
        if "summary" in SLOTS:
            SLOTS["summary"].caption(f"This session: {view.session_summary(finished.meta)}")
        return
    if failure is not None:
        st.session_state[FAILED] = {
            "session_id": session.id,
            "turn_count": session.turn_count,
            "text": text,
            "category": failure.category,
            "message": failure.message,
            "retryable": failure.retryable,
        }
    st.rerun()


def _draw_header() -> None:
    header = st.container(key="chat-header")
    with header:
        st.markdown(f"# {view.display_title(meta.title) if meta else UNTITLED}", anchors=False)
        with st.container(horizontal=True, gap="small"):
            if meta is not None:  # one whose conversation cannot be opened is not "Active" to its reader
                badge = view.state_badge("damaged" if doc is None else meta.state)
                st.badge(badge.label, icon=badge.icon, color=badge.color)
            # the session's own model; before a session starts, the one it will start with
            name = (meta.model if meta else picked_model(pickable)) or service.model_name
            shown = model_view(name)
            label = offered_label(name, service.offered_models)  # told apart as the picker does
            mbadge = view.model_badge(label, shown.is_offline, shown.is_local)
            st.badge(mbadge.label, icon=mbadge.icon, color=mbadge.color)


def _draw_flash() -> None:
    draw_notices(FLASH)


def _draw_continued_from(session: SessionMeta) -> None:
    """Where a continued session comes from (its conversation is the assistant's context here),
    with a button to open it: the page read like a new session's."""
    earlier: SessionMeta | None = None
    try:
        earlier = service.get_session(str(session.continued_from), user_id)
    except SessionNotFoundError:
        pass  # deleted since: said so
    except SessionError as e:  # the store is unreachable for a moment: nothing to say about it
        logger.warning("session_id=<%s>, error=<%s> | continued session not read", session.continued_from, e)
        return
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key="continued-from"):
        st.caption(f":material/history: {view.continued_note(earlier, session.model)}")
        if earlier is not None:
            st.button("Open it", key="open-continued-from", type="tertiary", on_click=_open, args=(earlier.id,))


# --------------------------------------------------------------------------- main
def _tab_connection() -> object | None:
    """This browser tab's connection (its websocket client), or None once it is gone.

    A tab that lost its connection reconnects to the same session with a new client, often
    before the interrupted run has ended: compared with the one the run began with, it tells
    a dropped connection from a click elsewhere, where the tab stays connected throughout.
    """
    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return None
    sessions = getattr(runtime.Runtime.instance(), "_session_mgr", None)  # AppTest's runtime has none
    if sessions is None:
        return None
    info = sessions.get_active_session_info(ctx.session_id)
    return info.client if info is not None else None


def _fragment_rerun() -> bool:
    """Whether this run is a rerun of the conversation fragment alone (not a full app run)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def _fill_sidebar() -> None:
    # Written on every run of the fragment: a fragment may refill a container drawn outside it
    # only when it wrote to it during the last full run (and what it wrote is its own).
    _fill_spend()
    if meta is not None and "summary" in SLOTS:
        SLOTS["summary"].caption(f"This session: {view.session_summary(meta)}")


def _keep_typed_message() -> None:
    """Keep a message sent just as its session changed elsewhere (renamed, completed, expired or
    deleted in another tab), for the app's run that follows: it was lost without a word.

    The session is still there: the run sends it, or refuses it with the reason (read-only).
    It is gone: the text goes back into the chat input, where sending starts a new session.
    """
    typed = st.session_state.get("chat-input")
    if not typed:
        return
    if meta is not None:
        st.session_state[PENDING] = {"session_id": meta.id, "text": str(typed)}
    else:
        st.session_state[REFUSED] = _Refused.of(
            str(typed),
            "**Message not sent.** It is back in the chat box: send it to start a new session.",
            ":material/block:",
            "warning",
        )


@st.fragment
def _conversation() -> None:
    """The main area: the chat input, the transcript and the answer being drawn.

    A fragment: a send, a click on an answer's controls or a starter reruns this function
    alone, not the whole app (sign-in, navigation, the sidebar's session list, actions and
    search), which was about a third of a send's websocket messages and script time. What
    the sidebar shows of the open session is compared first: when it no longer reads the
    same (another session opened, completed, renamed, deleted), the whole app reruns.
    """
    global KEPT
    if _fragment_rerun():
        if not still_signed_in(settings):
            st.rerun()  # the whole app: its sign-in gate says why and shows the sign-in card
        _load()
        if _sidebar_shows(meta) != SIDEBAR_SHOWS:
            _keep_typed_message()
            st.rerun()
    # Earlier answers the browser still shows are not sent again (ui.kept); AppTest draws every run whole.
    KEPT = kept.start(_fragment_rerun(), kept.container_path()) if _tab_connection() is not None else None
    ended = False
    try:
        _draw_conversation()
        ended = True
    finally:
        if KEPT is not None:
            KEPT.close(ended)
            KEPT = None


def _plain() -> AbstractContextManager[None]:
    """Plain elements drawn meanwhile stay on the page across the fragment's reruns (ui.kept)."""
    return KEPT.plain() if KEPT is not None else nullcontext()


def _draw_conversation() -> None:
    """The conversation fragment's drawing (see _conversation)."""
    global meta, doc, comparing, sending
    turns = build_display_turns(doc) if doc is not None else []
    pending: dict[str, Any] | None = st.session_state.get(PENDING)
    if pending and pending.get("session_id") != (meta.id if meta else None):
        st.session_state.pop(PENDING, None)
        pending = None

    # A refused send's text goes back into the input, to edit or send again (the browser clears
    # it on Enter); a paste over the length limit is not, its start is shown instead.
    held: _Refused | None = st.session_state.pop(REFUSED, None)
    if held is not None and not held.preview_only and not read_only:
        st.session_state["chat-input"] = held.text
        if held.meeting_id is not None:
            st.session_state[HELD_PREP] = {"text": held.text, "meeting_id": held.meeting_id}
    # Pinned to the bottom; calling it first tells the page whether this run sends something
    # before anything is drawn.
    prompt = pinned_chat_input(
        ("This session cannot be opened" if doc is None else "This session is read-only")
        if read_only
        else "Ask about your meetings, budget or priorities…",
        disabled=read_only,
        submit_mode="disable",
        key="chat-input",
    )
    to_send: str | None = None
    bound_meeting: str | None = None
    retry_of: int | None = None
    if prompt is not None and not read_only:
        to_send = str(prompt)
        prep = st.session_state.pop(HELD_PREP, None)
        if prep is not None and meta is None and prep["text"] == to_send:  # a refused Prepare, sent again
            bound_meeting = prep["meeting_id"]
    elif pending:
        st.session_state.pop(PENDING, None)
        to_send = str(pending["text"])
        bound_meeting = pending.get("meeting_id")
        retry_of = pending.get("retry_of")
    sending = to_send is not None
    if to_send is not None:
        st.session_state.pop(FAILED, None)
        _fold_long_transcript(turns, meta.id if meta else "")

    # Start the answer before drawing anything else: the model works while the page draws.
    outcome = _start_send(meta, to_send, bound_meeting, retry_of) if to_send is not None else None
    if isinstance(outcome, _Refused):  # drawn by the rerun, which puts the text back in the input
        if bound_meeting is not None and meta is None:
            outcome.meeting_id = bound_meeting
        st.session_state[REFUSED] = outcome
        st.rerun(scope="fragment" if _fragment_rerun() else "app")
    started = outcome if isinstance(outcome, _Started) else None
    connection = _tab_connection()
    comparing = None
    # From here on a Stop or a click elsewhere may end this run at any Streamlit call: the answer
    # started above is closed by the finally below (left to the garbage collector, it was noted
    # as a reload).
    try:
        if started is not None:
            if meta is None:
                st.query_params["session"] = started.session.id
                # nothing stored yet, which is not a conversation that cannot be read: its header
                # read "Cannot be opened" above "Start a new session" while the first answer was written
                doc = SessionDocument(meta=started.session)
            meta = started.session
        with _plain():
            _fill_sidebar()  # on every run: left out, it would fade as stale while an answer streams
        # "Ask another model" clicked: the branch starts answering before the page draws, like a send
        comparing = take_comparison(service, user_id, identity.email, meta.id if meta else None, browser_zone())
        if header_in_fragment:
            _draw_header()
        _draw_flash()
        if meta is not None and meta.continued_from:
            _draw_continued_from(meta)
        if not turns and not failed and answering_elsewhere is None and to_send is None and not read_only:
            # One container for all of it: a first send draws its question in its place, so no
            # starter or prep card is left on the page (stale, yet clickable) while it is answered.
            with st.container(key="welcome-area"):
                _draw_welcome()
        with _plain():
            _draw_transcript(turns, meta.id if meta else "")
        if failed and to_send is None:
            _draw_failed(failed)
        elif answering_elsewhere is not None and to_send is None:
            _draw_answering_elsewhere(answering_elsewhere)
        if meta is not None and doc is None:  # _current said why it cannot be shown
            st.button(
                "Start a new session",
                icon=":material/add_comment:",
                type="primary",
                key="unopenable-new-session",
                on_click=_open,
                args=(None,),
            )
        elif meta is not None and read_only:
            with st.container(key="read-only"):
                st.info(model_note or view.read_only_notice(meta), icon=":material/lock:")
                st.button(
                    "Continue in a new session",
                    icon=":material/arrow_forward:",
                    type="primary",
                    key="continue-session",
                    on_click=_continue,
                    args=(meta.id,),
                )
        if held is not None:
            if held.busy and answering_elsewhere is None:  # that answer ended meanwhile: it is above
                held.reason = (
                    "Not sent while another answer was being written. The other answer is above now: send yours again."
                )
            _refuse(held)
        if started is not None:
            with _plain():
                _stream(started)
    finally:
        # Interrupted runs land here too: Stop, a click elsewhere (the sidebar's search, rename,
        # another session; with runner.fastReruns on the same connection), a reload, a closed
        # page or a lost connection. Only Stop stops the answer: the rest leave it to be read
        # to its end on a thread of its own and stored whole. The next run shows it as being
        # answered, the rest as it comes, then whole. Stop's own callback runs at the start of
        # the next run, after this, so the answer is not stopped here; its session stays in
        # ANSWERING for that callback (the next full run reads it after its callbacks). Cutting
        # it here cost a reader the answer for a search typed, a session glanced at or a blip.
        # Nothing Streamlit comes first: under a StopException the first st call raises it again.
        user_stopped = not isinstance(sys.exc_info()[1], StopException) or (
            connection is not None and _tab_connection() is connection
        )
        if started is not None and not started.streamed:  # streamed: draw_answer read it to its end
            finish_unread(started.events)
        if isinstance(comparing, Branch):  # the other model's answer: a click elsewhere stops it (a no-op once stored)
            if not user_stopped:
                finish_unread(comparing.started.events)
            else:
                service.stop(comparing.branch_id)
                comparing.started.events.close()


SIDEBAR_SHOWS = _sidebar_shows(meta)
with st.sidebar:
    _sidebar()
_draw_stop_button()
follow_newest_answer()
# An open session's header changes only with what makes a fragment rerun the app (its title,
# its state): drawn once per full run. Before a session starts it shows the model picked in
# the welcome (a widget of the fragment), so the fragment draws it then.
header_in_fragment = meta is None
if not header_in_fragment:
    _draw_header()
with kept.watch() if _tab_connection() is not None else nullcontext():  # AppTest draws every run whole
    _conversation()
with st.sidebar:
    _session_list()
