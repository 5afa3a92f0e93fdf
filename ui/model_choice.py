"""The chat page's model choice: the picker for a new session, and "Ask another model" on an answer.

Both appear only when there is something to choose (more than one model offered to the user);
with one model the chat page looks as before. The comparison itself (which turn, the branch
session, both turns' figures) is :mod:`assistant.chat.compare`; this module only draws it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from assistant.chat import (
    ChatEvent,
    ChatInputError,
    ChatService,
    DisplayTurn,
    LimitExceededError,
    SessionBusyError,
)
from assistant.chat.compare import Branch, Side, gather, start_comparison
from assistant.sessions.base import SessionError
from assistant.views import conversation as view
from assistant.views.compare import CONTEXT_NOTES, SideView, comparison_views, figures_markdown, side_view
from assistant.views.markdown import screen_markdown
from assistant.views.models import model_option
from ui.components import draw_step
from ui.streaming import draw_answer

logger = logging.getLogger("assistant.pages.chat")

MODEL_PICK = "chat_model_pick"  # the model the next new session answers with (remembered across sessions)
PICKER = "model-picker"
COMPARE = "chat_compare"  # {"session_id", "turn_idx", "model"}: an "Ask another model" queued by its button
COMPARED = "chat_compared"  # {session_id: {turn_idx: branch_id}}: comparisons drawn under their answers
ANSWER_HEIGHT = 380  # both answers scroll in boxes of one height, so the figures below them line up


@dataclass(frozen=True)
class CompareRefused:
    """An "Ask another model" that was refused before anything was written (drawn under the answer)."""

    turn_idx: int
    text: str


def option_label(service: ChatService, name: str) -> str:
    """A model as the pickers offer it: label and price per million tokens."""
    return model_option(name, service.prices, admin_only=service.is_admin_only(name), offered=service.offered_models)


# --------------------------------------------------------------------------- new session
def picked_model(pickable: list[str]) -> str | None:
    """The model a new session starts with: the user's last pick, or the default; None with nothing to pick."""
    if len(pickable) < 2:
        return None
    chosen = st.session_state.get(MODEL_PICK)
    return chosen if chosen in pickable else pickable[0]


def _remember_pick() -> None:
    st.session_state[MODEL_PICK] = st.session_state.get(PICKER)


def model_picker(service: ChatService, pickable: list[str]) -> None:
    """The compact model select shown when a session starts (only with more than one model to pick)."""
    current = picked_model(pickable)
    if current is None:
        return
    st.selectbox(
        "Model for this session",
        pickable,
        index=pickable.index(current),
        format_func=lambda name: option_label(service, name),
        key=PICKER,
        on_change=_remember_pick,
        help="The session keeps this model. Prices are per million input/output tokens.",
        width=440,
    )


# --------------------------------------------------------------------------- ask another model
def _queue_compare(session_id: str, turn_idx: int, key: str) -> None:
    st.session_state[COMPARE] = {"session_id": session_id, "turn_idx": turn_idx, "model": st.session_state.get(key)}
    st.session_state[f"compare-{session_id}-{turn_idx}"] = False  # close the popover: the panel shows the answer


def compare_popover(service: ChatService, session_id: str, turn_idx: int, choices: list[str]) -> None:
    """The small "Ask another model" control in an answer's footer (nothing when there is no other model)."""
    if not choices:
        return
    with st.popover(
        "Ask another model",
        icon=":material/compare_arrows:",
        type="tertiary",
        key=f"compare-{session_id}-{turn_idx}",
        on_change="rerun",  # its open state is kept, so Ask can close it
    ):
        st.caption(
            "Ask this question again on another model, in a new session (this one stays as it is), "
            "and see both answers side by side with their tokens, cost and timings."
        )
        key = f"compare-model-{session_id}-{turn_idx}"
        st.selectbox("Model", choices, format_func=lambda name: option_label(service, name), key=key)
        st.button(
            "Ask",
            icon=":material/send:",
            type="primary",
            key=f"compare-ask-{session_id}-{turn_idx}",
            on_click=_queue_compare,
            args=(session_id, turn_idx, key),
        )


def take_comparison(
    service: ChatService, user_id: str, user_email: str | None, session_id: str | None, tz: ZoneInfo
) -> Branch | CompareRefused | None:
    """Start the comparison queued by an "Ask" click for this session (the branch answers while the page draws)."""
    request = st.session_state.pop(COMPARE, None)
    if not request or session_id is None or request.get("session_id") != session_id:
        return None
    turn_idx = int(request["turn_idx"])
    try:
        return start_comparison(
            service, user_id, session_id, turn_idx, str(request["model"]), user_email=user_email, tz=tz
        )
    except LimitExceededError as e:  # with when it frees up, in the reader's zone, as a refused send says it
        when = view.retry_at_text(e.retry_at, service.clock(), tz)
        return CompareRefused(turn_idx, f"**Not asked.** {e.reason}" + (f" {when}" if when else ""))
    except (ChatInputError, ValueError, SessionBusyError, SessionError) as e:
        return CompareRefused(turn_idx, f"**Not asked.** {e}")


