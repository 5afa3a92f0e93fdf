"""What the user types reaches the app the same way on SQLite and Postgres (AppTest, real stores).

Control characters are removed once, at the input boundary (``assistant.inputs``): a message,
a title or a search holding a NUL works on both databases instead of failing on Postgres.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from streamlit.testing.v1 import AppTest

import assistant.config
from assistant.chat import ChatService
from assistant.config import get_settings
from assistant.factory import get_chat_service
from ui.components import NOT_FOUND

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
USER = "test-user-123"


@pytest.fixture
def make_app(
    app_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., AppTest]]:
    """Build an AppTest of the app with ENV=local on the parametrized database."""

    def build(page: str | None = None, **env: str) -> AppTest:
        monkeypatch.setenv("ENV", "local")
        monkeypatch.setenv("DATABASE_URL", app_database_url)
        monkeypatch.setenv("ASSISTANT_SECRETS_FILE", os.devnull)
        monkeypatch.setenv("MODEL_PROVIDER", "offline")
        monkeypatch.setenv("MESSAGES_PER_MINUTE", "1000")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assistant.config.get_settings.cache_clear()
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        if page is not None:
            at.switch_page(page)
            at.run()
        assert not at.exception, at.exception
        return at

    yield build
    assistant.config.get_settings.cache_clear()


def _service() -> ChatService:
    service: ChatService = get_chat_service(get_settings())
    return service


def _texts(at: AppTest) -> str:
    parts: list[str] = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def _sid(at: AppTest) -> str:
    value: Any = at.query_params["session"]
    return str(value[0] if isinstance(value, list) else value)


def test_message_with_nul_is_sent_without_it(make_app: Callable[..., AppTest]) -> None:
    at = make_app()
    at.chat_input[0].set_value("What meetings do I\x00 have this\x07 week?").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert at.chat_message[0].markdown[0].value == "What meetings do I have this week?"
    doc = _service().open_session(_sid(at), USER)
    assert [t.user_text for t in doc.turns] == ["What meetings do I have this week?"]


def test_message_of_only_control_characters_is_refused_as_empty(make_app: Callable[..., AppTest]) -> None:
    at = make_app()
    at.chat_input[0].set_value("\x00\x01 \x1b").run()
    assert not at.exception, at.exception
    assert "empty message cannot be sent" in " ".join(e.value for e in at.error)
    assert not at.chat_message
    assert _service().list_sessions(USER)[1] == 0


def test_message_of_only_zero_width_characters_is_refused_as_empty(make_app: Callable[..., AppTest]) -> None:
    at = make_app()
    at.chat_input[0].set_value("\u200b\u200d \ufeff\u2060").run()
    assert not at.exception, at.exception
    assert "empty message cannot be sent" in " ".join(e.value for e in at.error)
    assert not at.chat_message
    assert _service().list_sessions(USER)[1] == 0


def test_sidebar_search_with_nul_finds_the_session(make_app: Callable[..., AppTest]) -> None:
    at = make_app()
    service = _service()
    board = service.create_session(USER)
    service.rename(board.id, USER, "Board prep")
    service.rename(service.create_session(USER).id, USER, "Offsite")
    at.text_input(key="chat_search").set_value("bo\x00ard").run()
    assert not at.exception, at.exception
    assert [b.key for b in at.button if b.key and b.key.startswith("open-")] == [f"open-{board.id}"]
    at.text_input(key="chat_search").set_value("\x00").run()
    assert not at.exception, at.exception
    assert len([b for b in at.button if b.key and b.key.startswith("open-")]) == 2


def test_sidebar_search_of_a_pasted_page_says_it_is_too_long(make_app: Callable[..., AppTest]) -> None:
    """60,000 characters pasted into the sidebar's search box crashed the chat page ("LIKE or
    GLOB pattern too complex" on SQLite): the box keeps 200 characters, as the sessions page's does."""
    at = make_app()
    service = _service()
    board = service.create_session(USER).id
    service.rename(board, USER, "Board prep")
    at.text_input(key="chat_search").set_value("board " * 10_000).run()
    assert not at.exception, at.exception
    assert len(at.text_input(key="chat_search").value) == 200
    # the search is words now: "board" repeated is the one word "board"
    assert [b.key for b in at.button if b.key and b.key.startswith("open-")] == [f"open-{board}"]
    at.text_input(key="chat_search").set_value("board zzz " * 10_000).run()
    assert not at.exception, at.exception
    assert "No sessions match your search." in _texts(at)


def test_sessions_page_search_with_nul_finds_the_session(make_app: Callable[..., AppTest]) -> None:
    service = _service_for(make_app)
    acme = service.create_session(USER)
    service.rename(acme.id, USER, "Acme QBR")
    service.rename(service.create_session(USER).id, USER, "Offsite")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("app_pages/sessions.py")
    at.run()
    at.text_input(key="sc_search").set_value("acme\x00 qbr\x1b").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert list(at.dataframe[0].value["id"]) == [acme.id]


