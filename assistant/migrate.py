"""Apply Alembic migrations (startup for local SQLite; ``python -m assistant db upgrade`` elsewhere)."""

from __future__ import annotations

import logging
import threading
import weakref

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from assistant.config import PROJECT_ROOT

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_done: weakref.WeakSet[Engine] = weakref.WeakSet()


def _config() -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return cfg


def head_revision() -> str | None:
    """The newest migration revision shipped with the code."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Upgrade the database behind ``engine`` to the newest revision (idempotent, once per process).

    Args:
        engine: The database to upgrade.
    """
    with _lock:
        if engine in _done:
            return
        if current_revision(engine) != head_revision():
            logger.info("database=<%s> | upgrading schema", engine.url.render_as_string(hide_password=True))
            cfg = _config()
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        _done.add(engine)
