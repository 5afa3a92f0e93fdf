"""Streamlit drawing shared by the pages: a stored transcript's turns and tool steps, and the
reader's time zone for clock times.

The chat page and the sessions page's detail both draw stored turns the same way; only the
tool-step container (a status box in chat, an expander in the detail) and the footer row
(editable feedback in chat, read-only feedback in the detail) differ, and each page passes those.
Wording and formatting come from :mod:`assistant.views.conversation`. This is page glue: ``assistant/``
never imports streamlit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st
from streamlit.delta_generator_singletons import context_dg_stack

from assistant.chat import DisplayTurn
from assistant.sessions.base import ToolStep, TurnRecord
from assistant.views import conversation as view
from assistant.views.format import resolve_zone
from assistant.views.markdown import pretty_json, safe_markdown, without_unfinished_line

NOT_FOUND = "That session was not found. It may have been deleted, or it belongs to someone else."
USER_AVATAR = ":material/person:"
ASSISTANT_AVATAR = ":material/support_agent:"


def browser_zone() -> ZoneInfo:
    """The reader's time zone (``st.context.timezone``), UTC when the browser sent none or an unknown one."""
    return resolve_zone(st.context.timezone)


def pinned_chat_input(placeholder: str, **kwargs: Any) -> str | None:
    """``st.chat_input`` pinned to the bottom of the page the way Streamlit pins it from the
    app's body, also when called inside a fragment.

    Inside a fragment (whose content Streamlit wraps in a container) ``st.chat_input`` is drawn
    in place, and ``st.bottom.chat_input`` is drawn at the bottom but not marked as pinned: the
    browser then no longer keeps the newest message in view while an answer streams. Called
    with the main area as the only open container, Streamlit pins it itself; the fragment writes
    it into the bottom container through the wrapper it keeps for containers outside it.
    """
    token = context_dg_stack.set(context_dg_stack.get()[:1])
    try:
        value = st.chat_input(placeholder, **kwargs)
    finally:
        context_dg_stack.reset(token)
    return None if value is None else str(value)


def step_input(value: Any) -> None:
    """A tool step's "Input" section (its arguments as JSON), one element."""
    st.markdown(step_input_markdown(value))


def step_result(text: str | None) -> None:
    """A tool step's "Result" section, one element."""
    st.markdown(step_result_markdown(text))


def step_input_markdown(value: Any) -> str:
    """A tool step's "Input" section as Markdown: a small grey label and the arguments as a JSON block.

    Each section is one element rather than a caption and a block: a long session redraws every
    stored step on each script run, and each element is a websocket message.
    """
    code = pretty_json(value)
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)  # longer than any run of backticks in the JSON
    return f":gray[:small[Input]]\n\n{fence}json\n{code}\n{fence}"


def step_result_markdown(text: str | None) -> str:
    """A tool step's "Result" section as Markdown: a small grey label and the (escaped) result."""
    return f":gray[:small[Result]]\n\n{safe_markdown(text or '(no result)')}"


def step_body(input_markdown: str, result: str | None) -> str:
    """A finished tool step's content as one Markdown element: its input section, then its result."""
    return f"{input_markdown}\n\n{step_result_markdown(result)}"


def step_icon(status: str) -> str:
    """The icon of a finished tool step: failed, or done."""
    return ":material/error:" if status == "error" else ":material/check_circle:"


def draw_step(step: ToolStep) -> None:
    """One stored tool step, collapsed, with a done or failed icon.

    An expander rather than ``st.status``: Streamlit pauses 50 ms per status box it creates,
    which made every rerun of a long session wait on its stored steps.
    """
    label = view.tool_label(step.name, step.status, step.duration_ms)
    with st.expander(label, icon=step_icon(step.status)):
        st.markdown(step_body(step_input_markdown(step.input), step.result))


def draw_turn(
    item: DisplayTurn,
    *,
    footer_key: str,
    footer: Callable[[TurnRecord], None],
) -> None:
    """One stored turn: the user's message, then the answer's text and tool steps in order,
    a stopped note, and a footer row keyed ``f"{footer_key}-{turn.idx}"`` that ``footer`` fills."""
    turn = item.turn
    with st.chat_message("user", avatar=USER_AVATAR):
        st.markdown(safe_markdown(item.user_text))
    with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
        last_text = max((i for i, (kind, _) in enumerate(item.parts) if kind == "text"), default=-1)
        for i, (kind, part) in enumerate(item.parts):
            if kind == "text":
                text = str(part)
                if i == last_text and turn.status == "stopped":
                    text = without_unfinished_line(text)  # a lone "-" it stopped at is no heading underline
                st.markdown(safe_markdown(text))
            else:
                draw_step(part)
        if not item.parts:
            st.caption("(no answer text)")
        note = view.stopped_note(turn)
        if note:
            st.caption(f":material/stop_circle: {note}")
        with st.container(horizontal=True, vertical_alignment="center", key=f"{footer_key}-{turn.idx}"):
            footer(turn)
