"""Benchmark of the sessions page queries as history grows, two sizes in one run.

Seeds ``--base-sessions`` sessions (default: a tenth of ``--sessions``; realistic titles and
transcript text, 20 users with a skewed spread, three states, several models, ~10 usage rows
per session over the past year), measures, then adds the rest up to ``--sessions`` (the first
sessions are the same: each session is generated from its own seed) and measures again, into
a fresh SQLite file and PostgreSQL when ``--db-url`` or TEST_DATABASE_URL is given (a dedicated
schema, dropped first and at the end unless ``--keep``). Seeding goes through bulk paths:
``COPY`` on Postgres (the rows generated and formatted as COPY text in a second process while
this one copies; the indexes rebuilt on two connections at once, the trigram GIN index on one),
``executemany`` in large batches on SQLite; secondary indexes and triggers set aside during
the load and rebuilt once, the rollups (``usage_daily``, ``session_totals``,
``session_cost_daily``) recomputed. ``--measure-only`` measures a schema kept by ``--keep``
(migrated to head first) without seeding it again.

Each query is the page's own call (``list_sessions`` / ``dashboard``), run once to warm up and
then ``--repeat`` times; its p95 is printed at both sizes with ``scale_ratio`` (p95 at the
larger size over p95 at the smaller one) and its target:

- ``list_p95_ms``: first page of the sessions table, all users (admin view), by last activity;
- ``search_p95_ms``: a transcript search over all users (a project name, not expired);
- ``dashboard_p95_ms``: the "Last 30 days" dashboard, all users (the page's UTC-day bounds);
- ``list_user_p95_ms`` / ``search_user_p95_ms`` / ``dashboard_user_p95_ms``: one heavy user;
- ``list_page_20_p95_ms``: page 21 (rows 1001-1050) of a light user's list, asked as the page
  does: after the last row of page 20 (keyset);
- ``search_rare_p95_ms``: a search that matches nothing;
- ``search_short_p95_ms``: a two-letter word no session holds ("zq": too short for the text
  index, so the first ``SHORT_SEARCH_SESSIONS`` of the list are searched and no further);
- ``search_words_p95_ms``: two words that one exchange (a turn's text) of some sessions holds,
  apart and in the other order (a person and a project), all users;
- ``search_words_none_p95_ms``: two common words no row holds both of (two projects: one in
  twenty sessions each), all users: the text index ANDs two large posting lists inside rows;
- ``list_sorted_cost_p95_ms``: first page sorted by cost, all users.

The last stdout line is one JSON object::

    {"postgres": {"queries": {"list_p95_ms": {"100000": 12.1, "1000000": 13.0, "scale_ratio": 1.07,
                  "target_ms": 100, "ok": true}, ...}, "seed_s": {...}, "all_ok": true},
     "sqlite": {...}, "sessions": [100000, 1000000], "usage_rows": [...], "elapsed_s": 512.3}

Usage::

    .venv/bin/python bench/sessions_page.py --sessions 1000000 --json --skip-sqlite \\
        --db-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_sessions
    .venv/bin/python bench/sessions_page.py --measure-only --db-url ...   # after a --keep run
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import math
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path.pop(0)  # a bench script must not shadow a stdlib module
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import Engine, make_url, text  # noqa: E402

from assistant.db import TITLE_TURN_IDX, make_engine  # noqa: E402
from assistant.migrate import upgrade  # noqa: E402
from assistant.sessions.queries import SessionFilter, list_sessions  # noqa: E402
from assistant.usage.dashboard import dashboard  # noqa: E402
from assistant.usage.pricing import DEFAULT_PRICES_FILE, PriceTable  # noqa: E402
from assistant.usage.rollups import rebuild_usage_daily  # noqa: E402
from assistant.views.sessions import period_bounds  # noqa: E402

BENCH_SCHEMA = "bench_sessions_page"
SQLITE_FMT = "%Y-%m-%d %H:%M:%S.%f"

MODELS = [  # (session model, usage model id, weight)
    ("offline", "offline", 20),
    ("bedrock:us.amazon.nova-lite-v1:0", "us.amazon.nova-lite-v1:0", 30),
    ("bedrock:us.amazon.nova-pro-v1:0", "us.amazon.nova-pro-v1:0", 15),
    ("bedrock:us.amazon.nova-micro-v1:0", "us.amazon.nova-micro-v1:0", 10),
    ("bedrock:us.anthropic.claude-3-5-haiku-20241022-v1:0", "us.anthropic.claude-3-5-haiku-20241022-v1:0", 10),
    ("bedrock:us.anthropic.claude-sonnet-4-20250514-v1:0", "us.anthropic.claude-sonnet-4-20250514-v1:0", 8),
    ("bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", 6),
    ("bedrock:us.example.unpriced-model-v1:0", "us.example.unpriced-model-v1:0", 1),
]
PEOPLE = ["Maria Chen", "Tom Okafor", "Priya Nair", "Lukas Berg", "Ana Souza", "James Park", "Fatima Zahra", "Ken Ito"]
MEETINGS = [
    "board review",
    "quarterly business review",
    "1:1",
    "budget planning",
    "hiring committee",
    "product roadmap sync",
    "customer escalation",
    "offsite planning",
    "investor update",
    "all-hands prep",
]
PROJECTS = [
    "aurora",
    "basalt",
    "cobalt",
    "dynamo",
    "ember",
    "falcon",
    "granite",
    "helios",
    "iris",
    "juniper",
    "kestrel",
    "lumen",
    "meridian",
    "nimbus",
    "onyx",
    "polaris",
    "quartz",
    "redwood",
    "sierra",
    "tundra",
]
SENTENCES = [
    "what meetings do i have tomorrow and which ones need preparation",
    "here is your agenda for the {m} with {p}, including the open action items",
    "summarise the last three conversations about project {x} and the risks raised",
    "the budget for project {x} is 12% over plan because of vendor costs",
    "prepare talking points for the {m}: hiring, budget variance and the launch date",
    "i saved your prep notes for the {m}; you can find them under prep responses",
    "which of my big rocks are at risk this quarter?",
    "two big rocks are behind: the {x} migration and the customer advisory board",
    "draft a short note to {p} to move the {m} to thursday afternoon",
    "the calendar shows a conflict between the {m} and the {x} steering committee",
    "list the decisions we still need from finance before the {m}",
    "remind me what {p} asked for in the previous session about {x}",
]


def _weighted_models(rng: random.Random) -> tuple[str, str]:
    return rng.choices(_MODEL_PAIRS, weights=_MODEL_WEIGHTS, k=1)[0]


_MODEL_PAIRS = [(s, u) for s, u, _w in MODELS]
_MODEL_WEIGHTS = [w for _s, _u, w in MODELS]
USERS = [f"user-{i:02d}" for i in range(1, 21)]
USER_WEIGHTS = [1.0 / (i + 1) for i in range(len(USERS))]

Rows = list[tuple[Any, ...]]


class Generator:
    """Deterministic sessions, usage and search-text rows; session ``i`` depends only on (seed, i).

    So the first N sessions of a larger run are exactly the sessions of a run of N: the bench
    measures the smaller size, then adds the rest.
    """

    def __init__(self, calls_per_session: int, seed: int = 7, now: datetime | None = None) -> None:
        self.calls = calls_per_session
        self.seed = seed
        self.now = now or datetime.now(UTC).replace(microsecond=0)
        table = PriceTable.load(DEFAULT_PRICES_FILE)
        self.price_version = table.version
        self.prices = {u: table.price_for(u, self.now) for _s, u, _w in MODELS}

    def chunk(self, first: int, last: int) -> tuple[Rows, Rows, Rows]:
        """Rows of sessions ``[first, last)`` in :data:`SESSION_COLS` / :data:`USAGE_COLS` / :data:`TEXT_COLS` order.

        ``text_rows`` holds one row per turn and one title row per session, as the stores write them.
        """
        session_rows: Rows = []
        usage_rows: Rows = []
        text_rows: Rows = []
        now = self.now
        avg = self.calls
        for s in range(first, last):
            rng = random.Random(self.seed * 10_000_019 + s)
            sid = f"{rng.getrandbits(128):032x}"
            sid = f"{sid[:8]}-{sid[8:12]}-4{sid[13:16]}-a{sid[17:20]}-{sid[20:32]}"
            r = rng.random  # int(r() * k) instead of randint/choice: the generator's hot loop
            user = rng.choices(USERS, weights=USER_WEIGHTS, k=1)[0]
            session_model, model_id = _weighted_models(rng)
            created = now - timedelta(seconds=int(r() * 365 * 86400))
            n_calls = 1 + int(r() * (2 * avg - 1))
            project = PROJECTS[int(r() * len(PROJECTS))]
            person = PEOPLE[int(r() * len(PEOPLE))].lower()
            meeting = MEETINGS[int(r() * len(MEETINGS))]
            parts = [
                SENTENCES[int(r() * len(SENTENCES))].format(m=meeting, p=person, x=project)
                for _ in range(4 + n_calls // 2)
            ]
            title = f"Prep for {meeting} with {person.title()}"[:200]
            n_turns = (n_calls + 1) // 2
            text_rows.append((sid, TITLE_TURN_IDX, title.lower()))
            for turn in range(n_turns):
                text_rows.append((sid, turn, " ".join(parts[turn::n_turns])))
            t = created
            cost = 0.0
            unknown = False
            tin = tout = 0
            errors = 0
            price = self.prices[model_id]
            provider = "offline" if model_id == "offline" else "bedrock"
            for c in range(n_calls):
                t = t + timedelta(seconds=2 + int(r() * 89))
                i_tok = 800 + int(r() * 5201)
                o_tok = 50 + int(r() * 851)
                cr = int(r() * 4001) if r() < 0.25 else 0
                cw = int(r() * 2001) if r() < 0.2 else 0
                latency = math.exp(rng.gauss(7.495, 0.5))  # lognormal around 1.8 s
                ttft = latency * (0.15 + 0.35 * r())
                err = "ThrottlingException" if r() < 0.01 else None
                errors += err is not None
                call_cost = price.cost(i_tok, o_tok, cr, cw) if price is not None else None
                if call_cost is None:
                    unknown = True
                else:
                    cost += call_cost
                tin += i_tok + cr + cw
                tout += o_tok
                usage_rows.append(
                    (
                        f"call-{s:08d}-{c:03d}",
                        sid,
                        user,
                        c // 2,
                        provider,
                        model_id,
                        t,
                        i_tok,
                        o_tok,
                        cr,
                        cw,
                        round(latency, 1),
                        round(ttft, 1),
                        err,
                        call_cost,
                        self.price_version,
                    )
                )
            age = now - t
            state = "active" if age < timedelta(hours=24) else ("completed", "expired", "expired")[int(r() * 3)]
            session_rows.append(
                (
                    sid,
                    user,
                    f"{user}@example.com",
                    title,
                    state,
                    created,
                    t,
                    session_model,
                    n_calls * 2,
                    n_calls * 2 + 1,
                    n_turns,
                    tin,
                    tout,
                    cost,
                    unknown,
                    errors,
                    "sql",
                )
            )
        return session_rows, usage_rows, text_rows

    def chunks(self, first: int, last: int, size: int = 20_000) -> Iterator[tuple[Rows, Rows, Rows]]:
        """:meth:`chunk` over ``[first, last)`` in pieces of ``size`` sessions."""
        for lo in range(first, last, size):
            yield self.chunk(lo, min(last, lo + size))


SESSION_COLS = (
    "id",
    "user_id",
    "user_email",
    "title",
    "state",
    "created_at",
    "updated_at",
    "model",
    "version",
    "message_count",
    "turn_count",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "cost_unknown",
    "errors",
    "storage",
)
TEXT_COLS = ("session_id", "turn_idx", "text")
ROLLUP_SQLITE = (  # the usage_daily rollup of the whole ledger (what migration 0004's triggers maintain)
    "INSERT INTO usage_daily (day, user_id, model_id, calls, input_tokens, output_tokens, cache_read_tokens, "
    "cache_write_tokens, cost_usd, unknown_cost_calls) SELECT substr(started_at, 1, 10), user_id, model_id, "
    "count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens), "
    "coalesce(sum(cost_usd), 0), sum(cost_usd IS NULL) FROM usage GROUP BY 1, 2, 3"
)
USAGE_COLS = (
    "call_id",
    "session_id",
    "user_id",
    "turn_idx",
    "provider",
    "model_id",
    "started_at",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "latency_ms",
    "ttft_ms",
    "error",
    "cost_usd",
    "price_version",
)


SESSION_TOTALS_SQL = (  # what migration 0009's triggers maintain (the bench sets them aside while loading)
    "INSERT INTO session_totals (user_id, state, model, sessions, turns, input_tokens, output_tokens, cost_usd, "
    "unknown_cost_sessions, errors) SELECT user_id, state, model, count(*), sum(turn_count), sum(input_tokens), "
    "sum(output_tokens), sum(cost_usd), sum(CASE WHEN cost_unknown THEN 1 ELSE 0 END), sum(errors) "
    "FROM sessions GROUP BY user_id, state, model"
)


def _migration(name: str) -> Any:
    """A migration module by file name (the bench rebuilds the rollups with the migrations' own backfill SQL)."""
    path = ROOT / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


COST_DAILY = _migration("0010_session_cost_daily")


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(v.strftime(SQLITE_FMT) if isinstance(v, datetime) else v for v in row)


class Counts:
    """Rows written so far."""

    def __init__(self) -> None:
        self.sessions = 0
        self.usage = 0
        self.text = 0


def seed_sqlite(engine: Engine, chunks: Iterator[tuple[Rows, Rows, Rows]], counts: Counts) -> None:
    """Bulk-load rows through the raw sqlite3 connection (big executemany batches).

    The secondary indexes and the triggers (search, rollups) are set aside during the load
    and rebuilt in bulk afterwards (much faster than row-by-row maintenance): the FTS index
    gets the new rows, the rollups are recomputed; foreign keys are checked once at the end.
    The schema ends up exactly as migrated.
    """
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA cache_size=-262144")
        cur.execute("PRAGMA foreign_keys=OFF")
        saved = cur.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            "AND tbl_name IN ('sessions', 'usage', 'session_text') AND sql IS NOT NULL"
        ).fetchall()
        has_fts = bool(cur.execute("SELECT 1 FROM sqlite_master WHERE name = 'session_text_fts'").fetchone())
        last_text_id = cur.execute("SELECT coalesce(max(id), 0) FROM session_text").fetchone()[0]
        cur.execute("BEGIN")
        for kind, name, _sql in saved:
            cur.execute(f"DROP {kind.upper()} {name}")
        ins_s = f"INSERT INTO sessions ({', '.join(SESSION_COLS)}) VALUES ({', '.join('?' * len(SESSION_COLS))})"
        ins_u = f"INSERT INTO usage ({', '.join(USAGE_COLS)}) VALUES ({', '.join('?' * len(USAGE_COLS))})"
        ins_t = f"INSERT INTO session_text ({', '.join(TEXT_COLS)}) VALUES (?, ?, ?)"
        for session_rows, usage_rows, text_rows in chunks:
            cur.executemany(ins_s, [_sqlite_row(r) for r in session_rows])
            cur.executemany(ins_u, [_sqlite_row(r) for r in usage_rows])
            cur.executemany(ins_t, text_rows)
            counts.sessions += len(session_rows)
            counts.usage += len(usage_rows)
            counts.text += len(text_rows)
        if has_fts:
            cur.execute(
                "INSERT INTO session_text_fts(rowid, text) SELECT id, text FROM session_text WHERE id > ?",
                (last_text_id,),
            )
        for _kind, _name, sql in saved:
            cur.execute(sql)
        for statement in (
            "DELETE FROM usage_daily",
            ROLLUP_SQLITE,
            "DELETE FROM session_totals",
            SESSION_TOTALS_SQL,
            "DELETE FROM session_cost_daily",
            COST_DAILY.backfill_sql("sqlite"),
        ):
            cur.execute(statement)
        cur.execute("DELETE FROM usage_latency_daily")
        if cur.execute("PRAGMA foreign_key_check(session_text)").fetchone() is not None:
            raise SystemExit("session_text rows without a session")
        cur.execute("COMMIT")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("ANALYZE")
        # fold the bulk load back into the main file: a steady-state app has a small WAL,
        # and reads through a ~1 GB WAL index would measure the bench, not the queries
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.close()
    finally:
        raw.close()


