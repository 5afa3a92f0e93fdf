"""SQL schema (SQLAlchemy Core) and engine factory shared by every SQL-backed module.

Schema changes go through Alembic (``migrations/``); :func:`upgrade` applies them. The
local SQLite file runs in WAL mode with a busy timeout, and write transactions begin
IMMEDIATE so concurrent writers queue instead of failing on lock upgrades.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    exc,
)
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

metadata = MetaData()

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(255), nullable=False),
    Column("user_email", String(320)),
    Column("title", String(200), nullable=False),
    Column("state", String(16), nullable=False, default="active"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("model", String(200), nullable=False),
    Column("version", Integer, nullable=False, default=0),
    Column("message_count", Integer, nullable=False, default=0),
    Column("turn_count", Integer, nullable=False, default=0),
    Column("input_tokens", BigInteger, nullable=False, default=0),
    Column("output_tokens", BigInteger, nullable=False, default=0),
    Column("cost_usd", Float, nullable=False, default=0.0),
    Column("cost_unknown", Boolean, nullable=False, default=False),
    Column("errors", Integer, nullable=False, default=0),
    Column("continued_from", String(64)),
    Column("damaged", Text),
    Column("storage", String(8), nullable=False, default="sql"),
    Column("agent_snapshot", Text),  # JSON of the strands Snapshot (SQL backend only)
    Index("ix_sessions_user_updated", "user_id", "updated_at"),
    Index("ix_sessions_updated", "updated_at"),
    # migration 0002: the sessions list reads counts and totals from this index only
    Index(
        "ix_sessions_list_cover",
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
    ),
    # migration 0009: the table sorted by cost; the dashboard's cost per session over a period
    Index("ix_sessions_cost", "cost_usd", "id"),
    Index("ix_sessions_updated_cost", "updated_at", "cost_usd", "cost_unknown"),
)

TITLE_TURN_IDX = -1
"""``session_text.turn_idx`` of a session's title row."""

session_text = Table(
    "session_text",
    metadata,
    # append-only transcript search text (migration 0003): one row per committed turn
    # (lower-cased user+assistant text) and one title row (turn_idx = TITLE_TURN_IDX).
    # SQLite indexes it with the FTS5 trigram table session_text_fts (triggers), Postgres
    # with the pg_trgm GIN index ix_session_text_trgm; both are dialect-specific, created
    # by the migration only.
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column(
        "session_id",
        String(64),
        ForeignKey("sessions.id", ondelete="CASCADE", name="fk_session_text_session"),
        nullable=False,
    ),
    Column("turn_idx", Integer, nullable=False),
    Column("text", Text, nullable=False),
    UniqueConstraint("session_id", "turn_idx", name="uq_session_text_session_turn"),
)

