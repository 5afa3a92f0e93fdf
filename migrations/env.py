"""Alembic environment: runs against the connection handed in by assistant.migrate, or DATABASE_URL."""

from __future__ import annotations

from typing import Any

from alembic import context

from assistant.db import get_engine, metadata

config = context.config
target_metadata = metadata

# Dialect-specific objects created by raw SQL in the migrations (not in assistant.db's
# metadata): autogenerate must neither drop them nor try to recreate them.
DIALECT_SPECIFIC_TABLES = {"session_text_fts", "sessions_fts", "sessions_search_ids"}
DIALECT_SPECIFIC_TABLE_PREFIXES = ("session_text_fts_", "sessions_fts_")  # FTS5 shadow tables
DIALECT_SPECIFIC_INDEXES = {"ix_usage_day_user_model", "ix_session_text_trgm", "ix_sessions_search_trgm"}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Autogenerate filter: skip FTS tables, trigram and expression indexes."""
    if type_ == "table" and name is not None:
        return name not in DIALECT_SPECIFIC_TABLES and not name.startswith(DIALECT_SPECIFIC_TABLE_PREFIXES)
    if type_ == "index" and name is not None:
        return name not in DIALECT_SPECIFIC_INDEXES
    return True


def run_migrations_online() -> None:
    """Run migrations on the given connection (or a new one from the configured URL)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    from assistant.config import get_settings

    engine = get_engine(config.get_main_option("sqlalchemy.url") or get_settings().database_url)
    with engine.connect() as conn:
        context.configure(
            connection=conn, target_metadata=target_metadata, render_as_batch=True, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
