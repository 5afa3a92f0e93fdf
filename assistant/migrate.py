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
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from assistant.config import PROJECT_ROOT

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_done: weakref.WeakSet[Engine] = weakref.WeakSet()

# pg_advisory_xact_lock key shared by every process migrating this database ("EA_MIGRA").
MIGRATION_LOCK_KEY = 0x45415F4D49475241

# The newest revision in migrations/versions (tests/test_migrate.py fails when a migration is
# added without moving this). A database already there is recognised with one query, without
# importing Alembic (~45 ms with Mako and Pygments): most starts are of a schema at head.
SCHEMA_HEAD = "0013"


def _config() -> Config:
    from alembic.config import Config  # only when there is migrating to do (see SCHEMA_HEAD)

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return cfg


def head_revision() -> str | None:
    """The newest migration revision shipped with the code."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this release's migrations (False for a newer release's)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except CommandError:
        return False


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return _revision_on(conn)


def _revision_on(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def _at_head(engine: Engine) -> bool:
    """Whether the database is at SCHEMA_HEAD, read with plain SQL (False when it cannot say).

    A database that cannot be reached raises here: it used to read as "cannot say", and Alembic
    then connected again, so a hung server held the CLI and the pages for twice CONNECT_TIMEOUT_S."""
    with engine.connect() as conn:
        try:
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        except DBAPIError:  # no alembic_version table yet (an empty database): Alembic decides
            return False
    return found == [SCHEMA_HEAD]


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
        if _at_head(engine):
            _done.add(engine)
            return
        from alembic import command

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
                elif found is not None and not is_known_revision(found):
                    # A newer release migrated it (a rollback, or an old replica restarted mid-rollout):
                    # migrations keep older releases working on the newer schema, so run on it.
                    logger.warning(
                        "database=<%s>, revision=<%s>, release_head=<%s> | schema newer than this release, "
                        "running on it without migrating",
                        database,
                        found,
                        head,
                    )
                else:
                    logger.info("database=<%s>, from=<%s>, to=<%s> | upgrading schema", database, found, head)
                    cfg = _config()
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
        _done.add(engine)
