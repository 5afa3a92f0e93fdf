"""Alembic environment: runs against the connection handed in by assistant.migrate, or DATABASE_URL."""

from __future__ import annotations

from alembic import context

from assistant.db import get_engine, metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    """Run migrations on the given connection (or a new one from the configured URL)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from assistant.config import get_settings

    engine = get_engine(config.get_main_option("sqlalchemy.url") or get_settings().database_url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
