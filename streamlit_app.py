"""Entry point of ``streamlit run streamlit_app.py``; this file plays two roles.

* Run as the page script (``__main__``) for every browser session: load Settings, sign the
  user in, then run the selected page.
* Imported as the module ``streamlit_app`` by ``streamlit run``, which finds ``app`` (an
  ``st.App``, Streamlit's supported way to add middleware) and serves it with uvicorn. That
  server adds the security headers to every HTTP response.
"""

from __future__ import annotations

import streamlit as st

# Sent on every HTTP response (page, static files, health, components). Checked in Chromium
# against Streamlit 1.67 (chat with tool steps, sessions table, Plotly dashboard: no violation;
# the sign-in browser tests pass): its index.html, emotion/Plotly styles and the sign-in
# cookie's script are inline ('unsafe-inline'); its protobuf decoder is WebAssembly ('wasm-unsafe-eval', not the
# wider 'unsafe-eval'); the favicon (a Material icon) comes from fonts.gstatic.com. Images
# load only from the app, data: and blob: (model output can link out, never load an image:
# assistant/render.py). The websocket is same-origin: 'self', plus ws:/wss: for browsers where
# 'self' does not cover it. frame-ancestors 'self': only the app frames itself (components).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https://fonts.gstatic.com",
        "font-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "frame-src 'self'",
        "frame-ancestors 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def main() -> None:
    """One run of the app script: settings, sign-in gate, navigation, the selected page."""
    from assistant.config import ConfigError, get_settings
    from assistant.log import setup_logging

    st.set_page_config(page_title="Executive Assistant", page_icon=":material/event_available:", layout="wide")

    try:
        settings = get_settings()
    except ConfigError as e:
        st.error(f"The app is not configured correctly: {e}")
        st.stop()

    setup_logging(settings.log_level)

    from app_pages.auth_gate import render_identity_sidebar, require_identity

    pages = [
        st.Page("app_pages/chat.py", title="Chat", icon=":material/forum:", default=True, url_path="chat"),
        st.Page("app_pages/sessions.py", title="Sessions & cost", icon=":material/insights:", url_path="sessions"),
    ]
    identity = require_identity(settings, pages=pages)
    st.session_state["identity"] = identity

    nav = st.navigation(pages)
    render_identity_sidebar(identity, settings)
    nav.run()


if __name__ == "__main__":
    main()
else:
    from starlette.datastructures import MutableHeaders
    from starlette.middleware import Middleware
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    class SecurityHeadersMiddleware:
        """Adds :data:`SECURITY_HEADERS` to every HTTP response (websockets pass through)."""

        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await self.app(scope, receive, send)
                return

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableHeaders(scope=message)
                    for name, value in SECURITY_HEADERS.items():
                        headers.setdefault(name, value)
                await send(message)

            await self.app(scope, receive, send_with_headers)

    app = st.App(__file__, middleware=[Middleware(SecurityHeadersMiddleware)])
