"""The Alembic migrations build exactly the schema that ``assistant.db`` declares.

A column or table added to the code without a migration (or the reverse) would only show up
on a deployed database; this compares the migrated database with the metadata on SQLite and
Postgres. Objects created by raw SQL in the migrations (SQLite FTS5 tables, expression and
trigram indexes) are not in the metadata and are left out of the comparison.
"""

from __future__ import annotations

import warnings
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from assistant.db import metadata

RAW_SQL_INDEXES = {"ix_usage_day_user_model", "ix_session_text_trgm"}


def _relevant(diff: Any) -> bool:
    if isinstance(diff, list):  # column modifications come as lists of tuples
        return any(_relevant(d) for d in diff)
    kind, obj = diff[0], diff[1]
    if kind == "remove_table" and obj.name.startswith("session_text_fts"):
        return False
    if kind in ("remove_index", "add_index") and obj.name in RAW_SQL_INDEXES:
        return False
    return True


def test_migrated_schema_matches_the_declared_tables(any_engine: Engine) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # expression-based indexes cannot be reflected
        with any_engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diffs if _relevant(d)] == []
    assert "revoked_sign_ins" in inspect(any_engine).get_table_names()
