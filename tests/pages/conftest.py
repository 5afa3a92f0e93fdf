"""Page-test fixtures: the whole app on a real SQLite file or a fresh Postgres schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import assistant.config
import assistant.db
from assistant.models import registry
from tests.fixtures.db import postgres_schema_engine


@pytest.fixture(autouse=True)
def _offline_model_without_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's offline model answers at once here: AppTest shows an answer only when its run
    ends, so the demo's pacing (0.2 s before the first token, 15 ms a chunk: ~1 s an answer,
    ~60 s over these tests) showed nothing. The browser tests keep it (they watch the stream)."""
    monkeypatch.setattr(registry, "OFFLINE_FIRST_TOKEN_DELAY_S", 0.0)
    monkeypatch.setattr(registry, "OFFLINE_CHUNK_DELAY_S", 0.0)


@pytest.fixture(params=["sqlite", "postgres"])
def app_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """DATABASE_URL for an AppTest run: a SQLite file, then a migrated Postgres schema of its own.

    The app's memoized engine for the URL is disposed afterwards, so the schema can be dropped.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
        return
    schema_engines = postgres_schema_engine()
    engine = next(schema_engines)
    url = engine.url.render_as_string(hide_password=False)
    try:
        yield url
    finally:
        app_engine = assistant.db._engines.pop(url, None)
        if app_engine is not None:
            app_engine.dispose()
        assistant.config.get_settings.cache_clear()
        schema_engines.close()
