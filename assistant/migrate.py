"""Apply Alembic migrations (startup for local SQLite; ``python -m assistant db upgrade`` elsewhere).

Several replicas may start at once on an empty Postgres: the upgrade runs under a
transaction-scoped Postgres advisory lock taken on the connection Alembic uses, and the
revision is read again once the lock is held, so exactly one replica migrates and the others
find the schema at head. (SQLite upgrades already run in a ``BEGIN IMMEDIATE`` transaction.)
"""

from __future__ import annotations

import logging
import threading
import weakref

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from assistant.config import PROJECT_ROOT

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_done: weakref.WeakSet[Engine] = weakref.WeakSet()

# pg_advisory_xact_lock key shared by every process migrating this database ("EA_MIGRA").
MIGRATION_LOCK_KEY = 0x45415F4D49475241


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


def _revision_on(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Upgrade the database behind ``engine`` to the newest revision (idempotent, once per process).

    Safe when several processes upgrade the same Postgres database at once: they take turns
    on an advisory lock and only the first finds work to do.

    Args:
        engine: The database to upgrade.
    """
    with _lock:
        if engine in _done:
            return
        head = head_revision()
        if current_revision(engine) != head:
            database = engine.url.render_as_string(hide_password=True)
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    # Held until this transaction ends (commit or rollback, even if the process dies).
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                found = _revision_on(conn)
                if found == head:
                    logger.info("database=<%s>, revision=<%s> | schema upgraded by another process", database, head)
                else:
                    logger.info("database=<%s>, from=<%s>, to=<%s> | upgrading schema", database, found, head)
                    cfg = _config()
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
        _done.add(engine)