def _copy_value(v: Any) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, datetime):
        return v.isoformat()
    return str(v)  # the generated text holds no tab, newline or backslash


def _copy_block(rows: Rows) -> bytes:
    """Rows as one block of COPY text format."""
    return "".join("\t".join(map(_copy_value, row)) + "\n" for row in rows).encode()


_worker_gen: list[Generator] = []


def _copy_chunk(bounds: tuple[int, int]) -> tuple[tuple[int, int, int], bytes, bytes, bytes]:
    """A chunk of sessions generated and formatted for COPY (in the generator process)."""
    session_rows, usage_rows, text_rows = _worker_gen[0].chunk(*bounds)
    counts = (len(session_rows), len(usage_rows), len(text_rows))
    return counts, _copy_block(session_rows), _copy_block(usage_rows), _copy_block(text_rows)


def _copy_blocks(gen: Generator, first: int, last: int) -> Iterator[tuple[tuple[int, int, int], bytes, bytes, bytes]]:
    """:func:`_copy_chunk` over ``[first, last)``, generated in another process while this one copies."""
    bounds = [(lo, min(last, lo + 20_000)) for lo in range(first, last, 20_000)]
    _worker_gen[:] = [gen]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        yield from pool.imap(_copy_chunk, bounds)


def _build_indexes(url: str, definitions: list[str]) -> None:
    """Run index definitions on their own connection (a second one builds alongside)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_maintenance_workers = 1")
        for definition in definitions:
            conn.execute(definition)


def seed_postgres(engine: Engine, gen: Generator, first: int, last: int, counts: Counts) -> None:
    """Bulk-load sessions ``[first, last)`` with COPY, then VACUUM ANALYZE (index-only scans need the visibility map).

    The rows are generated and formatted as COPY text in a second process while this one
    copies the previous chunk. Secondary indexes and unique constraints (not the primary
    keys) are dropped during the load and rebuilt once, on two connections at a time (the
    trigram GIN index, the longest build and single-threaded, on one; the B-trees on the
    other); triggers (the rollups' and the foreign key's) are disabled, the rollups
    recomputed afterwards and the foreign key checked with one query.
    """
    tables = ("sessions", "usage", "session_text")
    raw = engine.raw_connection()
    try:
        dbapi: Any = raw.driver_connection
        with dbapi.cursor() as cur:
            cur.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "WHERE c.contype = 'u' AND c.connamespace = current_schema()::regnamespace "
                "AND c.conrelid::regclass::text = ANY(%s)",
                (list(tables),),
            )
            uniques = cur.fetchall()
            for table, name, _definition in uniques:
                cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            cur.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
                "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conname = i.indexname AND c.connamespace = current_schema()::regnamespace)",
                (list(tables),),
            )
            indexes = cur.fetchall()
            for name, _definition in indexes:
                cur.execute(f"DROP INDEX {name}")
            for table in tables:
                cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
            for (n_s, n_u, n_t), block_s, block_u, block_t in _copy_blocks(gen, first, last):
                for table, cols, block in (
                    ("sessions", SESSION_COLS, block_s),
                    ("usage", USAGE_COLS, block_u),
                    ("session_text", TEXT_COLS, block_t),
                ):
                    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        copy.write(block)
                counts.sessions += n_s
                counts.usage += n_u
                counts.text += n_t
            for table in tables:
                cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")
        dbapi.commit()
        _phase("postgres: generated and copied")
        _rebuild_indexes(engine, [d for _n, d in indexes])
        with dbapi.cursor() as cur:
            for table, name, definition in uniques:
                cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            _phase("postgres: indexes rebuilt")
            cur.execute(
                "SELECT count(*) FROM session_text t "
                "WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = t.session_id)"
            )
            if cur.fetchone()[0]:
                raise SystemExit("session_text rows without a session")
            cur.execute("DELETE FROM session_totals")
            cur.execute(SESSION_TOTALS_SQL)
            cur.execute("DELETE FROM session_cost_daily")
            cur.execute(COST_DAILY.backfill_sql("postgresql"))
            cur.execute("DELETE FROM usage_latency_daily")
        dbapi.commit()
        with engine.begin() as conn:
            rebuild_usage_daily(conn)
        dbapi.autocommit = True
        with dbapi.cursor() as cur:
            for table in (*tables, "usage_daily", "session_totals", "session_cost_daily"):
                cur.execute(f"VACUUM ANALYZE {table}")
        dbapi.autocommit = False
        _phase("postgres: rollups rebuilt, vacuumed and analyzed")
    finally:
        raw.close()


def _rebuild_indexes(engine: Engine, definitions: list[str]) -> None:
    """The dropped indexes, built on two connections at once: the GIN ones on one, the rest on the other."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    gin = [d for d in definitions if "using gin" in d.lower()]
    rest = [d for d in definitions if d not in gin]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in [pool.submit(_build_indexes, url, gin), pool.submit(_build_indexes, url, rest)]:
            done.result()


