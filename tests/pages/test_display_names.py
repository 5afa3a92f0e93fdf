"""A person's name and email are drawn as plain text on every page (AppTest, real store).

The names come from Google (or TEST_USER_NAME / TEST_USER_EMAIL locally) and from stored
sessions: control characters are removed, line breaks become spaces, and Markdown (bold,
headings, links, ``:material/...:`` icons, colours) is shown as typed, never rendered.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import assistant.config
from assistant.chat import ChatService
from assistant.config import get_settings
from assistant.factory import get_chat_service
from assistant.inputs import has_control_chars

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
EMAIL = "exec@example.com"
HOSTILE_NAME = "**Boss** :material/shield: :red[alarm] [site](http://evil.example)\n\n# Big\x1b[31m\x07 End"
# What must never reach the page unescaped (each would render as Markdown).
ACTIVE_MARKDOWN = ("**Boss**", ":material/shield:", ":red[", "[site](", "\n# Big")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ChatService]]:
    """Set the app's environment (ENV=local, temp SQLite) and return the service it will use."""

    def configure(**extra: str) -> ChatService:
        monkeypatch.setenv("ENV", "local")
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'names.db'}")
        monkeypatch.setenv("ASSISTANT_SECRETS_FILE", os.devnull)
        monkeypatch.setenv("MODEL_PROVIDER", "offline")
        monkeypatch.setenv("MESSAGES_PER_MINUTE", "1000")
        for key, value in extra.items():
            monkeypatch.setenv(key, value)
        assistant.config.get_settings.cache_clear()
        service: ChatService = get_chat_service(get_settings())
        return service

    yield configure
    assistant.config.get_settings.cache_clear()


def _drawn(at: AppTest) -> list[str]:
    values: list[str] = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "header", "subheader"):
        values += [str(e.value) for e in getattr(at, kind)]
    return values


def _assert_plain(values: list[str]) -> None:
    for value in values:
        assert not has_control_chars(value), repr(value)
        for active in ACTIVE_MARKDOWN:
            assert active not in value, f"{active!r} drawn as Markdown in {value!r}"


def _open(page: str | None = None, session: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page is not None:
        at.switch_page(page)
        if session is not None:
            at.query_params["session"] = session
        at.run()
    assert not at.exception, at.exception
    return at


def test_signed_in_name_is_plain_text_on_the_chat_page(env: Callable[..., ChatService]) -> None:
    env(TEST_USER_NAME=HOSTILE_NAME, TEST_USER_EMAIL="exec@example.com")
    at = _open()
    drawn = _drawn(at)
    _assert_plain(drawn)
    signed_in = next(v for v in drawn if v.startswith("Signed in as"))
    assert "Boss" in signed_in and "End" in signed_in and "\n\n" not in signed_in
    banner = next(v for v in drawn if v.startswith("Local dev login: you are"))
    assert "Boss" in banner
    assert any(v.startswith("## Hello, ") for v in drawn)


def _user_column(at: AppTest) -> list[Any]:
    assert at.dataframe, "no sessions table"
    return list(at.dataframe[0].value["User"])


def test_other_users_email_is_plain_text_on_the_sessions_page(env: Callable[..., ChatService]) -> None:
    service = env(ADMIN_EMAILS=EMAIL, TEST_USER_NAME=HOSTILE_NAME)
    theirs = service.create_session("eve", user_email="eve\x07@example.com\n# :material/shield:")
    at = _open("app_pages/sessions.py")
    _assert_plain(_drawn(at))
    shown = [u for u in _user_column(at) if "eve" in str(u)]
    assert shown == ["eve@example.com # :material/shield:"], shown
    options = at.selectbox(key="sc_user").options
    assert "eve@example.com # :material/shield:" in options and not any(has_control_chars(o) for o in options)

    detail = _open("app_pages/sessions.py", session=theirs.id)
    drawn = _drawn(detail)
    _assert_plain(drawn)
    banner = next(v for v in drawn if v.startswith("Viewing "))
    assert "eve@example" in banner.replace("\\", "").replace("\u200b", "") and "\n" not in banner  # no mailto link
