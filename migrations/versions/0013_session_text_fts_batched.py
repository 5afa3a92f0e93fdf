"""SQLite: the transcript search index takes new rows in batches, off the turn's commit

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 04:20:00

Every committed turn inserted its ``session_text`` row into the FTS5 trigram index
``session_text_fts`` in the same transaction: a third of the commit's time on a local SQLite
file (the row's trigrams, and a new index segment per commit for FTS5 to merge later). The
index serves only the all-users search (one user's search checks their rows with ``LIKE``).

Now a new row's id goes to ``session_text_fts_pending``; once 64 rows wait, the next insert
indexes all of them in one statement (one segment). The all-users search reads the index for
the rows in it and checks the waiting rows (at most 64) with ``LIKE``, so it finds a turn the
moment it is committed, as before. A waiting row that is deleted or renamed leaves the pending
list (the index never holds it, so it is never asked to delete it); an indexed one is updated in
the index, as before. PostgreSQL (pg_trgm GIN, which batches by itself) is unchanged.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PENDING_BATCH = 64
"""Waiting rows that make the next insert index them all."""

_OLD_TRIGGERS = ["session_text_fts_ai", "session_text_fts_ad", "session_text_fts_au"]
_NOT_PENDING = "NOT EXISTS (SELECT 1 FROM session_text_fts_pending p WHERE p.id = old.id)"
_INDEX_PENDING = (
    "INSERT INTO session_text_fts(rowid, text) "
    "SELECT s.id, s.text FROM session_text s JOIN session_text_fts_pending p ON p.id = s.id"
)
BATCHED = [
    "CREATE TABLE IF NOT EXISTS session_text_fts_pending (id INTEGER PRIMARY KEY)",
    """CREATE TRIGGER IF NOT EXISTS session_text_fts_ai AFTER INSERT ON session_text BEGIN
  INSERT INTO session_text_fts_pending(id) VALUES (new.id);
END""",
    f"""CREATE TRIGGER IF NOT EXISTS session_text_fts_pending_full AFTER INSERT ON session_text_fts_pending
WHEN (SELECT count(*) FROM session_text_fts_pending) >= {PENDING_BATCH} BEGIN
  {_INDEX_PENDING};
  DELETE FROM session_text_fts_pending;
END""",
    f"""CREATE TRIGGER IF NOT EXISTS session_text_fts_ad AFTER DELETE ON session_text BEGIN
  INSERT INTO session_text_fts(session_text_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE {_NOT_PENDING};
  DELETE FROM session_text_fts_pending WHERE id = old.id;
END""",
    f"""CREATE TRIGGER IF NOT EXISTS session_text_fts_au AFTER UPDATE OF text ON session_text BEGIN
  INSERT INTO session_text_fts(session_text_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE {_NOT_PENDING};
  INSERT INTO session_text_fts(rowid, text) SELECT new.id, new.text WHERE {_NOT_PENDING};
END""",
]
def _has_fts(bind: sa.engine.Connection) -> bool:
    found = bind.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'session_text_fts'")
    return bool(found.scalar())


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite" or not _has_fts(bind):
        return  # PostgreSQL's GIN index, or a SQLite build without FTS5 trigram (LIKE scans)
    for name in _OLD_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for statement in BATCHED:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite" or not _has_fts(bind):
        return
    # index what waits, then back to indexing each row as it is written (0003's triggers)
    op.execute(_INDEX_PENDING)
    for name in [*_OLD_TRIGGERS, "session_text_fts_pending_full"]:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE session_text_fts_pending")
    for statement in _revision_0003().SQLITE_FTS:
        if statement.startswith("CREATE TRIGGER"):
            op.execute(statement)


def _revision_0003() -> Any:
    """Migration 0003's module (its per-row triggers are what the downgrade puts back)."""
    path = Path(__file__).with_name("0003_session_text.py")
    spec = importlib.util.spec_from_file_location("_revision_0003", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
