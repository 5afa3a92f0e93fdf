"""Entry point: load Settings, sign the user in, then run the selected page."""

from __future__ import annotations

import streamlit as st

from assistant.config import ConfigError, get_settings
from assistant.log import setup_logging

st.set_page_config(page_title="Executive Assistant", page_icon=":material/event_available:", layout="wide")

try:
    settings = get_settings()
except ConfigError as e:
    st.error(f"The app is not configured correctly: {e}")
    st.stop()

setup_logging(settings.log_level)

from app_pages.auth_gate import render_identity_sidebar, require_identity  # noqa: E402

pages = [
    st.Page("app_pages/chat.py", title="Chat", icon=":material/forum:", default=True, url_path="chat"),
    st.Page("app_pages/sessions.py", title="Sessions & cost", icon=":material/insights:", url_path="sessions"),
]
identity = require_identity(settings, pages=pages)
st.session_state["identity"] = identity

nav = st.navigation(pages)
render_identity_sidebar(identity, settings)
nav.run()
