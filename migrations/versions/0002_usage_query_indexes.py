"""indexes for the sessions table query, dashboard aggregates and transcript search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:00:00

- ix_sessions_list_cover: covering index for the sessions list (per-user filter, counts
  and totals over the filtered set without reading the wide session rows).
- ix_usage_started_cover: covering index for the dashboard aggregates over a period.
- ix_usage_user_started_cost: spend today / budget per user (index-only).
- ix_usage_day_user_model (expression index on the UTC day, dialect-specific SQL): the
  dashboard's GROUP BY day, user, model streams in index order without a sort.
- Transcript search on sessions.search_text:
  * PostgreSQL: pg_trgm GIN index (LIKE '%term%' uses it).
  * SQLite: an FTS5 trigram index (contentless) kept in sync by triggers on sessions,
    keyed through sessions_search_ids (a stable integer id per session, so VACUUM or
    row rewrites cannot desynchronise it). Writers need do nothing.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")

SESSIONS_COVER = [
    "user_id",
    "updated_at",
    "created_at",
    "state",
    "model",
    "turn_count",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "cost_unknown",
    "errors",
    "title",
    "id",
]
USAGE_COVER = [
    "started_at",
    "user_id",
    "model_id",
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "latency_ms",
    "ttft_ms",
]

SQLITE_FTS = [
    "CREATE TABLE IF NOT EXISTS sessions_search_ids ("
    " rid INTEGER PRIMARY KEY, session_id VARCHAR(64) NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS sessions_fts USING fts5("
    "search_text, content='', tokenize='trigram')",
    "INSERT OR IGNORE INTO sessions_search_ids(session_id) SELECT id FROM sessions",
    "INSERT INTO sessions_fts(rowid, search_text)"
    " SELECT m.rid, s.search_text FROM sessions s JOIN sessions_search_ids m ON m.session_id = s.id",
    """CREATE TRIGGER IF NOT EXISTS sessions_fts_ai AFTER INSERT ON sessions BEGIN
  INSERT OR IGNORE INTO sessions_search_ids(session_id) VALUES (new.id);
  INSERT INTO sessions_fts(rowid, search_text)
    SELECT rid, new.search_text FROM sessions_search_ids WHERE session_id = new.id;
END""",
    """CREATE TRIGGER IF NOT EXISTS sessions_fts_ad AFTER DELETE ON sessions BEGIN
  INSERT INTO sessions_fts(sessions_fts, rowid, search_text)
    SELECT 'delete', rid, old.search_text FROM sessions_search_ids WHERE session_id = old.id;
  DELETE FROM sessions_search_ids WHERE session_id = old.id;
END""",
    """CREATE TRIGGER IF NOT EXISTS sessions_fts_au AFTER UPDATE OF id, search_text ON sessions BEGIN
  INSERT INTO sessions_fts(sessions_fts, rowid, search_text)
    SELECT 'delete', rid, old.search_text FROM sessions_search_ids WHERE session_id = old.id;
  UPDATE sessions_search_ids SET session_id = new.id WHERE session_id = old.id;
  INSERT INTO sessions_fts(rowid, search_text)
    SELECT rid, new.search_text FROM sessions_search_ids WHERE session_id = new.id;
END""",
]


def _sqlite_has_trigram(bind: sa.engine.Connection) -> bool:
    try:
        bind.exec_driver_sql("CREATE VIRTUAL TABLE temp._trigram_probe USING fts5(x, tokenize='trigram')")
        bind.exec_driver_sql("DROP TABLE temp._trigram_probe")
    except Exception:
        logger.warning("sqlite build lacks fts5 trigram | transcript search falls back to LIKE scans")
        return False
    return True


def _create_pg_trigram_index(bind: sa.engine.Connection) -> None:
    """pg_trgm GIN index on sessions.search_text (skipped with a warning when not permitted).

    The extension is installed once per database (in ``public`` when missing), so schemas
    dropped later (tests, benches) never take it with them; the operator class is named
    with the extension's schema because that schema may be off the search_path.
    """
    try:
        with bind.begin_nested():
            bind.exec_driver_sql(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN "
                "CREATE EXTENSION pg_trgm SCHEMA public; END IF; END $$"
            )
    except sa.exc.DBAPIError:
        logger.warning("pg_trgm is not available | transcript search falls back to sequential scans")
        return
    ext_schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    ).scalar_one()
    op.create_index(
        "ix_sessions_search_trgm",
        "sessions",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": f'"{ext_schema}".gin_trgm_ops'},
    )


def upgrade() -> None:
    bind = op.get_bind()
    op.create_index("ix_sessions_list_cover", "sessions", SESSIONS_COVER)
    op.create_index("ix_usage_started_cover", "usage", USAGE_COVER)
    op.create_index("ix_usage_user_started_cost", "usage", ["user_id", "started_at", "cost_usd"])
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_usage_day_user_model ON usage "
            "((CAST(timezone('UTC', started_at) AS DATE)), user_id, model_id, started_at) "
            "INCLUDE (cost_usd, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)"
        )
        _create_pg_trigram_index(bind)
    elif bind.dialect.name == "sqlite":
        op.execute(
            "CREATE INDEX ix_usage_day_user_model ON usage (substr(started_at, 1, 10), user_id, model_id, "
            "started_at, cost_usd, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)"
        )
        if _sqlite_has_trigram(bind):
            for statement in SQLITE_FTS:
                op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_sessions_search_trgm")
    elif bind.dialect.name == "sqlite":
        for name in ("sessions_fts_ai", "sessions_fts_ad", "sessions_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS sessions_fts")
        op.execute("DROP TABLE IF EXISTS sessions_search_ids")
    op.execute("DROP INDEX IF EXISTS ix_usage_day_user_model")
    op.drop_index("ix_usage_user_started_cost", table_name="usage")
    op.drop_index("ix_usage_started_cover", table_name="usage")
    op.drop_index("ix_sessions_list_cover", table_name="sessions")