messages = Table(
    "messages",
    metadata,
    Column("session_id", String(64), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("content", Text, nullable=False),  # JSON list of strands ContentBlocks
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("session_id", "idx", name="uq_messages_session_idx"),
)

turns = Table(
    "turns",
    metadata,
    Column("session_id", String(64), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("record", Text, nullable=False),  # JSON of TurnRecord
    Column("feedback", Integer),
    UniqueConstraint("session_id", "idx", name="uq_turns_session_idx"),
)

usage = Table(
    "usage",
    metadata,
    Column("call_id", String(64), primary_key=True),
    Column("session_id", String(64), nullable=False),
    Column("user_id", String(255), nullable=False),
    Column("turn_idx", Integer, nullable=False),
    Column("provider", String(64), nullable=False),
    Column("model_id", String(200), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("input_tokens", Integer, nullable=False, default=0),
    Column("output_tokens", Integer, nullable=False, default=0),
    Column("cache_read_tokens", Integer, nullable=False, default=0),
    Column("cache_write_tokens", Integer, nullable=False, default=0),
    Column("latency_ms", Float),
    Column("ttft_ms", Float),
    Column("error", Text),
    Column("cost_usd", Float),  # NULL = unknown price
    Column("price_version", String(64)),
    Index("ix_usage_session", "session_id"),
    Index("ix_usage_user_started", "user_id", "started_at"),
    Index("ix_usage_started", "started_at"),
    # migration 0002: dashboard aggregates over a period, and spend today (index-only);
    # the expression index ix_usage_day_user_model is dialect-specific (migration only)
    Index(
        "ix_usage_started_cover",
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
    ),
    Index("ix_usage_user_started_cost", "user_id", "started_at", "cost_usd"),
)

usage_daily = Table(
    "usage_daily",
    metadata,
    # ledger sums per (UTC day, user, model), migration 0004; kept in step with ``usage`` by
    # database triggers (dialect-specific, created by the migration) in the writer's transaction
    Column("day", Date, nullable=False),
    Column("user_id", String(255), nullable=False),
    Column("model_id", String(200), nullable=False),
    Column("calls", BigInteger, nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("cache_read_tokens", BigInteger, nullable=False),
    Column("cache_write_tokens", BigInteger, nullable=False),
    Column("cost_usd", Float, nullable=False),  # priced calls only
    Column("unknown_cost_calls", BigInteger, nullable=False),
    PrimaryKeyConstraint("day", "user_id", "model_id", name="pk_usage_daily"),
)

session_totals = Table(
    "session_totals",
    metadata,
    # count and sums of the sessions per (user, state, model), migration 0009; kept in step
    # with ``sessions`` by database triggers (dialect-specific, created by the migration)
    Column("user_id", String(255), nullable=False),
    Column("state", String(16), nullable=False),
    Column("model", String(200), nullable=False),
    Column("sessions", BigInteger, nullable=False),
    Column("turns", BigInteger, nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("unknown_cost_sessions", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    PrimaryKeyConstraint("user_id", "state", "model", name="pk_session_totals"),
)

usage_latency_daily = Table(
    "usage_latency_daily",
    metadata,
    # exact latency/TTFT percentiles of a closed UTC day per scope (a user id, or '*' for all
    # users), migration 0009; filled by the dashboard, trusted while usage_daily counts ``calls``
    Column("day", Date, nullable=False),
    Column("scope", String(255), nullable=False),
    Column("calls", BigInteger, nullable=False),
    Column("latency_p50_ms", Float),
    Column("latency_p95_ms", Float),
    Column("ttft_p50_ms", Float),
    Column("ttft_p95_ms", Float),
    PrimaryKeyConstraint("day", "scope", name="pk_usage_latency_daily"),
)

session_cost_daily = Table(
    "session_cost_daily",
    metadata,
    # sessions per (UTC day of last activity, scope = user id or '*', cost range, fine log
    # bucket) and their summed cost, migration 0010; kept in step with ``sessions`` by
    # database triggers; the dashboard's cost-per-session distribution reads it
    Column("day", Date, nullable=False),
    Column("scope", String(255), nullable=False),
    Column("coarse", Integer, nullable=False),
    Column("fine", Integer, nullable=False),
    Column("sessions", BigInteger, nullable=False),
    Column("cost_usd", Float, nullable=False),
    PrimaryKeyConstraint("scope", "day", "coarse", "fine", name="pk_session_cost_daily"),
)

prep_responses = Table(
    "prep_responses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(255), nullable=False),
    Column("meeting_id", String(128), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("response", Text, nullable=False),
    Column("session_id", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_prep_user_meeting", "user_id", "meeting_id"),
)

revoked_sign_ins = Table(
    "revoked_sign_ins",
    metadata,
    Column("token_id", String(64), primary_key=True),
    Column("user_id", String(255), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=False),
    Index("ix_revoked_sign_ins_expires", "expires_at"),
)

send_log = Table(
    "send_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(255), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Index("ix_send_log_user_sent", "user_id", "sent_at"),
)

calendar_connections = Table(
    "calendar_connections",
    metadata,
    # The one calendar a user has connected (none: the demo calendar). Secrets (a Google
    # refresh token, a secret iCal address) are stored encrypted with CALENDAR_ENCRYPTION_KEY.
    Column("user_id", String(255), primary_key=True),
    Column("kind", String(16), nullable=False),  # google | ics_url | ics_file
    Column("label", String(200), nullable=False),  # what the page shows: account, host or file name
    Column("secret_enc", Text, nullable=True),  # encrypted refresh token or iCal address
    Column("ics_data", LargeBinary, nullable=True),  # an uploaded .ics file, as uploaded
    Column("status", String(16), nullable=False, default="ok"),  # ok | reconnect
    Column("connected_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, default=0),
)

calendar_cache = Table(
    "calendar_cache",
    metadata,
    # The last good copy of a user's events (JSON list of meetings over a window), shared
    # by every replica; a failing source keeps serving it with last_error shown.
    Column("user_id", String(255), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("events_json", Text, nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("window_end", DateTime(timezone=True), nullable=False),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("last_error_at", DateTime(timezone=True), nullable=True),
    # What the user should know about the copy (e.g. only its first meetings kept), not an error.
    Column("notice", Text, nullable=True),
)

user_context = Table(
    "user_context",
    metadata,
    # A user's own budget or big rocks (kind), versioned: a save names the version it read.
    Column("user_id", String(255), nullable=False),
    Column("kind", String(16), nullable=False),  # budget | big_rocks
    Column("data_json", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("user_id", "kind", name="pk_user_context"),
)

meeting_overrides = Table(
    "meeting_overrides",
    metadata,
    # A meeting type the user chose over the rules; keyed by meeting id (a recurring
    # series' occurrences share series_id, and an override on the series covers them all).
    Column("user_id", String(255), nullable=False),
    Column("meeting_key", String(128), nullable=False),
    Column("meeting_type", String(32), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("user_id", "meeting_key", name="pk_meeting_overrides"),
)

session_meetings = Table(
    "session_meetings",
    metadata,
    # A prep session bound to the meeting it prepares (from the Prep queue).
    Column("session_id", String(64), primary_key=True),
    Column("user_id", String(255), nullable=False),
    Column("meeting_id", String(128), nullable=False),
    Column("series_id", String(128), nullable=True),
    Column("meeting_title", String(200), nullable=False),
    Column("meeting_start", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_session_meetings_user_meeting", "user_id", "meeting_id"),
)

pending_turns = Table(
    "pending_turns",
    metadata,
    # A question being answered (or whose answer failed), written before the model is called:
    # a restart, a crash or a lost race never makes the question vanish. One per session;
    # the turn's commit deletes it, and a row whose turn_idx is behind the session's
    # turn_count is stale.
    Column("session_id", String(64), primary_key=True),
    Column("user_id", String(255), nullable=False),
    Column("turn_idx", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False),  # running | failed
    Column("owner", String(64), nullable=False),  # the process answering it
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Column("error_category", String(32), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("retryable", Boolean, nullable=False, default=True),
    # what the answer is expected to cost, held against the user's daily budget while the
    # question is running (migration 0012): parallel sends cannot all see the budget unspent
    Column("reserved_usd", Float, nullable=False, default=0.0, server_default="0"),
    Index("ix_pending_turns_user", "user_id"),
)

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # Straight to the driver: BEGIN takes no parameters and returns no rows, and going through
    # ``exec_driver_sql`` cost every transaction about as much again as an empty one.
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    statement = "BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN"
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        conn.connection.driver_connection.execute(statement)
    except dbapi_error as e:  # raised as SQLAlchemy would ("database is locked" -> OperationalError)
        raise exc.DBAPIError.instance(statement, None, e, dbapi_error) from e


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A write transaction: BEGIN IMMEDIATE on SQLite (writers queue on the busy timeout
    instead of failing on a lock upgrade), a plain transaction elsewhere."""
    with engine.connect() as conn:
        conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            yield conn


CONNECT_TIMEOUT_S = 10
"""Seconds a new Postgres connection may take before it fails (unless the URL sets connect_timeout)."""


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` (SQLite file in WAL mode, or Postgres).

    Args:
        url: SQLAlchemy database URL.

    Returns:
        A new engine; prefer :func:`get_engine` for the shared one.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # a folder that cannot be made: the connect fails instead, "unable to open database file",
            # which the CLI and the pages report naming DATABASE_URL (this was a traceback)
            with suppress(OSError):
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=False)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    # A host that accepts the connection and never answers (a hung server, a firewall that
    # drops replies) held a page or the CLI forever: give up after CONNECT_TIMEOUT_S, which the
    # callers report as "the database cannot be reached". A URL's own connect_timeout wins.
    timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_S}
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=timeout)


def get_engine(url: str) -> Engine:
    """Process-wide engine for ``url`` (one pool per database)."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            _engines[url] = engine
        return engine


def on_conflict_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's ``insert`` with ``on_conflict_do_update`` (Postgres's, else SQLite's).

    Imported when first needed, so a SQLite deployment never loads the Postgres dialect
    (~16 ms of a cold start).

    Args:
        dialect: The engine's dialect name.
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    from sqlalchemy.dialects import sqlite

    return sqlite.insert


def is_sqlite(engine: Engine) -> bool:
    """Whether the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"
