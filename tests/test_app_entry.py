"""The app's entry script (streamlit_app.py): what a visitor sees when the configuration is refused."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import assistant.config

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No ENV, no secrets file, a temp SQLite file; settings rebuilt for this test."""
    for name in ("ENV", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "OAUTH_REDIRECT_URI", "SESSIONS_BUCKET_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("ASSISTANT_SECRETS_FILE", os.devnull)
    monkeypatch.setenv("MODEL_PROVIDER", "offline")
    assistant.config.get_settings.cache_clear()
    yield
    assistant.config.get_settings.cache_clear()


def test_forgotten_env_with_a_google_client_shows_one_line_and_no_dev_login(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_CLIENT_ID", "cid.apps.googleusercontent.com")
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", "GOCSPX-not-shown")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1 and "GOOGLE_CLIENT_ID" in errors[0] and "ENV=dev" in errors[0]
    assert "GOCSPX-not-shown" not in errors[0]
    assert not at.chat_input, "nobody gets the chat page"
    shown = " ".join(str(e.value) for e in (*at.markdown, *at.caption, *at.info, *at.warning))
    assert "dev login" not in shown.lower() and "test-user-123" not in shown


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("notaurl", "sqlite:///"),
        ("mysql://app@127.0.0.1/assistant", "mysql"),
        ("postgresql+psycopg2://postgres@127.0.0.1/assistant", "psycopg2"),
    ],
)
def test_a_database_url_the_app_cannot_use_shows_one_line_naming_it(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, url: str, needle: str
) -> None:
    # Before: Streamlit's redacted "This app has encountered an error" (SQLAlchemy's error in the log only).
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1 and "DATABASE_URL" in errors[0] and needle in errors[0], errors
    assert not at.chat_input


def test_a_database_that_cannot_be_reached_says_so_instead_of_a_redacted_crash(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 1: a Postgres server that is down, or a wrong port.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://app:hunter2@127.0.0.1:1/assistant")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1 and "database" in errors[0] and "DATABASE_URL" in errors[0], errors
    assert "127.0.0.1" in errors[0] and "hunter2" not in errors[0]
    assert not at.chat_input


def test_a_price_table_that_cannot_be_read_names_it_instead_of_a_redacted_crash(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # DATA_DIR set to a folder without prices.toml, or PRICES_FILE mistyped
    monkeypatch.setenv("PRICES_FILE", str(tmp_path / "prices-missing.toml"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1 and "prices-missing.toml" in errors[0] and "PRICES_FILE" in errors[0], errors
    assert not at.chat_input


def _errors_and_warnings_on(page: str | None) -> list[str]:
    """Run the app (then switch to ``page``), check nothing crashed, and return its errors and warnings."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return [str(e.value) for e in (*at.error, *at.warning)]


@pytest.mark.parametrize("page", [None, "app_pages/context.py"])
def test_a_data_dir_without_the_demo_files_names_it_instead_of_a_redacted_crash(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, page: str | None
) -> None:
    # DATA_DIR pointed at a folder holding the price table and meeting types but not the demo calendar
    data = tmp_path / "data"
    data.mkdir()
    for name in ("prices.toml", "meeting_types.toml"):
        (data / name).write_bytes((Path(APP).parent / "data" / name).read_bytes())
    monkeypatch.setenv("DATA_DIR", str(data))
    shown = _errors_and_warnings_on(page)
    assert any("calendar.toml" in text and "DATA_DIR" in text for text in shown), shown


@pytest.mark.parametrize("page", [None, "app_pages/context.py"])
def test_a_missing_meeting_types_file_names_it_instead_of_a_redacted_crash(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, page: str | None
) -> None:
    monkeypatch.setenv("MEETING_TYPES_FILE", str(tmp_path / "types-missing.toml"))
    shown = _errors_and_warnings_on(page)
    assert any("types-missing.toml" in text and "MEETING_TYPES_FILE" in text for text in shown), shown


@pytest.mark.parametrize(
    ("browser_url", "refused"),
    [
        ("http://10.0.1.10:8501/", True),  # a replica's own address, not the public one
        ("http://assistant.example.com/", True),  # http, where Google returns to https
        ("https://Assistant.example.com:443/sessions", False),  # same origin, another page
    ],
)
def test_sign_in_opened_away_from_the_redirect_uri_says_where_to_open_the_app(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, browser_url: str, refused: bool
) -> None:
    from tests.fixtures.fake_oidc import FakeOidcProvider

    with FakeOidcProvider() as idp:
        for name, value in {
            "ENV": "dev",
            "GOOGLE_CLIENT_ID": idp.client_id,
            "GOOGLE_CLIENT_SECRET": idp.client_secret,
            "OAUTH_ISSUER": idp.issuer,
            "OAUTH_REDIRECT_URI": "https://assistant.example.com/",
            "ALLOWED_EMAIL_DOMAINS": "example.com",
            "SESSIONS_BUCKET_NAME": "bucket",
            "S3_ENDPOINT_URL": "http://127.0.0.1:1",
        }.items():
            monkeypatch.setenv(name, value)
        at = AppTest.from_file(APP, default_timeout=60)
        at.context = {"url": browser_url}
        at.run()
    assert not at.exception, at.exception
    warnings = [str(w.value) for w in at.warning]
    if refused:
        # Google sends the sign-in back to OAUTH_REDIRECT_URI: from another origin the page never
        # sees it come back (the popup stays open on the other address), so say where to go.
        assert len(warnings) == 1 and "OAUTH_REDIRECT_URI" in warnings[0], warnings
        assert "https://assistant.example.com/" in warnings[0]
    else:
        assert not warnings, warnings
