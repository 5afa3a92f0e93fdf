"""A bare Streamlit chat page: the baseline of ``bench/load.py`` and ``bench/cold_start.py``.

``st.chat_input``, the history in ``st.chat_message`` and the answer streamed with
``st.write_stream`` (~30 words), nothing else: what Streamlit itself costs per send and per
start. Served the same way as the app (``streamlit run bench/bare_chat.py`` from the
repository root, so with the same ``.streamlit/config.toml``). ``BARE_CHUNK_DELAY_S`` and
``BARE_FIRST_TOKEN_DELAY_S`` pace the stream like the offline model (0 by default, as the
load bench's zero-delay run).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import streamlit as st

TEXT = (
    "You have three meetings this week: the Acme QBR on Tuesday, the budget review on "
    "Wednesday and the hiring sync on Friday. I can prepare an agenda or questions for any "
    "of them."
)
ANSWER = TEXT.split()  # ~30 words
CHUNK_DELAY_S = float(os.environ.get("BARE_CHUNK_DELAY_S", "0"))
FIRST_TOKEN_DELAY_S = float(os.environ.get("BARE_FIRST_TOKEN_DELAY_S", "0"))


def _answer() -> Iterator[str]:
    if FIRST_TOKEN_DELAY_S:
        time.sleep(FIRST_TOKEN_DELAY_S)
    for i, word in enumerate(ANSWER):
        if CHUNK_DELAY_S:
            time.sleep(CHUNK_DELAY_S)
        yield word if i == 0 else " " + word


st.set_page_config(page_title="Bare chat")
history: list[tuple[str, str]] = st.session_state.setdefault("history", [])
for role, text in history:
    with st.chat_message(role):
        st.markdown(text)
prompt = st.chat_input("Ask something", submit_mode="disable", key="chat-input")
if prompt:
    history.append(("user", prompt))
    with st.chat_message("user"):
        st.markdown(prompt)
    with st.chat_message("assistant"), st.container(key="live-answer"):
        answer = st.write_stream(_answer())
    history.append(("assistant", str(answer)))
