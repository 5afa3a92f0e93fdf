"""cost-per-session histogram per UTC day (session_cost_daily) kept by triggers on sessions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 20:00:00

The dashboard's "Cost per session" (count, mean, median, p90, max and the fixed cost ranges
of the sessions last active in the period) aggregated every session row of the period: at 1M
sessions a 30-day dashboard read 82k of them. ``session_cost_daily`` holds, per UTC day of a
session's last activity and per scope (the user, and ``'*'`` for all users), how many
sessions fall in each cost bucket and their summed cost:

- ``coarse``: the dashboard's cost range (``SESSION_COST_BUCKETS`` edges 0.001, 0.01, 0.05,
  0.1, 0.5, 1, 5 -> 0..7; -1 = a session with an unpriced call), compared exactly, so the
  ranges' counts are exact;
- ``fine``: ``floor(log10(cost) * 50)`` (50 buckets a decade, each 4.7% wide; -1000 for a
  session that cost nothing): where inside its range a session's cost lies, so the median
  and p90 are interpolated within one fine bucket.

Database triggers on ``sessions`` (insert, delete, and an update of ``updated_at``,
``user_id``, ``cost_usd`` or ``cost_unknown``) move a session between buckets in the
writer's transaction, as ``session_totals`` (migration 0009) is kept: whoever writes a
session row keeps it right. Per committed turn that is two UPDATEs and two UPSERTs of
small rows (the user's and the all-users bucket). A 30-day dashboard then reads
O(days x buckets) rows, not O(sessions).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ALL_SCOPE = "'*'"
FINE_PER_DECADE = 50
ZERO_FINE = -1000
COARSE_EDGES = (0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)  # = assistant.usage.dashboard.SESSION_COST_BUCKETS
WATCHED = "updated_at, user_id, cost_usd, cost_unknown"
COLUMNS = "day, scope, coarse, fine, sessions, cost_usd"
ADD_ON_CONFLICT = (
    "ON CONFLICT (day, scope, coarse, fine) DO UPDATE SET sessions = session_cost_daily.sessions + 1, "
    "cost_usd = session_cost_daily.cost_usd + excluded.cost_usd"
)


def coarse_sql(row: str) -> str:
    """The cost range of a session row (``new``/``old``/a table alias): -1 unknown, 0..7 by the edges."""
    whens = " ".join(f"WHEN {row}.cost_usd < {edge!r} THEN {i}" for i, edge in enumerate(COARSE_EDGES))
    return f"CASE WHEN {row}.cost_unknown THEN -1 {whens} ELSE {len(COARSE_EDGES)} END"


def fine_sql(row: str) -> str:
    """The fine log bucket of a session row's cost (``ZERO_FINE`` for no cost or an unknown one)."""
    return (
        f"CASE WHEN {row}.cost_unknown OR {row}.cost_usd <= 0 THEN {ZERO_FINE} "
        f"ELSE CAST(floor(log10({row}.cost_usd) * {FINE_PER_DECADE}) AS INTEGER) END"
    )


def day_sql(dialect: str, row: str) -> str:
    """The UTC day of a session row's last activity (as ``usage_daily`` days its ledger rows)."""
    if dialect == "sqlite":
        return f"substr({row}.updated_at, 1, 10)"
    return f"CAST(timezone('UTC', {row}.updated_at) AS DATE)"


def _key(dialect: str, row: str, scope: str) -> str:
    return f"{day_sql(dialect, row)}, {scope}, {coarse_sql(row)}, {fine_sql(row)}"


def _add(dialect: str, row: str, scope: str) -> str:
    return (
        f"INSERT INTO session_cost_daily ({COLUMNS}) VALUES ({_key(dialect, row, scope)}, 1, {row}.cost_usd) "
        f"{ADD_ON_CONFLICT}"
    )


def _subtract(dialect: str, row: str, scope: str) -> str:
    return (
        f"UPDATE session_cost_daily SET sessions = sessions - 1, cost_usd = cost_usd - {row}.cost_usd "
        f"WHERE day = {day_sql(dialect, row)} AND scope = {scope} AND coarse = {coarse_sql(row)} "
        f"AND fine = {fine_sql(row)}"
    )


def _moves(dialect: str, row: str, kind: str) -> str:
    """The statements that add (``kind='add'``) or take away a session row, for its user and for all users."""
    make = _add if kind == "add" else _subtract
    return ";\n  ".join(make(dialect, row, scope) for scope in (f"{row}.user_id", ALL_SCOPE)) + ";"


CHANGED = " OR ".join(f"new.{c} IS NOT old.{c}" for c in ("updated_at", "user_id", "cost_usd", "cost_unknown"))
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER session_cost_daily_ai AFTER INSERT ON sessions BEGIN
  {_moves("sqlite", "new", "add")}
END""",
    f"""CREATE TRIGGER session_cost_daily_ad AFTER DELETE ON sessions BEGIN
  {_moves("sqlite", "old", "subtract")}
END""",
    f"""CREATE TRIGGER session_cost_daily_au AFTER UPDATE OF {WATCHED} ON sessions WHEN {CHANGED} BEGIN
  {_moves("sqlite", "old", "subtract")}
  {_moves("sqlite", "new", "add")}
END""",
]
SQLITE_TRIGGER_NAMES = ("session_cost_daily_ai", "session_cost_daily_ad", "session_cost_daily_au")

PG_FUNCTION = f"""CREATE FUNCTION session_cost_daily_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.updated_at = OLD.updated_at AND NEW.user_id = OLD.user_id
     AND NEW.cost_usd = OLD.cost_usd AND NEW.cost_unknown = OLD.cost_unknown THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    {_moves("postgresql", "OLD", "subtract")}
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {_moves("postgresql", "NEW", "add")}
  END IF;
  RETURN NULL;
END $$"""
PG_TRIGGER = (
    f"CREATE TRIGGER session_cost_daily_sync AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} ON sessions "
    "FOR EACH ROW EXECUTE FUNCTION session_cost_daily_apply()"
)


def backfill_sql(dialect: str) -> str:
    """SQL that fills an empty ``session_cost_daily`` from every session (also used by the bench).

    Written day by day (every scope's rows of a day together), as the triggers write them
    while the days pass.
    """
    key = f"{day_sql(dialect, 's')}, {coarse_sql('s')}, {fine_sql('s')}"
    return (
        f"INSERT INTO session_cost_daily ({COLUMNS}) SELECT * FROM ("
        f"SELECT {day_sql(dialect, 's')} AS day, s.user_id AS scope, {coarse_sql('s')} AS coarse, "
        f"{fine_sql('s')} AS fine, count(*) AS sessions, sum(s.cost_usd) AS cost_usd "
        f"FROM sessions s GROUP BY s.user_id, {key} "
        f"UNION ALL SELECT {day_sql(dialect, 's')}, {ALL_SCOPE}, {coarse_sql('s')}, {fine_sql('s')}, count(*), "
        f"sum(s.cost_usd) FROM sessions s GROUP BY {key}"
        ") AS per_day ORDER BY day, coarse, fine"
    )


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "session_cost_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("coarse", sa.Integer(), nullable=False),
        sa.Column("fine", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "day", "coarse", "fine", name="pk_session_cost_daily"),
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
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS session_cost_daily_sync ON sessions")
        op.execute("DROP FUNCTION IF EXISTS session_cost_daily_apply()")
    op.drop_table("session_cost_daily")
