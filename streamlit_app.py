"""Entry point of ``streamlit run streamlit_app.py``; this file plays two roles.

* Run as the page script (``__main__``) for every browser session: load Settings, sign the
  user in, then run the selected page.
* Imported as the module ``streamlit_app`` by ``streamlit run``, which finds ``app`` (an
  ``st.App``, Streamlit's supported way to add middleware and a lifespan) and serves it with
  uvicorn. That server adds the security headers to every HTTP response and, in a thread
  started as it begins to serve, imports the modules the chat page needs (SQLAlchemy, the
  assistant core), compiles the entry script and the chat page, and builds the store and chat
  service (the schema check; the S3 boto3 client when configured): ~0.3 s, spent while the
  first visitor's browser loads the page. A script run that comes before that has ended waits
  for it (a spinner after 0.5 s), so nothing is imported or built twice. What only a send needs
  (strands, the agent, the model client: Bedrock's boto3) is left out of that; after the first
  script run it is imported and built, then the other pages' modules (pandas, pyarrow,
  Plotly), and the heap is frozen. A replica whose code cannot be imported exits (status 3,
  as uvicorn's own failed startup) instead of serving errors.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, NoReturn

import streamlit as st

if TYPE_CHECKING:
    from sqlalchemy.exc import DBAPIError

    from assistant.config import Settings

# Sent on every HTTP response (page, static files, health, components). Checked in Chromium
# against Streamlit 1.67 (chat with tool steps, sessions table, Plotly dashboard: no violation;
# the sign-in browser tests pass): its index.html, emotion/Plotly styles and the sign-in
# cookie's script are inline ('unsafe-inline'); its protobuf decoder is WebAssembly ('wasm-unsafe-eval', not the
# wider 'unsafe-eval'); the favicon (a Material icon) comes from fonts.gstatic.com. Images
# load only from the app, data: and blob: (model output can link out, never load an image:
# assistant/views/markdown.py). The websocket is same-origin: 'self', plus ws:/wss: for browsers where
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


ABOUT = (
    "**Executive Assistant**: a Meeting Coordinator that prepares you for your meetings, "
    "with every session's cost on the Sessions & cost page."
)
WARM_START_WAIT_S = 120.0  # past this the run builds what it needs itself (behind the factory's lock)


def _wait_for_warm_start() -> None:
    """Let a script run that comes while the server is still warming wait for it (a spinner after 0.5 s)."""
    warm = getattr(sys.modules.get("streamlit_app"), "WARM_DONE", None)
    if warm is None or warm.is_set():
        return
    with st.spinner("Starting the assistant…"):
        warm.wait(WARM_START_WAIT_S)


def _stop_answer_left_behind(settings: Settings) -> None:
    """Another page opened while this tab's Chat page drew an answer: stop it, as Stop does.

    On the Chat page a click elsewhere lets the answer finish (app_pages/chat.py keeps the
    session it was drawing in ``chat_answering`` until its next run). The other pages would
    draw that session without its turn (0 turns, 0 tokens) until a reload, so leaving the Chat
    page stops the answer and waits for what was written to be stored (at most 5 s).
    """
    answering = st.session_state.pop("chat_answering", None)
    if not answering:
        return
    from assistant.factory import get_chat_service

    service = get_chat_service(settings)
    service.stop(str(answering))
    service.wait_idle(str(answering), timeout=5.0)


def _stop_for_database(settings: Settings, error: DBAPIError) -> NoReturn:
    """The database cannot be reached: say so on the page (locally with the address and the reason)."""
    from assistant.factory import database_problem

    address, reason = database_problem(settings, error)
    logging.getLogger("assistant.server").error("reason=<%s> | the database cannot be reached", reason)
    if settings.is_local:
        st.error(
            f"The app cannot reach its database (DATABASE_URL={address}): {reason}. "
            "Check that the database server is running and DATABASE_URL is right, then reload the page."
        )
    else:
        st.error(
            "The app cannot reach its database right now. Reload the page in a minute; the server log has the details."
        )
    st.stop()


def main() -> None:
    """One run of the app script: settings, sign-in gate, navigation, the selected page."""
    from assistant.config import ConfigError, get_settings
    from assistant.log import setup_logging

    # With client.toolbarMode = "minimal" the menu (top right) is shown only when it has an entry
    # of the app's own: "About" brings it, and with it the Light / Dark / System theme choice.
    st.set_page_config(
        page_title="Executive Assistant",
        page_icon=":material/event_available:",
        layout="wide",
        menu_items={"About": ABOUT},
    )
    _wait_for_warm_start()

    try:
        settings = get_settings()
    except ConfigError as e:
        st.error(f"The app is not configured correctly: {e}")
        st.stop()

    setup_logging(settings.log_level)

    from ui.auth_gate import render_identity_sidebar, require_identity
    from ui.components import assistive_tech_support
    from ui.page_style import page_style
    from ui.streaming import load_answer_code

    context_page = st.Page("app_pages/context.py", title="My context", icon=":material/tune:", url_path="context")
    pages = [
        st.Page("app_pages/chat.py", title="Chat", icon=":material/forum:", default=True, url_path="chat"),
        context_page,
        st.Page("app_pages/sessions.py", title="Sessions & cost", icon=":material/insights:", url_path="sessions"),
    ]
    from sqlalchemy.exc import DBAPIError

    from assistant.context.classify import MeetingTypesError
    from assistant.context.data_files import DataFileError
    from assistant.factory import get_calendar_service, unusable_setting
    from assistant.usage.pricing import PriceTableError
    from ui.google_calendar import handle_google_callback

    try:
        identity = require_identity(settings, pages=pages)
        calendar = get_calendar_service(settings)  # builds the store: the schema check, on first use
        # Google sends the tab back to the app's root after calendar consent: finish it on any page.
        calendar.remember_email(identity.user_id, identity.email)  # declined invitations are left out
        calendar_connected = handle_google_callback(settings, identity, calendar)
        nav = st.navigation(pages)
        if nav is not pages[0]:
            _stop_answer_left_behind(settings)
        render_identity_sidebar(identity, settings)
        if calendar_connected:
            st.switch_page(context_page)
        assistive_tech_support()
        page_style()
        nav.run()
        load_answer_code()  # after the page: AppTest and the pages' own elements come first
    except DBAPIError as e:  # unreachable at start, or gone under a running app: say so, not a traceback
        _stop_for_database(settings, e)
    except (PriceTableError, DataFileError, MeetingTypesError) as e:  # PRICES_FILE, DATA_DIR, MEETING_TYPES_FILE
        st.error(f"The app is not configured correctly: {unusable_setting(settings, e)}")
        st.stop()


if __name__ == "__main__":
    try:
        main()
    finally:
        _done = getattr(sys.modules.get("streamlit_app"), "FIRST_RUN_DONE", None)
        if _done is not None:
            _done.set()
else:
    import ast
    import asyncio
    import gc
    import importlib
    import importlib.util
    import os
    import threading
    import time
    from collections.abc import AsyncIterator, Callable
    from contextlib import asynccontextmanager
    from pathlib import Path

    from starlette.datastructures import MutableHeaders
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, RedirectResponse
    from starlette.routing import Route
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    _ROOT = Path(__file__).resolve().parent
    # A custom component (the Google sign-in button) registers with the server only when it is
    # declared during a script run; imported here first, it would never be registered and the
    # sign-in page would show a broken frame. These are imported by the first run instead.
    _NOT_WARMED = ("streamlit_oauth",)
    # The warm start allocates ~375k objects (~160k of them cyclic garbage from the imports).
    # With the collector on, Python runs ~550 collections over that growing heap while it
    # imports: about a third of the warm start. It is paused for the warm start, and one full
    # collection followed by gc.freeze() (what survives is moved out of every later collection's
    # way) runs once the other pages are imported, after the first script run.
    _logger = logging.getLogger("assistant.server")

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

    # The default page is warmed before the server answers; the other pages' modules (pandas,
    # pyarrow and Plotly for My context and Sessions: about a third of the imports) right after
    # it starts serving, so the first page is not kept waiting for them.
    _FIRST_PAGE = ("streamlit_app.py", "app_pages/chat.py")

    def _script_imports(first_page: bool = True) -> list[str]:
        """The modules the app script and its pages import (read from their source, not run).

        Args:
            first_page: The entry script and the default page's modules; False: the other pages'.
        """
        names: list[str] = []
        every = [_ROOT / "streamlit_app.py", *sorted((_ROOT / "app_pages").glob("*.py"))]
        paths = [p for p in every if (str(p.relative_to(_ROOT)) in _FIRST_PAGE) == first_page]
        for path in paths:
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names += [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.append(node.module)
                    names += [f"{node.module}.{alias.name}" for alias in node.names]  # submodules
        return list(dict.fromkeys(names))

    def _reason(e: Exception) -> str:
        """An error as one log field: its type and the first line of its message (300 characters)."""
        text = str(e)
        return f"{e.__class__.__name__}: {text.splitlines()[0][:300] if text else ''}"

    def warm_up() -> None:
        """Do what a cold first script run would: import the pages' modules, build the services.

        Runs with the garbage collector paused; :func:`collect_after_warm_up` resumes it.
        """
        gc.disable()
        started = time.perf_counter()
        imported = _import_all(_script_imports(first_page=True))
        _compile_first_page()
        _first_run_once()

        from assistant.config import ConfigError, get_settings
        from assistant.factory import data_files_problem, get_chat_service, get_sign_in_memory
        from assistant.log import setup_logging

        try:
            settings = get_settings()
        except ConfigError as e:
            setup_logging("INFO")
            _logger.warning("reason=<%s> | warm start: configuration refused, the page will say why", e)
            SETTINGS_REFUSED.set()
            return
        setup_logging(settings.log_level)
        problem = data_files_problem(settings)  # every page would say "not configured correctly"
        if problem is not None:
            _logger.warning("reason=<%s> | warm start: configuration refused, the page will say why", problem)
            SETTINGS_REFUSED.set()
            return
        try:
            get_chat_service(settings)  # engine, schema upgrade, S3 client (no strands, no model client)
            get_sign_in_memory(settings)
        except Exception as e:  # the page shows its own message for these; start anyway
            _logger.warning("reason=<%s> | warm start: could not build the services", _reason(e))
        _logger.info(
            "duration_ms=<%.0f>, modules=<%d> | warm start: core imported and services built before serving",
            (time.perf_counter() - started) * 1000,
            imported,
        )

    def _compile_first_page() -> None:
        """Compile the entry script and the chat page into Streamlit's script cache (~60 ms with
        its magic AST pass), which the first script run would otherwise do."""
        from streamlit.runtime import Runtime

        cache = getattr(Runtime.instance(), "_script_cache", None) if Runtime.exists() else None
        if cache is None:  # Streamlit's own cache (not public): the first run compiles them
            _logger.info("warm start: Streamlit's script cache not found, scripts not compiled")
            return
        for path in _FIRST_PAGE:
            try:
                cache.get_bytecode(str(_ROOT / path))
            except Exception:  # the first run compiles it and shows the error
                _logger.warning("path=<%s> | warm start: script not compiled", path, exc_info=True)

    def _first_run_once() -> None:
        """Do what the first script run would do once per process, on the first visitor's time.

        Streamlit checks, on the first element any run draws, whether it runs in a REPL, with
        ``inspect.stack()``, which looks up the module of every frame by the path of every loaded
        module: 0.14 s of the first run's 0.27 s with the app's modules loaded (measured 2026-12-07).
        The time zone names (a walk of the zone database, 27 ms) are the chat page's.
        """
        from streamlit import delta_generator

        from assistant.views.format import resolve_zone

        check = getattr(delta_generator, "_maybe_print_use_warning", None)  # not public: a rename skips it
        if callable(check):
            check()  # once per process; in a thread of a running server it warns of nothing
        resolve_zone("UTC")

    def _import_all(names: list[str]) -> int:
        imported = 0
        for name in names:
            if name.startswith(_NOT_WARMED):
                continue
            try:
                if importlib.util.find_spec(name) is None:
                    continue
            except (ImportError, ValueError):
                continue  # "from module import function": not a module
            importlib.import_module(name)
            imported += 1
        return imported

    # What only a send needs: strands (and what it imports: boto3, OpenTelemetry, jsonschema; ~0.3 s),
    # the agent and its tools. Left out of warm_up (the chat page draws without them) and imported
    # right after the first script run, with the default model's client, before the other pages.
    _FIRST_SEND = ("assistant.chat.runner", "assistant.agents.meeting_coordinator")

    def warm_first_send() -> None:
        """Import what the first send needs and build its runner and the default model's client.

        A send that comes before this builds them itself.
        """
        from assistant.config import ConfigError, get_settings
        from assistant.factory import get_chat_service

        started = time.perf_counter()
        imported = _import_all(list(_FIRST_SEND))
        try:
            get_chat_service(get_settings()).prepare_first_send()  # the model client (Bedrock: boto3)
        except ConfigError:
            return  # the page says why; nobody can send
        except Exception as e:  # the first send tries again and shows its own message
            _logger.warning(
                "reason=<%s> | warm start: the first send's runner and model could not be prepared", _reason(e)
            )
            return
        _logger.info(
            "duration_ms=<%.0f>, modules=<%d> | warm start: the first send's modules imported, its model built",
            (time.perf_counter() - started) * 1000,
            imported,
        )

    def warm_other_pages() -> None:
        """Once the server serves: what the first send needs, the other pages' modules, then collect
        and freeze the heap."""
        try:
            try:
                warm_first_send()
            except Exception:  # an import error: the first send shows it
                _logger.exception("warm start: the first send's modules failed to import")
            started = time.perf_counter()
            imported = _import_all(_script_imports(first_page=False))
            _logger.info(
                "duration_ms=<%.0f>, modules=<%d> | warm start: other pages imported after serving",
                (time.perf_counter() - started) * 1000,
                imported,
            )
        except Exception:  # that page will show the error when opened; the chat keeps working
            _logger.exception("warm start: another page's modules failed to import")
        finally:
            collect_after_warm_up()

    def collect_after_warm_up() -> None:
        """One full collection of the warm start's garbage, gc.freeze() the rest, collector back on."""
        started = time.perf_counter()
        try:
            collected = gc.collect()
            gc.freeze()
        finally:
            gc.enable()
        _logger.info(
            "duration_ms=<%.0f>, collected=<%d>, frozen=<%d> | warm start: garbage collected, heap frozen",
            (time.perf_counter() - started) * 1000,
            collected,
            gc.get_freeze_count(),
        )

    def _bucket_problem() -> str | None:
        """Why no answer can be stored in the sessions bucket (:func:`assistant.factory.bucket_problem`)."""
        from assistant.config import ConfigError, get_settings
        from assistant.factory import bucket_problem

        try:
            return bucket_problem(get_settings())
        except ConfigError:
            return None  # refused settings: SETTINGS_REFUSED says so

    def _bucket_unusable() -> bool:
        """Whether the sessions bucket cannot be used now (why: :data:`BUCKET_PROBLEM`)."""
        problem = _bucket_problem()
        if problem is not None:
            BUCKET_PROBLEM[0] = problem
        return problem is not None

    def check_bucket() -> None:
        """After the warm start: note (and log) a sessions bucket S3 says does not exist, or no credentials."""
        if _bucket_unusable():
            problem = BUCKET_PROBLEM[0]
            BUCKET_MISSING.set()
            _logger.error("reason=<%s> | warm start: no answer can be stored; /ready answers 503", problem)

    def _settings_refused() -> bool:
        """Whether the settings, or a data file they name (PRICES_FILE, DATA_DIR, MEETING_TYPES_FILE), are refused."""
        from assistant.config import ConfigError, get_settings
        from assistant.factory import data_files_problem

        try:
            settings = get_settings()
        except ConfigError:
            return True
        return data_files_problem(settings) is not None

    async def _still(found: threading.Event, problem: Callable[[], bool]) -> bool:
        """Whether a problem the warm start found is still there: asked again (a fixed secrets file,
        a bucket created since count), and forgotten once it is gone."""
        if found.is_set() and await asyncio.to_thread(problem):
            return True
        found.clear()
        return False

    async def ready(_request: Request) -> PlainTextResponse:
        """``/ready``: the load balancer's health check (the readiness of this replica).

        503 while the warm start runs, while the settings (or a data file they name) are refused and
        while S3 says the sessions bucket does not exist or there are no AWS credentials (each asked
        again on every check); 200 otherwise.
        Streamlit's ``/_stcore/health`` stays as it is: the browser checks it before it connects,
        and a replica whose settings are refused must still draw the page that names the
        setting. A database that cannot be reached does not fail it: every replica would be
        taken out (or restarted) during a database outage, when the page itself says what is
        wrong and recovers on its own.
        """
        if not WARM_DONE.is_set():
            status, text = 503, "starting"
        elif await _still(SETTINGS_REFUSED, _settings_refused):
            status, text = 503, "configuration refused; the server log names the setting"
        elif await _still(BUCKET_MISSING, _bucket_unusable):
            status, text = 503, _BUCKET_READY_TEXT["credentials" in BUCKET_PROBLEM[0]]
        else:
            status, text = 200, "ok"
        return PlainTextResponse(text, status_code=status, headers={"Cache-Control": "no-cache"})

    async def chat_address(request: Request) -> RedirectResponse:
        """``/chat`` (the Chat page's name in the sidebar) opens the Chat page, the app's root.

        Streamlit serves its default page at the root only; ``/chat`` showed "Page not found".
        The query (``?session=...``) is kept; the address is relative, so a base URL path is too.
        """
        root = "../" if request.url.path.endswith("/") else "./"
        query = request.url.query
        return RedirectResponse(root + (f"?{query}" if query else ""), status_code=308)

    STARTUP_FAILED = 3  # uvicorn's own exit status for a lifespan startup that failed
    WARM_DONE = threading.Event()  # warm_up has ended (done or failed): script runs may start
    SETTINGS_REFUSED = threading.Event()  # warm_up found the settings refused (see ready())
    BUCKET_MISSING = threading.Event()  # S3 said the sessions bucket does not exist, or no credentials (ready())
    BUCKET_PROBLEM = [""]  # the latest reason (bucket_problem's line; logged, never shown by /ready)
    _BUCKET_READY_TEXT = {
        False: "the sessions bucket does not exist (SESSIONS_BUCKET_NAME)",
        True: "no AWS credentials to reach the sessions bucket (SESSIONS_BUCKET_NAME)",
    }
    FIRST_RUN_DONE = threading.Event()  # a script run has finished: the other pages may be imported now
    _OTHER_PAGES_AFTER_S = 10.0  # ... or this long after the server serves, whichever is first
    _BROWSER_DRAWS_S = 1.5  # and not while the first visitor's browser is still drawing that page
    SHUTDOWN_GRACE_S = 25.0  # answers being written when the server stops get this long to finish

    def _finish_answers() -> None:
        """On shutdown (a deploy's SIGTERM): let the answers being written finish and be stored.

        Closing the server closed their pages, which leaves each answer to be read to its end
        (app_pages/chat.py); the process would exit under them and leave only the question, with
        Retry. At most SHUTDOWN_GRACE_S, below the 30 s most orchestrators allow.
        """
        from assistant.factory import built_chat_services

        services = built_chat_services()
        busy = sum(service.finish_answers(0) for service in services)
        if not busy:
            return
        _logger.info(
            "answers=<%d>, grace_s=<%s> | shutdown: letting the answers being written finish", busy, SHUTDOWN_GRACE_S
        )
        deadline = time.monotonic() + SHUTDOWN_GRACE_S
        left = sum(service.finish_answers(max(0.0, deadline - time.monotonic())) for service in services)
        if left:
            _logger.warning("answers=<%d> | shutdown: still being written; their questions are kept for Retry", left)

    def _warm_other_pages_later() -> None:
        if FIRST_RUN_DONE.wait(_OTHER_PAGES_AFTER_S):
            time.sleep(_BROWSER_DRAWS_S)
        warm_other_pages()

    @asynccontextmanager
    async def _warm_start(_app: st.App) -> AsyncIterator[None]:
        # The server serves at once (uvicorn accepts connections once this yields) and warms in a
        # thread while the first visitor's browser loads the page (~0.5-0.8 s of its own work, on
        # the browser's CPU): the first script run waits for the warm start (main), so nothing is
        # imported or built twice. Warming before serving instead kept health, and the page,
        # waiting ~0.3 s longer (bench/cold_start.py, 2026-12-05: 1.96 s -> 1.76 s to the chat input).
        def warm() -> None:
            try:
                warm_up()
            except BaseException:  # the app's code cannot be imported: exit as a failed startup would
                _logger.critical("warm start: the app could not be imported; the server exits", exc_info=True)
                os._exit(STARTUP_FAILED)
            finally:
                WARM_DONE.set()
            try:
                check_bucket()  # after WARM_DONE: a slow S3 endpoint never holds up the first page
            except Exception:
                _logger.exception("warm start: the sessions bucket could not be checked")
            _warm_other_pages_later()

        threading.Thread(target=warm, name="warm-start", daemon=True).start()
        try:
            yield
        finally:
            FIRST_RUN_DONE.set()
            gc.enable()
            await asyncio.to_thread(_finish_answers)

    app = st.App(
        __file__,
        routes=[
            Route("/ready", ready, methods=["GET", "HEAD"]),
            Route("/chat", chat_address, methods=["GET", "HEAD"]),
            Route("/chat/", chat_address, methods=["GET", "HEAD"]),
        ],
        middleware=[Middleware(SecurityHeadersMiddleware)],
        lifespan=_warm_start,
    )