_last_phase = [time.perf_counter()]


def _phase(what: str) -> None:
    now = time.perf_counter()
    print(f"{what} in {now - _last_phase[0]:.1f} s", file=sys.stderr)
    _last_phase[0] = now


def p95(samples: list[float]) -> float:
    """95th percentile of the samples (linear interpolation), in the samples' unit."""
    ordered = sorted(samples)
    pos = 0.95 * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def measure(fn: Callable[[], Any], repeat: int) -> float:
    """Run ``fn`` once to warm up, then ``repeat`` times; return the p95 in milliseconds."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return round(p95(samples), 2)


TARGETS_MS = {  # issue 15: lists 100 ms, search and dashboards 300 ms (p95)
    "list_p95_ms": 100,
    "search_p95_ms": 300,
    "dashboard_p95_ms": 300,
    "list_user_p95_ms": 100,
    "dashboard_user_p95_ms": 300,
    "search_user_p95_ms": 300,
    "list_page_20_p95_ms": 100,
    "search_rare_p95_ms": 300,
    "search_short_p95_ms": 300,
    "search_words_p95_ms": 300,
    "search_words_none_p95_ms": 300,
    "list_sorted_cost_p95_ms": 100,
}
MAX_SCALE_RATIO = 2.0


def _keyset_query(engine: Engine, first: SessionFilter, pages: int) -> SessionFilter:
    """The query of page ``pages + 1`` as the sessions page asks it: after the previous page's last row."""
    query = first
    for page in range(1, pages + 1):
        cursor = list_sessions(engine, query).next_cursor
        query = replace(first, offset=page * first.limit, after=cursor)
    return query


