"""Sessions & cost page (thin): renders queries from assistant.sessions / assistant.usage."""

from __future__ import annotations

import streamlit as st

from assistant.config import get_settings
from assistant.factory import get_chat_service

settings = get_settings()
identity = st.session_state["identity"]
service = get_chat_service(settings)

st.title("Sessions & cost")
sessions, total = service.list_sessions(identity.user_id, limit=100)
if not sessions:
    st.info("No sessions yet.")
    st.page_link("pages/chat.py", label="Start your first session", icon=":material/forum:")
for s in sessions:
    st.page_link("pages/chat.py", label=f"{s.title} · {s.state} · {s.turn_count} turns", query_params={"session": s.id})
