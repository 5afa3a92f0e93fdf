"""daily usage rollup (usage_daily) kept by triggers on the ledger

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:00:00

``usage_daily`` holds the ledger sums per (UTC day, user, model): calls, tokens, priced
cost and the number of unpriced calls. Database triggers on ``usage`` (AFTER INSERT /
UPDATE / DELETE, one row each) keep it in step in the same transaction as every ledger
write, whoever writes (both session stores, repair and reindex, CLI, tests, bulk loads
that keep the triggers). The dashboard reads whole days from it and only the partial days
at the edges of a period from the ledger.

- SQLite: three triggers with an UPSERT (``substr(started_at, 1, 10)`` is the UTC day,
  as in ``ix_usage_day_user_model``).
- PostgreSQL: one plpgsql trigger function (``timezone('UTC', started_at)::date``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SUMS = ("calls", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd")


def _values(row: str) -> str:
    """The per-row contribution of a ledger row (``new`` or ``old``), in SUMS order + unknown."""
    return (
        f"1, {row}.input_tokens, {row}.output_tokens, {row}.cache_read_tokens, {row}.cache_write_tokens, "
        f"coalesce({row}.cost_usd, 0), CASE WHEN {row}.cost_usd IS NULL THEN 1 ELSE 0 END"
    )


COLUMNS = "day, user_id, model_id, calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, unknown_cost_calls"
ADD_ON_CONFLICT = "ON CONFLICT (day, user_id, model_id) DO UPDATE SET " + ", ".join(
    f"{c} = usage_daily.{c} + excluded.{c}" for c in (*SUMS, "unknown_cost_calls")
)


def _subtract(day: str, row: str) -> str:
    return (
        "UPDATE usage_daily SET calls = calls - 1, "
        f"input_tokens = input_tokens - {row}.input_tokens, output_tokens = output_tokens - {row}.output_tokens, "
        f"cache_read_tokens = cache_read_tokens - {row}.cache_read_tokens, "
        f"cache_write_tokens = cache_write_tokens - {row}.cache_write_tokens, "
        f"cost_usd = cost_usd - coalesce({row}.cost_usd, 0), "
        f"unknown_cost_calls = unknown_cost_calls - CASE WHEN {row}.cost_usd IS NULL THEN 1 ELSE 0 END "
        f"WHERE day = {day} AND user_id = {row}.user_id AND model_id = {row}.model_id"
    )


SQLITE_DAY_NEW = "substr(new.started_at, 1, 10)"
SQLITE_DAY_OLD = "substr(old.started_at, 1, 10)"
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER usage_daily_ai AFTER INSERT ON usage BEGIN
  INSERT INTO usage_daily ({COLUMNS}) VALUES ({SQLITE_DAY_NEW}, new.user_id, new.model_id, {_values("new")})
  {ADD_ON_CONFLICT};
END""",
    f"""CREATE TRIGGER usage_daily_ad AFTER DELETE ON usage BEGIN
  {_subtract(SQLITE_DAY_OLD, "old")};
END""",
    f"""CREATE TRIGGER usage_daily_au AFTER UPDATE ON usage BEGIN
  {_subtract(SQLITE_DAY_OLD, "old")};
  INSERT INTO usage_daily ({COLUMNS}) VALUES ({SQLITE_DAY_NEW}, new.user_id, new.model_id, {_values("new")})
  {ADD_ON_CONFLICT};
END""",
]

PG_DAY_NEW = "CAST(timezone('UTC', NEW.started_at) AS DATE)"
PG_DAY_OLD = "CAST(timezone('UTC', OLD.started_at) AS DATE)"
PG_FUNCTION = f"""CREATE FUNCTION usage_daily_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    {_subtract(PG_DAY_OLD, "OLD")};
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO usage_daily ({COLUMNS}) VALUES ({PG_DAY_NEW}, NEW.user_id, NEW.model_id, {_values("NEW")})
    {ADD_ON_CONFLICT};
  END IF;
  RETURN NULL;
END $$"""
PG_TRIGGER = (
    "CREATE TRIGGER usage_daily_sync AFTER INSERT OR UPDATE OR DELETE ON usage "
    "FOR EACH ROW EXECUTE FUNCTION usage_daily_apply()"
)


def backfill_sql(dialect: str) -> str:
    """SQL that fills an empty ``usage_daily`` from the whole ledger (also used by the bench)."""
    day = "substr(started_at, 1, 10)" if dialect == "sqlite" else "CAST(timezone('UTC', started_at) AS DATE)"
    return (
        f"INSERT INTO usage_daily ({COLUMNS}) SELECT {day}, user_id, model_id, count(*), "
        "coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cache_read_tokens), 0), "
        "coalesce(sum(cache_write_tokens), 0), coalesce(sum(cost_usd), 0), "
        f"sum(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) FROM usage GROUP BY {day}, user_id, model_id"
    )


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "usage_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("model_id", sa.String(length=200), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("unknown_cost_calls", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "user_id", "model_id", name="pk_usage_daily"),
    )
    op.execute(backfill_sql(bind.dialect.name))
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("usage_daily_ai", "usage_daily_ad", "usage_daily_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS usage_daily_sync ON usage")
        op.execute("DROP FUNCTION IF EXISTS usage_daily_apply()")
    op.drop_table("usage_daily")
