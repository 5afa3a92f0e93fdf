"""append-only transcript search index (session_text) replacing sessions.search_text

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:00:00

Per-turn search text used to be appended to ``sessions.search_text``; every commit then
re-indexed the session's whole (growing) text (SQLite FTS5 trigger, Postgres pg_trgm
GIN). Now each committed turn inserts one ``session_text`` row (its lower-cased
user+assistant text) and each session has one title row (``turn_idx = -1``, updated on
rename); rows go with their session (``ON DELETE CASCADE``).

- SQLite: a contentless FTS5 trigram table ``session_text_fts`` (rowid = session_text.id)
  kept in sync by AFTER INSERT / AFTER DELETE triggers, plus an AFTER UPDATE OF text
  trigger for the title row: each touches one row, never a whole session.
- PostgreSQL: a pg_trgm GIN index on ``session_text.text`` (same careful extension
  handling as 0002).

The old ``sessions_fts`` triggers/tables (SQLite) and ``ix_sessions_search_trgm`` (Postgres)
are dropped, existing ``search_text`` is moved into ``session_text`` (one row per session,
``turn_idx = 0``, plus a title row), and the ``search_text`` column is dropped.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")

TITLE_TURN_IDX = -1

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS session_text_fts USING fts5(text, content='', tokenize='trigram')",
    "INSERT INTO session_text_fts(rowid, text) SELECT id, text FROM session_text",
    """CREATE TRIGGER IF NOT EXISTS session_text_fts_ai AFTER INSERT ON session_text BEGIN
  INSERT INTO session_text_fts(rowid, text) VALUES (new.id, new.text);
END""",
    """CREATE TRIGGER IF NOT EXISTS session_text_fts_ad AFTER DELETE ON session_text BEGIN
  INSERT INTO session_text_fts(session_text_fts, rowid, text) VALUES ('delete', old.id, old.text);
END""",
    """CREATE TRIGGER IF NOT EXISTS session_text_fts_au AFTER UPDATE OF text ON session_text BEGIN
  INSERT INTO session_text_fts(session_text_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO session_text_fts(rowid, text) VALUES (new.id, new.text);
END""",
]
SQLITE_FTS_DROP = [
    "DROP TRIGGER IF EXISTS session_text_fts_ai",
    "DROP TRIGGER IF EXISTS session_text_fts_ad",
    "DROP TRIGGER IF EXISTS session_text_fts_au",
    "DROP TABLE IF EXISTS session_text_fts",
]
OLD_SQLITE_FTS_DROP = [
    "DROP TRIGGER IF EXISTS sessions_fts_ai",
    "DROP TRIGGER IF EXISTS sessions_fts_ad",
    "DROP TRIGGER IF EXISTS sessions_fts_au",
    "DROP TABLE IF EXISTS sessions_fts",
    "DROP TABLE IF EXISTS sessions_search_ids",
]


def _sqlite_has_trigram(bind: sa.engine.Connection) -> bool:
    try:
        bind.exec_driver_sql("CREATE VIRTUAL TABLE temp._trigram_probe USING fts5(x, tokenize='trigram')")
        bind.exec_driver_sql("DROP TABLE temp._trigram_probe")
    except Exception:
        logger.warning("sqlite build lacks fts5 trigram | transcript search falls back to LIKE scans")
        return False
    return True


def _pg_trgm_schema(bind: sa.engine.Connection) -> str | None:
    """Schema of the pg_trgm extension, installing it in ``public`` when missing (None: not permitted)."""
    try:
        with bind.begin_nested():
            bind.exec_driver_sql(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN "
                "CREATE EXTENSION pg_trgm SCHEMA public; END IF; END $$"
            )
    except sa.exc.DBAPIError:
        logger.warning("pg_trgm is not available | transcript search falls back to sequential scans")
        return None
    schema: str = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
    ).scalar_one()
    return schema


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "session_text",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column(
            "session_id",
            sa.String(length=64),
            sa.ForeignKey("sessions.id", ondelete="CASCADE", name="fk_session_text_session"),
            nullable=False,
        ),
        sa.Column("turn_idx", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.UniqueConstraint("session_id", "turn_idx", name="uq_session_text_session_turn"),
    )
    # existing transcript text: one row per session (turn 0) plus the title row
    op.execute(
        f"INSERT INTO session_text (session_id, turn_idx, text) SELECT id, {TITLE_TURN_IDX}, lower(title) FROM sessions"
    )
    op.execute(
        "INSERT INTO session_text (session_id, turn_idx, text) "
        "SELECT id, 0, search_text FROM sessions WHERE search_text <> ''"
    )
    if bind.dialect.name == "sqlite":
        for statement in OLD_SQLITE_FTS_DROP:
            op.execute(statement)
        if _sqlite_has_trigram(bind):
            for statement in SQLITE_FTS:
                op.execute(statement)
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_sessions_search_trgm")
        ext_schema = _pg_trgm_schema(bind)
        if ext_schema is not None:
            op.create_index(
                "ix_session_text_trgm",
                "session_text",
                ["text"],
                postgresql_using="gin",
                postgresql_ops={"text": f'"{ext_schema}".gin_trgm_ops'},
            )
    if bind.dialect.name == "sqlite":
        # native DROP COLUMN (SQLite >= 3.35): a batch table rebuild would DROP TABLE sessions,
        # and with foreign keys on that cascades into session_text
        op.execute("ALTER TABLE sessions DROP COLUMN search_text")
    else:
        op.drop_column("sessions", "search_text")


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    if bind.dialect.name == "postgresql":
        op.execute(
            "UPDATE sessions s SET search_text = t.txt FROM (SELECT session_id, "
            "string_agg(text, ' ' ORDER BY turn_idx) AS txt FROM session_text WHERE turn_idx >= 0 "
            "GROUP BY session_id) t WHERE t.session_id = s.id"
        )
        op.execute("DROP INDEX IF EXISTS ix_session_text_trgm")
    else:
        op.execute(
            "UPDATE sessions SET search_text = coalesce((SELECT group_concat(text, ' ') FROM "
            "(SELECT text FROM session_text t WHERE t.session_id = sessions.id AND t.turn_idx >= 0 "
            "ORDER BY t.turn_idx)), '')"
        )
        for statement in SQLITE_FTS_DROP:
            op.execute(statement)
    op.drop_table("session_text")
    # back to 0002's search objects over sessions.search_text
    rev0002 = _revision_0002()
    if bind.dialect.name == "sqlite":
        if _sqlite_has_trigram(bind):
            for statement in rev0002.SQLITE_FTS:
                op.execute(statement)
    elif bind.dialect.name == "postgresql":
        rev0002._create_pg_trigram_index(bind)


def _revision_0002() -> Any:
    """Migration 0002's module (its search DDL is reused by the downgrade)."""
    path = Path(__file__).with_name("0002_usage_query_indexes.py")
    spec = importlib.util.spec_from_file_location("_revision_0002", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