def run_queries(engine: Engine, repeat: int, today: Any) -> dict[str, float]:
    """Measure the page queries on a seeded database (the dashboard as the page asks: UTC-day bounds)."""
    since, until = period_bounds("Last 30 days", today)
    assert since is not None and until is not None
    heavy = "user-01"
    light = "user-10"
    page_21 = _keyset_query(engine, SessionFilter(user_id=light, limit=50), pages=20)
    # the app collects and freezes its heap after the warm start (streamlit_app.py), so a page
    # view's garbage is collected without walking every long-lived object: measure that way too
    gc.collect()
    gc.freeze()
    checks = {
        "list_p95_ms": lambda: list_sessions(engine, SessionFilter(limit=50)),
        "search_p95_ms": lambda: list_sessions(
            engine, SessionFilter(text="project aurora", states=("active", "completed"), limit=50)
        ),
        "dashboard_p95_ms": lambda: dashboard(engine, since=since, until=until, user_id=None, daily_budget_usd=5.0),
        "list_user_p95_ms": lambda: list_sessions(engine, SessionFilter(user_id=heavy, limit=50)),
        "dashboard_user_p95_ms": lambda: dashboard(
            engine, since=since, until=until, user_id=heavy, daily_budget_usd=5.0
        ),
        "search_user_p95_ms": lambda: list_sessions(engine, SessionFilter(user_id=heavy, text="budget variance")),
        "list_page_20_p95_ms": lambda: list_sessions(engine, page_21),
        "search_rare_p95_ms": lambda: list_sessions(engine, SessionFilter(text="no-such-phrase-anywhere")),
        "search_short_p95_ms": lambda: list_sessions(engine, SessionFilter(text="zq", limit=50)),
        "search_words_p95_ms": lambda: list_sessions(engine, SessionFilter(text="maria aurora", limit=50)),
        "search_words_none_p95_ms": lambda: list_sessions(engine, SessionFilter(text="aurora basalt", limit=50)),
        "list_sorted_cost_p95_ms": lambda: list_sessions(engine, SessionFilter(sort="cost_usd", limit=50)),
    }
    return {name: measure(fn, repeat) for name, fn in checks.items()}


