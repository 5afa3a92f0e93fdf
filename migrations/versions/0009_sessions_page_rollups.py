"""sessions page at scale: session_totals rollup, latency cache of closed days, sort and range indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 10:00:00

At 1M sessions and 10M ledger rows the sessions page spent its time on work that grows
with history: totals of the filtered set summed over every session row on each page view,
dashboard latency percentiles sorted from every ledger row of the period, a sort by cost
without an index.

- ``session_totals``: count and sums of the sessions per (user, state, model), kept in step
  with ``sessions`` by database triggers in the writer's transaction (as ``usage_daily``,
  migration 0004, is with the ledger): whoever writes a session row (both stores, repair,
  reindex, CLI, tests) keeps it right. The sessions table reads its totals from it when the
  filter is only users, states and models (the page's default view).
- ``usage_latency_daily``: the exact latency/TTFT percentiles of a *closed* UTC day, per user
  and for all users (``scope = '*'``), with the number of calls they were computed from. The
  dashboard fills it on first read and trusts a row only while ``usage_daily`` still counts
  the same calls for that day and scope; a late ledger row for that day makes it recompute.
- ``ix_sessions_cost``: the sessions table sorted by cost (all users or one user) walks an
  index instead of sorting every session.
- ``ix_sessions_updated_cost``: the dashboard's cost-per-session distribution reads the
  period's sessions from the index alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = "user_id, state, model, sessions, turns, input_tokens, output_tokens, cost_usd, unknown_cost_sessions, errors"
SUMS = ("sessions", "turns", "input_tokens", "output_tokens", "cost_usd", "unknown_cost_sessions", "errors")
ADD_ON_CONFLICT = "ON CONFLICT (user_id, state, model) DO UPDATE SET " + ", ".join(
    f"{c} = session_totals.{c} + excluded.{c}" for c in SUMS
)
WATCHED = "user_id, state, model, turn_count, input_tokens, output_tokens, cost_usd, cost_unknown, errors"


def _unknown(row: str) -> str:
    return f"CASE WHEN {row}.cost_unknown THEN 1 ELSE 0 END"


def _values(row: str) -> str:
    """One session row's contribution, in COLUMNS order."""
    return (
        f"{row}.user_id, {row}.state, {row}.model, 1, {row}.turn_count, {row}.input_tokens, {row}.output_tokens, "
        f"{row}.cost_usd, {_unknown(row)}, {row}.errors"
    )


def _key(row: str) -> str:
    return f"user_id = {row}.user_id AND state = {row}.state AND model = {row}.model"


def _subtract(row: str) -> str:
    return (
        f"UPDATE session_totals SET sessions = sessions - 1, turns = turns - {row}.turn_count, "
        f"input_tokens = input_tokens - {row}.input_tokens, output_tokens = output_tokens - {row}.output_tokens, "
        f"cost_usd = cost_usd - {row}.cost_usd, unknown_cost_sessions = unknown_cost_sessions - {_unknown(row)}, "
        f"errors = errors - {row}.errors WHERE {_key(row)}"
    )


def _delta(new: str, old: str) -> str:
    """Same key on both sides (the common case: a turn committed): one UPDATE of the differences."""
    return (
        f"UPDATE session_totals SET turns = turns + ({new}.turn_count - {old}.turn_count), "
        f"input_tokens = input_tokens + ({new}.input_tokens - {old}.input_tokens), "
        f"output_tokens = output_tokens + ({new}.output_tokens - {old}.output_tokens), "
        f"cost_usd = cost_usd + ({new}.cost_usd - {old}.cost_usd), "
        f"unknown_cost_sessions = unknown_cost_sessions + ({_unknown(new)} - {_unknown(old)}), "
        f"errors = errors + ({new}.errors - {old}.errors) WHERE {_key(new)}"
    )


def _insert(row: str) -> str:
    return f"INSERT INTO session_totals ({COLUMNS}) VALUES ({_values(row)}) {ADD_ON_CONFLICT}"


SAME_KEY = "new.user_id = old.user_id AND new.state = old.state AND new.model = old.model"
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER session_totals_ai AFTER INSERT ON sessions BEGIN
  {_insert("new")};
END""",
    f"""CREATE TRIGGER session_totals_ad AFTER DELETE ON sessions BEGIN
  {_subtract("old")};
END""",
    f"""CREATE TRIGGER session_totals_au_same AFTER UPDATE OF {WATCHED} ON sessions WHEN {SAME_KEY} BEGIN
  {_delta("new", "old")};
END""",
    f"""CREATE TRIGGER session_totals_au_moved AFTER UPDATE OF {WATCHED} ON sessions WHEN NOT ({SAME_KEY}) BEGIN
  {_subtract("old")};
  {_insert("new")};
END""",
]
SQLITE_TRIGGER_NAMES = ("session_totals_ai", "session_totals_ad", "session_totals_au_same", "session_totals_au_moved")

PG_FUNCTION = f"""CREATE FUNCTION session_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.user_id = OLD.user_id AND NEW.state = OLD.state AND NEW.model = OLD.model THEN
    IF NEW.turn_count = OLD.turn_count AND NEW.input_tokens = OLD.input_tokens
       AND NEW.output_tokens = OLD.output_tokens AND NEW.cost_usd = OLD.cost_usd
       AND NEW.cost_unknown = OLD.cost_unknown AND NEW.errors = OLD.errors THEN
      RETURN NULL;
    END IF;
    {_delta("NEW", "OLD")};
    RETURN NULL;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    {_subtract("OLD")};
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {_insert("NEW")};
  END IF;
  RETURN NULL;
END $$"""
PG_TRIGGER = (
    f"CREATE TRIGGER session_totals_sync AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} ON sessions "
    "FOR EACH ROW EXECUTE FUNCTION session_totals_apply()"
)


def backfill_sql() -> str:
    """SQL that fills an empty ``session_totals`` from every session (also used by the bench)."""
    return (
        f"INSERT INTO session_totals ({COLUMNS}) SELECT user_id, state, model, count(*), "
        "coalesce(sum(turn_count), 0), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), "
        "coalesce(sum(cost_usd), 0), coalesce(sum(CASE WHEN cost_unknown THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(errors), 0) FROM sessions GROUP BY user_id, state, model"
    )


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "session_totals",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("sessions", sa.BigInteger(), nullable=False),
        sa.Column("turns", sa.BigInteger(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("unknown_cost_sessions", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "state", "model", name="pk_session_totals"),
    )
    op.create_table(
        "usage_latency_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("latency_p50_ms", sa.Float(), nullable=True),
        sa.Column("latency_p95_ms", sa.Float(), nullable=True),
        sa.Column("ttft_p50_ms", sa.Float(), nullable=True),
        sa.Column("ttft_p95_ms", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("day", "scope", name="pk_usage_latency_daily"),
    )
    op.execute(backfill_sql())
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    op.create_index("ix_sessions_cost", "sessions", ["cost_usd", "id"])
    op.create_index("ix_sessions_updated_cost", "sessions", ["updated_at", "cost_usd", "cost_unknown"])


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ix_sessions_updated_cost", table_name="sessions")
    op.drop_index("ix_sessions_cost", table_name="sessions")
    if bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS session_totals_sync ON sessions")
        op.execute("DROP FUNCTION IF EXISTS session_totals_apply()")
    op.drop_table("usage_latency_daily")
    op.drop_table("session_totals")
