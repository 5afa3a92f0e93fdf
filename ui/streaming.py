"""One drawer for an answer while it streams: the chat page's send and "Ask another model".

The answer's text is drawn in one placeholder per text run with a cursor, tool steps as
expanders like a stored answer's (input while running, with a spinner; result, duration and a
done or failed icon when done). Text is sent to the
browser at most every :data:`FLUSH_EVERY_S` (the first piece at once, the whole text when a
tool starts and when the answer ends): a model streams a token every few milliseconds, and
redrawing the whole text for each token was most of a send's websocket messages and render
work while the reader sees no difference at that pace. The "Thinking…" note is replaced by the
first text or tool step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from assistant.chat import ChatEvent, Done, ErrorEvent, TextDelta, ToolFinished, ToolStarted
from assistant.views import conversation as view
from assistant.views.markdown import screen_markdown, without_unfinished_line
from ui.components import step_body, step_icon, step_input_markdown

CURSOR = " ▍"
FLUSH_EVERY_S = 0.05  # text reaches the browser ~20 times a second while it streams


# What an answer draws whose code the browser fetches the first time it is drawn: a code block
# (a tool step's Input), Markdown with an emoji shortcode, the thumbs. Drawn hidden on every page.
_WARM_UP_MARKDOWN = ':material/check: :smile:\n\n```json\n{"a": 1}\n```'


def _as_it_comes(text: str) -> str:
    """An answer's text so far, with the cursor: the bold or inline code its last line has opened
    drawn closed, a last line of only a list or heading marker left for the next draw. ("**Board"
    showed its asterisks until the closing pair came, and a lone "-" drew an empty bullet.)"""
    return screen_markdown(without_unfinished_line(text, close_fence=False)) + CURSOR


def load_answer_code() -> None:
    """Have the browser fetch, on page load, the code that draws an answer's elements.

    Streamlit fetches an element's code the first time one is drawn and shows a grey box in its
    place meanwhile: the first answer after opening the app flashed grey boxes where its tool
    step, its text and its thumbs were about to be, and moved as each arrived. Hidden copies drawn
    with the page (``.st-key-ea-warm-up``, hidden by the pages' shared style) load it ahead.
    """
    with st.container(key="ea-warm-up"):
        st.markdown(_WARM_UP_MARKDOWN)
        st.feedback("thumbs", key="ea-warm-up-thumbs", disabled=True)


@dataclass
class StreamOutcome:
    """How a streamed answer ended: ``finished`` (stored), ``failure``, or neither (the stream ended early).

    ``controls`` is the placeholder of what ``controls`` drew under the answer, still showing it:
    the caller puts the answer's footer in its place, or empties it.
    """

    finished: Done | None = None
    failure: ErrorEvent | None = None
    controls: DeltaGenerator | None = None


def draw_answer(
    events: Iterable[ChatEvent],
    *,
    live_key: str | None = None,
    controls: Callable[[], DeltaGenerator] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> StreamOutcome:
    """Draw ``events`` as they come, in the current container; return how the answer ended.

    Args:
        events: The turn's events (closing them is the caller's: it stops the answer).
        live_key: Key of the container the answer is drawn in (tests and benches find it by it).
        controls: Draws what stays under the answer while it streams (the Stop button) and
            returns its placeholder (``StreamOutcome.controls``).
        clock: Seconds, for the text's pacing.
    """
    outcome = StreamOutcome()
    live = st.container(key=live_key)
    outcome.controls = controls() if controls is not None else None
    # "Thinking…" until the first text or tool step, which takes its place (one message, not two)
    first: DeltaGenerator | None = live.empty()
    first.caption(":material/pending: Thinking…")  # type: ignore[union-attr]
    steps: dict[str, tuple[DeltaGenerator, str]] = {}  # tool_use_id -> (its placeholder, its input section)
    buffer = ""
    slot: DeltaGenerator | None = None
    drawn = ""  # the text the slot shows (without the cursor)
    sent_at = 0.0
    for event in events:
        with live:
            if isinstance(event, TextDelta):
                buffer += event.text
                if slot is None:
                    slot, first = first if first is not None else st.empty(), None
                if clock() - sent_at >= FLUSH_EVERY_S or not drawn:
                    slot.markdown(_as_it_comes(buffer), anchors=False)
                    drawn, sent_at = buffer, clock()
            elif isinstance(event, ToolStarted):
                if slot is not None:
                    slot.markdown(screen_markdown(buffer), anchors=False)
                slot, buffer, drawn = None, "", ""
                # An expander in a placeholder, redrawn when the step ends (not st.status, which
                # pauses the page 50 ms when created and 50 ms more when updated).
                box, first = first if first is not None else st.empty(), None
                shown = step_input_markdown(event.input)
                with box.expander(view.tool_label(event.name, "running", None), icon="spinner"):
                    st.markdown(shown, anchors=False)
                steps[event.tool_use_id] = (box, shown)
            elif isinstance(event, ToolFinished):
                if event.tool_use_id in steps:
                    box, shown = steps[event.tool_use_id]
                    label = view.tool_label(event.name, event.status, event.duration_ms)
                    with box.expander(label, icon=step_icon(event.status)):
                        st.markdown(step_body(shown, event.summary), anchors=False)
            elif isinstance(event, ErrorEvent):
                outcome.failure = event
            elif isinstance(event, Done):
                outcome.finished = event
    if slot is not None:  # the whole text, without the cursor
        slot.markdown(screen_markdown(buffer), anchors=False)
    if first is not None:  # neither text nor a tool step came
        first.empty()
    return outcome
