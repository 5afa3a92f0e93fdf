"""Chat page: thin drawing of ChatService sessions and events (no business logic here)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from assistant.chat import (
    ChatInputError,
    ChatService,
    Done,
    ErrorEvent,
    LimitExceededError,
    SessionBusyError,
    TextDelta,
    ToolFinished,
    ToolStarted,
    build_display_turns,
)
from assistant.config import get_settings
from assistant.factory import get_chat_service
from assistant.models.registry import describe_model
from assistant.render import pretty_json, safe_markdown
from assistant.sessions.base import SessionError, SessionMeta, SessionNotFoundError, ToolStep

settings = get_settings()
identity = st.session_state["identity"]
user_id: str = identity.user_id
service: ChatService = get_chat_service(settings)
model_info = describe_model(service.model_name)


def _open(session_id: str | None) -> None:
    if session_id:
        st.query_params["session"] = session_id
    else:
        st.query_params.pop("session", None)
    st.session_state.pop("pending_error", None)


def _current() -> SessionMeta | None:
    sid = st.query_params.get("session")
    if not sid:
        return None
    try:
        return service.get_session(sid, user_id)
    except SessionNotFoundError:
        st.error("That session was not found. It may have been deleted, or it belongs to someone else.")
        st.query_params.pop("session", None)
        return None


def _draw_step(step: ToolStep) -> None:
    icon = "✅" if step.status == "success" else "⚠️"
    took = f" · {step.duration_ms:.0f} ms" if step.duration_ms is not None else ""
    with st.expander(f"{icon} `{step.name}`{took}", expanded=False):
        st.caption("Input")
        st.code(pretty_json(step.input), language="json")
        st.caption("Result")
        st.markdown(safe_markdown(step.result or "(no result)"))


def _draw_turn_footer(turn: Any) -> None:
    cost = "unknown cost" if turn.cost_usd is None else f"${turn.cost_usd:.4f}"
    ttft = f" · first token {turn.ttft_ms / 1000:.2f} s" if turn.ttft_ms is not None else ""
    st.caption(f"{turn.input_tokens:,} in · {turn.output_tokens:,} out tokens · {cost}{ttft}")


meta = _current()

with st.sidebar:
    if st.button("New session", icon=":material/add:", use_container_width=True, type="primary"):
        _open(None)
        st.rerun()
    sessions, _total = service.list_sessions(user_id, limit=30)
    for s in sessions:
        label = s.title if len(s.title) < 40 else s.title[:39] + "…"
        if st.button(
            label,
            key=f"open-{s.id}",
            use_container_width=True,
            type="tertiary" if not meta or s.id != meta.id else "secondary",
        ):
            _open(s.id)
            st.rerun()

title = meta.title if meta else "New session"
st.title(title)
if model_info.is_offline:
    st.caption(":material/science: Answers come from the **offline demo model** (scripted, no AWS, $0).")
else:
    st.caption(f"Model: {model_info.label}")

if meta is not None:
    try:
        doc = service.open_session(meta.id, user_id)
    except SessionError as e:
        st.error(str(e))
        st.stop()
    for turn in build_display_turns(doc):
        with st.chat_message("user"):
            st.markdown(safe_markdown(turn.user_text))
        with st.chat_message("assistant"):
            for kind, part in turn.parts:
                if kind == "text":
                    st.markdown(safe_markdown(part))
                else:
                    _draw_step(part)
            if turn.turn.status == "stopped":
                st.caption(f":material/stop_circle: {turn.turn.error or 'Stopped.'}")
            _draw_turn_footer(turn.turn)

prompt = st.chat_input("Ask about your meetings, budget or priorities…", disabled=bool(meta and meta.read_only))
if prompt is not None:
    try:
        text = service.validate_message(prompt)
        if meta is None:
            meta = service.create_session(user_id, user_email=getattr(identity, "email", None))
            st.query_params["session"] = meta.id
        events = service.send_sync(meta.id, user_id, text)
    except (ChatInputError, LimitExceededError, SessionBusyError, SessionError) as e:
        st.error(str(e))
        st.stop()
    with st.chat_message("user"):
        st.markdown(safe_markdown(text))
    with st.chat_message("assistant"):
        buffer = ""
        slot = st.empty()
        steps: dict[str, Any] = {}
        failed: ErrorEvent | None = None
        for event in events:
            if isinstance(event, TextDelta):
                buffer += event.text
                slot.markdown(safe_markdown(buffer) + " ▌")
            elif isinstance(event, ToolStarted):
                if buffer:
                    slot.markdown(safe_markdown(buffer))
                buffer = ""
                steps[event.tool_use_id] = st.status(f"Running `{event.name}`…", expanded=False)
                slot = st.empty()
            elif isinstance(event, ToolFinished):
                box = steps.get(event.tool_use_id)
                if box is not None:
                    box.update(
                        label=f"`{event.name}` · {event.duration_ms:.0f} ms",
                        state="complete" if event.status == "success" else "error",
                    )
            elif isinstance(event, ErrorEvent):
                failed = event
            elif isinstance(event, Done):
                slot.markdown(safe_markdown(buffer))
        if failed is not None:
            st.error(failed.message)
        else:
            st.rerun()
