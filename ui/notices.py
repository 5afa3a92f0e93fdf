"""Notices after an action ("Meeting type saved", "Session deleted", or why it was not done).

An action's callback calls :func:`notify`; the next run draws the notice where the page calls
:func:`draw_notices` with the same key. A notice is drawn on every run of the next
:data:`HOLD_SECONDS`, not on the next run only: the browser sometimes sends one change twice (the
data editor sends a cell's edit on Enter and again as its editor closes, ~0.4 s later), and the
second run, which changes nothing, removed a notice the reader had not had time to see. Once no
run follows, a notice stays on the page until the next run after its hold.
"""

from __future__ import annotations

import time
from typing import Literal

import streamlit as st

HOLD_SECONDS = 5.0

Kind = Literal["success", "warning", "error"]


def notify(key: str, kind: Kind, text: str) -> None:
    """Keep a notice for the next runs that draw ``key`` (the same text twice is one notice)."""
    held = [n for n in st.session_state.get(key, []) if n[1] != text]
    st.session_state[key] = [*held, (kind, text, time.monotonic() + HOLD_SECONDS)]


def clear_notices(key: str) -> None:
    """Forget the notices kept for ``key`` (a notice about to be given replaces what they said)."""
    st.session_state.pop(key, None)


def draw_notices(key: str) -> None:
    """Draw the notices kept for ``key``; each is dropped after the first run past its hold."""
    notices = st.session_state.get(key, [])
    now = time.monotonic()
    kept = [n for n in notices if n[2] > now]
    if kept:
        st.session_state[key] = kept
    else:
        st.session_state.pop(key, None)
    for kind, text, _until in notices:
        if kind == "success":
            st.success(text, icon=":material/check_circle:")
        elif kind == "warning":
            st.warning(text, icon=":material/warning:")
        else:
            st.error(text, icon=":material/error:")