def bench_backend(name: str, engine: Engine, gen: Generator, sizes: list[int], repeat: int) -> dict[str, Any]:
    """Migrate, then for each size: seed up to it, measure. Returns per-query p95s, ratios and seed times."""
    upgrade(engine)
    counts = Counts()
    per_size: dict[int, dict[str, float]] = {}
    seed_s: dict[str, float] = {}
    done = 0
    for size in sizes:
        start = _last_phase[0] = time.perf_counter()
        if name == "sqlite":
            seed_sqlite(engine, gen.chunks(done, size), counts)
        else:
            seed_postgres(engine, gen, done, size, counts)
        done = size
        seed_s[str(size)] = round(time.perf_counter() - start, 1)
        print(
            f"{name}: {counts.sessions} sessions, {counts.usage} usage rows, {counts.text} text rows "
            f"seeded in {seed_s[str(size)]:.1f} s",
            file=sys.stderr,
        )
        per_size[size] = run_queries(engine, repeat, gen.now.date())
        print(f"{name} @ {size}: {per_size[size]}", file=sys.stderr)
    queries: dict[str, dict[str, Any]] = {}
    for query in per_size[sizes[0]]:
        row: dict[str, Any] = {str(size): per_size[size][query] for size in sizes}
        largest = per_size[sizes[-1]][query]
        if len(sizes) > 1:
            row["scale_ratio"] = round(largest / max(per_size[sizes[0]][query], 0.01), 2)
        row["target_ms"] = TARGETS_MS[query]
        row["ok"] = largest < TARGETS_MS[query] and row.get("scale_ratio", 0) < MAX_SCALE_RATIO
        queries[query] = row
    return {
        "queries": queries,
        "seed_s": seed_s,
        "usage_rows": counts.usage,
        "text_rows": counts.text,
        "all_ok": all(q["ok"] for q in queries.values()),
    }