def test_title_with_nul_is_saved_without_it(make_app: Callable[..., AppTest]) -> None:
    at = make_app()
    at.chat_input[0].set_value("What meetings do I have this week?").run()
    sid = _sid(at)
    title = next(t for t in at.text_input if t.label == "Title")
    title.set_value("Board\x00 prep\x07")
    at.button(key="FormSubmitter:rename-form-Rename").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert _service().get_session(sid, USER).title == "Board prep"
    assert "Board prep" in _texts(at)

    title = next(t for t in at.text_input if t.label == "Title")
    title.set_value("\x00\x01")
    at.button(key="FormSubmitter:rename-form-Rename").click().run()
    assert "A title cannot be empty." in " ".join(e.value for e in at.error)
    assert _service().get_session(sid, USER).title == "Board prep"

    title = next(t for t in at.text_input if t.label == "Title")
    title.set_value("\u200b\u200b")
    at.button(key="FormSubmitter:rename-form-Rename").click().run()
    assert "A title cannot be empty." in " ".join(e.value for e in at.error)
    assert _service().get_session(sid, USER).title == "Board prep"


def _service_for(make_app: Callable[..., AppTest]) -> ChatService:
    """Configure the app's environment (signing the dev user in once) and return its service."""
    make_app()
    return _service()


MALFORMED_IDS = [
    pytest.param("abc\n2026-01-01 00:00:00,000 ERROR assistant.auth | user_id=<admin> | forged", id="newline"),
    pytest.param(str(uuid.uuid4()) + "\n", id="uuid-newline"),
    pytest.param("abc\x00def", id="nul"),
    pytest.param("x" * 10_000, id="10kb"),
    pytest.param("../other-user/abc", id="path"),
]


def _sql_parameters(service: ChatService) -> list[str]:
    """Every string parameter the app's store sends to the database from now on."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        rows = parameters if executemany else [parameters]
        for row in rows:
            values = row.values() if isinstance(row, dict) else (row or ())
            seen.extend(v for v in values if isinstance(v, str))

    event.listen(service.store.engine, "before_cursor_execute", record)  # type: ignore[attr-defined]
    return seen


@pytest.fixture
def app_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of the app's loggers (``assistant`` does not propagate once the app set up logging)."""
    app_logger = logging.getLogger("assistant")
    app_logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        app_logger.removeHandler(caplog.handler)


def _assert_logs_are_safe(caplog: pytest.LogCaptureFixture, raw: str) -> None:
    assert caplog.records
    for record in caplog.records:
        message = record.getMessage()
        assert "\n" not in message and "\x00" not in message, message
        assert len(message) < 1000, message[:200]
        if not raw.isprintable() or len(raw) > 80:
            assert raw[:81] not in message, message[:200]


@pytest.mark.parametrize("raw", MALFORMED_IDS)
def test_malformed_session_id_in_the_chat_url_is_not_found(
    make_app: Callable[..., AppTest], raw: str, app_logs: pytest.LogCaptureFixture
) -> None:
    at = make_app()
    sent = _sql_parameters(_service())
    at.query_params["session"] = raw
    at.run()
    assert not at.exception, at.exception
    assert NOT_FOUND in " ".join(e.value for e in at.error)
    assert "session" not in at.query_params
    assert not at.chat_message
    assert not [p for p in sent if raw in p], "the malformed id reached the store"
    _assert_logs_are_safe(app_logs, raw)
    assert any("malformed" in r.getMessage() for r in app_logs.records)


@pytest.mark.parametrize("raw", MALFORMED_IDS)
def test_malformed_session_id_in_the_sessions_page_url_is_not_found(
    make_app: Callable[..., AppTest], raw: str, app_logs: pytest.LogCaptureFixture
) -> None:
    service = _service_for(make_app)
    sent = _sql_parameters(service)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("app_pages/sessions.py")
    at.query_params["session"] = raw
    at.run()
    assert not at.exception, at.exception
    assert NOT_FOUND in " ".join(e.value for e in at.error)
    assert at.button(key="detail-back")
    assert not [p for p in sent if raw in p], "the malformed id reached the store"
    _assert_logs_are_safe(app_logs, raw)
    assert any("malformed" in r.getMessage() for r in app_logs.records)


def test_well_formed_unknown_session_id_is_still_looked_up_and_not_found(make_app: Callable[..., AppTest]) -> None:
    at = make_app()
    sent = _sql_parameters(_service())
    unknown = str(uuid.uuid4())
    at.query_params["session"] = unknown
    at.run()
    assert NOT_FOUND in " ".join(e.value for e in at.error)
    assert unknown in sent
