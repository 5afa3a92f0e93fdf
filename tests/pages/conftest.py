"""Page-test fixtures: the whole app on a real SQLite file or a fresh Postgres schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import assistant.config
import assistant.db
from tests.fixtures.db import postgres_schema_engine


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