def _forget(session_id: str, turn_idx: int) -> None:
    st.session_state.get(COMPARED, {}).get(session_id, {}).pop(turn_idx, None)


def draw_comparison(
    service: ChatService,
    user_id: str,
    item: DisplayTurn,
    session_id: str,
    *,
    live: Branch | None,
    refused: CompareRefused | None,
    on_open: Callable[[str], None],
) -> None:
    """Under one answer: its comparison (streaming now, or drawn from the store), or why it was refused."""
    turn_idx = item.turn.idx
    if refused is not None and refused.turn_idx == turn_idx:
        st.warning(refused.text, icon=":material/block:")
    if live is not None and live.turn_idx == turn_idx:
        _stream_comparison(service, item, session_id, live)
        return
    branch_id = st.session_state.get(COMPARED, {}).get(session_id, {}).get(turn_idx)
    if branch_id is None:
        return
    try:
        comparison = gather(service, user_id, session_id, turn_idx, branch_id)
    except (SessionError, ValueError) as e:  # the branch was deleted meanwhile: nothing to compare
        logger.info("session_id=<%s>, branch=<%s>, error=<%s> | comparison not shown", session_id, branch_id, e)
        _forget(session_id, turn_idx)
        return
    left, right = comparison_views(comparison)
    with _panel(turn_idx, CONTEXT_NOTES[comparison.context]):
        first, second = st.columns(2, gap="medium")
        with first:
            _side(left, "This session", comparison.original.answer)
        with second:
            _side(right, "New session", comparison.other.answer)
        st.markdown(figures_markdown(left, right))
        with st.container(horizontal=True, gap="small"):
            st.button(
                "Open the new session",
                icon=":material/open_in_new:",
                key=f"compare-open-{turn_idx}",
                on_click=on_open,
                args=(branch_id,),
            )
            st.button(
                "Hide",
                icon=":material/close:",
                type="tertiary",
                key=f"compare-hide-{turn_idx}",
                on_click=_forget,
                args=(session_id, turn_idx),
            )


def _panel(turn_idx: int, note: str) -> DeltaGenerator:
    panel = st.container(border=True, key=f"comparison-{turn_idx}")
    with panel:
        st.markdown(":material/compare_arrows: **Same question, two models**")
        st.caption(note)
    return panel


def _badge(label: str, is_offline: bool, is_local: bool = False) -> None:
    badge = view.model_badge(label, is_offline, is_local)
    st.badge(badge.label, icon=badge.icon, color=badge.color)


def _side(shown: SideView, where: str, answer: DisplayTurn | None) -> None:
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        _badge(shown.label, shown.is_offline, shown.is_local)
        st.caption(where)
    failed = (answer is None or not answer.parts) and not shown.figures and shown.note is not None
    with st.container(height=ANSWER_HEIGHT, border=True):
        if failed:
            # not answered: why, where the answer would be (as while it streamed), said once
            st.error(shown.note, icon=":material/error:")
        elif answer is None or not answer.parts:
            st.caption("(no answer text)")
        else:
            for kind, part in answer.parts:
                if kind == "text":
                    st.markdown(screen_markdown(str(part)), anchors=False)
                else:
                    draw_step(part)
    if shown.note and not failed:
        st.caption(shown.note)


def _stream_comparison(service: ChatService, item: DisplayTurn, session_id: str, live: Branch) -> None:
    """Both columns while the other model answers: the stored answer left, the new one streaming right."""
    events = live.started.events
    ended = False
    try:
        with _panel(item.turn.idx, CONTEXT_NOTES[live.context]):
            first, second = st.columns(2, gap="medium")
            with first:
                _side(side_view(Side(session_id, item.turn.model, item.turn, item)), "This session", item)
            with second:
                other = side_view(Side(live.branch_id, live.model, None))
                with st.container(horizontal=True, gap="small", vertical_alignment="center"):
                    _badge(other.label, other.is_offline, other.is_local)
                    st.caption("New session")
                with st.container(height=ANSWER_HEIGHT, border=True):
                    ended = _stream_answer(events)
        st.session_state.setdefault(COMPARED, {}).setdefault(session_id, {})[item.turn.idx] = live.branch_id
    finally:
        events.close()  # interrupted (a click elsewhere): the branch keeps what was written, marked stopped
    if ended:
        st.rerun()  # both answers with their stored figures, or why the other failed and the way to its Retry


def _stream_answer(events: Iterator[ChatEvent]) -> bool:
    """Draw a streaming answer (text, tool steps); True when it ended (stored, or failed), False when cut off."""
    outcome = draw_answer(events)
    if outcome.failure is not None:
        st.error(outcome.failure.message, icon=":material/error:")
    return outcome.finished is not None or outcome.failure is not None