def postgres_engine(url: str) -> Engine:
    """Engine on a freshly recreated bench schema of the given database."""
    base = make_engine(url)
    with base.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {BENCH_SCHEMA}"))
    base.dispose()
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={BENCH_SCHEMA}"})
    return make_engine(scoped.render_as_string(hide_password=False))


def drop_bench_schema(url: str) -> None:
    """Drop the bench schema (the data is not kept after the run)."""
    base = make_engine(url)
    try:
        with base.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE"))
    finally:
        base.dispose()


def measure_kept(url: str, repeat: int) -> int:
    """Measure the queries on the kept bench schema (migrated to head first), one JSON line."""
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={BENCH_SCHEMA}"})
    engine = make_engine(scoped.render_as_string(hide_password=False))
    try:
        upgrade(engine)
        with engine.connect() as conn:
            sessions_n = conn.execute(text("SELECT count(*) FROM sessions")).scalar_one()
            newest = conn.execute(text("SELECT max(updated_at) FROM sessions")).scalar_one()
        figures = run_queries(engine, repeat, newest.astimezone(UTC).date())
    finally:
        engine.dispose()
    print(json.dumps({"postgres": {"queries": figures}, "sessions": [sessions_n]}))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    global BENCH_SCHEMA
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=100_000, help="the larger size")
    parser.add_argument(
        "--base-sessions", type=int, default=None, help="the smaller size (default: a tenth; 0 = one size only)"
    )
    parser.add_argument("--calls-per-session", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="(the last line is always JSON)")
    parser.add_argument("--db-url", default=os.environ.get("TEST_DATABASE_URL"), help="PostgreSQL URL (optional)")
    parser.add_argument("--sqlite-path", default=None, help="SQLite file (default: a fresh temp file)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the Postgres bench schema afterwards")
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="no seeding: migrate the kept Postgres bench schema (--keep of an earlier run) and measure it",
    )
    parser.add_argument("--schema", default=None, help=f"the Postgres bench schema (default {BENCH_SCHEMA})")
    args = parser.parse_args(argv)
    BENCH_SCHEMA = args.schema or BENCH_SCHEMA
    if args.measure_only:
        return measure_kept(args.db_url, args.repeat)

    started = time.perf_counter()
    base = args.sessions // 10 if args.base_sessions is None else args.base_sessions
    sizes = sorted({n for n in (base, args.sessions) if n > 0})
    gen = Generator(args.calls_per_session)
    out: dict[str, Any] = {}
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory(prefix="bench-sessions-") as tmp:
            path = Path(args.sqlite_path) if args.sqlite_path else Path(tmp) / "bench.db"
            path.unlink(missing_ok=True)
            engine = make_engine(f"sqlite:///{path}")
            try:
                out["sqlite"] = bench_backend("sqlite", engine, gen, sizes, args.repeat)
            finally:
                engine.dispose()
    if args.db_url:
        engine = postgres_engine(args.db_url)
        try:
            out["postgres"] = bench_backend("postgres", engine, gen, sizes, args.repeat)
        finally:
            engine.dispose()
            if not args.keep:
                drop_bench_schema(args.db_url)
    out["sessions"] = sizes
    out["usage_rows"] = next((r["usage_rows"] for r in out.values() if isinstance(r, dict)), None)
    out["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
