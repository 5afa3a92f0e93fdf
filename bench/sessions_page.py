"""Benchmark of the sessions page queries at scale.

Seeds N sessions (realistic titles and transcript text, 20 users with a skewed spread,
three states, several models) and ~10 usage rows per session over the past year into a
fresh SQLite file (and PostgreSQL when ``--db-url`` or TEST_DATABASE_URL is given, in a
dedicated schema dropped first), then measures the p95 over ``--repeat`` runs of:

- ``list_p95_ms``: first page of the sessions table, all users (admin view), by last activity;
- ``search_p95_ms``: a filtered transcript search (all users, a project name, not expired);
- ``dashboard_p95_ms``: the 30-day dashboard aggregates, all users.

Extra keys give the one-user variants and a page sorted by cost. The last stdout line is
one JSON object: ``{"sqlite": {...}, "postgres": {...}, "sessions": N, "usage_rows": M}``.

Usage::

    .venv/bin/python bench/sessions_page.py --sessions 100000 --json
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/sessions_page.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, make_url, text

from assistant.db import TITLE_TURN_IDX, make_engine
from assistant.migrate import upgrade
from assistant.sessions.queries import SessionFilter, list_sessions
from assistant.usage.dashboard import dashboard
from assistant.usage.pricing import DEFAULT_PRICES_FILE, PriceTable
from assistant.usage.rollups import rebuild_usage_daily

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


def _weighted_models(rng: random.Random, n: int) -> list[tuple[str, str]]:
    pairs = [(s, u) for s, u, _w in MODELS]
    weights = [w for _s, _u, w in MODELS]
    return rng.choices(pairs, weights=weights, k=n)


Rows = list[tuple[Any, ...]]


def generate(n_sessions: int, calls_per_session: int, seed: int = 7) -> tuple[Rows, Rows, Rows]:
    """Generate session, usage and search-text rows (consistent aggregates), deterministic for a seed.

    Args:
        n_sessions: Number of sessions.
        calls_per_session: Average ledger rows per session (exact total = n * this).
        seed: Random seed.

    Returns:
        ``(sessions_rows, usage_rows, text_rows)`` as tuples in :data:`SESSION_COLS` /
        :data:`USAGE_COLS` / :data:`TEXT_COLS` order; ``text_rows`` holds one row per turn
        and one title row per session, as the stores write them.
    """
    rng = random.Random(seed)
    table = PriceTable.load(DEFAULT_PRICES_FILE)
    now = datetime.now(UTC).replace(microsecond=0)
    users = [f"user-{i:02d}" for i in range(1, 21)]
    user_weights = [1.0 / (i + 1) for i in range(len(users))]
    user_of = rng.choices(users, weights=user_weights, k=n_sessions)
    models_of = _weighted_models(rng, n_sessions)
    prices = {u: table.price_for(u, now) for _s, u, _w in MODELS}
    session_rows: list[tuple[Any, ...]] = []
    usage_rows: list[tuple[Any, ...]] = []
    text_rows: list[tuple[Any, ...]] = []
    call_no = 0
    total_calls = n_sessions * calls_per_session
    # spread calls: each session gets 1..2*avg-1 calls, adjusted so the total is exact
    counts = [rng.randint(1, 2 * calls_per_session - 1) for _ in range(n_sessions)]
    diff = total_calls - sum(counts)
    i = 0
    while diff != 0:
        step = 1 if diff > 0 else -1
        if 1 <= counts[i % n_sessions] + step <= 2 * calls_per_session:
            counts[i % n_sessions] += step
            diff -= step
        i += 1
    for s in range(n_sessions):
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        user = user_of[s]
        session_model, model_id = models_of[s]
        created = now - timedelta(seconds=rng.randint(0, 365 * 86400))
        n_calls = counts[s]
        project = rng.choice(PROJECTS)
        person = rng.choice(PEOPLE)
        meeting = rng.choice(MEETINGS)
        parts = [rng.choice(SENTENCES).format(m=meeting, p=person.lower(), x=project) for _ in range(4 + n_calls // 2)]
        title = f"Prep for {meeting} with {person}"[:200]
        n_turns = (n_calls + 1) // 2
        text_rows.append((sid, TITLE_TURN_IDX, title.lower()))
        for turn in range(n_turns):
            text_rows.append((sid, turn, " ".join(parts[turn::n_turns])))
        t = created
        cost = 0.0
        unknown = False
        tin = tout = 0
        errors = 0
        price = prices[model_id]
        for c in range(n_calls):
            t = t + timedelta(seconds=rng.randint(2, 90))
            i_tok = rng.randint(800, 6000)
            o_tok = rng.randint(50, 900)
            cr = rng.choice((0, 0, 0, rng.randint(0, 4000)))
            cw = rng.choice((0, 0, 0, 0, rng.randint(0, 2000)))
            latency = rng.lognormvariate(math.log(1800), 0.5)
            ttft = latency * rng.uniform(0.15, 0.5)
            err = "ThrottlingException" if rng.random() < 0.01 else None
            errors += err is not None
            call_cost = price.cost(i_tok, o_tok, cr, cw) if price is not None else None
            if call_cost is None:
                unknown = True
            else:
                cost += call_cost
            tin += i_tok + cr + cw
            tout += o_tok
            call_no += 1
            usage_rows.append(
                (
                    f"call-{call_no:09d}",
                    sid,
                    user,
                    c // 2,
                    "offline" if model_id == "offline" else "bedrock",
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
                    table.version,
                )
            )
        age = now - t
        state = "active" if age < timedelta(hours=24) else rng.choice(("completed", "expired", "expired"))
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
                (n_calls + 1) // 2,
                tin,
                tout,
                cost,
                unknown,
                errors,
                "sql",
            )
        )
    return session_rows, usage_rows, text_rows


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


def _chunks(rows: list[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(v.strftime(SQLITE_FMT) if isinstance(v, datetime) else v for v in row)


def seed_sqlite(engine: Engine, session_rows: Rows, usage_rows: Rows, text_rows: Rows) -> None:
    """Bulk-load rows through the raw sqlite3 connection (big executemany batches).

    The secondary indexes and the search triggers (migrations 0002/0003) are set aside
    during the load and rebuilt in bulk afterwards (much faster than row-by-row
    maintenance), foreign keys are checked once at the end; the schema ends up exactly as
    migrated.
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
        cur.execute("BEGIN")
        for kind, name, _sql in saved:
            cur.execute(f"DROP {kind.upper()} {name}")
        ins_s = f"INSERT INTO sessions ({', '.join(SESSION_COLS)}) VALUES ({', '.join('?' * len(SESSION_COLS))})"
        for chunk in _chunks(session_rows, 20_000):
            cur.executemany(ins_s, [_sqlite_row(r) for r in chunk])
        ins_u = f"INSERT INTO usage ({', '.join(USAGE_COLS)}) VALUES ({', '.join('?' * len(USAGE_COLS))})"
        for chunk in _chunks(usage_rows, 50_000):
            cur.executemany(ins_u, [_sqlite_row(r) for r in chunk])
        ins_t = f"INSERT INTO session_text ({', '.join(TEXT_COLS)}) VALUES (?, ?, ?)"
        for chunk in _chunks(text_rows, 50_000):
            cur.executemany(ins_t, chunk)
        if has_fts:
            cur.execute("INSERT INTO session_text_fts(rowid, text) SELECT id, text FROM session_text")
        for _kind, _name, sql in saved:
            cur.execute(sql)
        cur.execute("DELETE FROM usage_daily")  # its triggers were set aside with the others
        cur.execute(ROLLUP_SQLITE)
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


def seed_postgres(engine: Engine, session_rows: Rows, usage_rows: Rows, text_rows: Rows) -> None:
    """Bulk-load rows with COPY, then VACUUM ANALYZE (index-only scans need the visibility map).

    The trigram GIN index on ``session_text`` is set aside during the load and rebuilt once.
    """
    raw = engine.raw_connection()
    try:
        dbapi: Any = raw.driver_connection
        with dbapi.cursor() as cur:
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname = 'ix_session_text_trgm'")
            trgm = cur.fetchall()
            for name, _definition in trgm:
                cur.execute(f"DROP INDEX {name}")
            cur.execute("ALTER TABLE usage DISABLE TRIGGER usage_daily_sync")  # rollup rebuilt once below
            with cur.copy(f"COPY sessions ({', '.join(SESSION_COLS)}) FROM STDIN") as copy:
                for row in session_rows:
                    copy.write_row(row)
            with cur.copy(f"COPY usage ({', '.join(USAGE_COLS)}) FROM STDIN") as copy:
                for row in usage_rows:
                    copy.write_row(row)
            with cur.copy(f"COPY session_text ({', '.join(TEXT_COLS)}) FROM STDIN") as copy:
                for row in text_rows:
                    copy.write_row(row)
            for _name, definition in trgm:
                cur.execute(definition)
            cur.execute("ALTER TABLE usage ENABLE TRIGGER usage_daily_sync")
        dbapi.commit()
        with engine.begin() as conn:
            rebuild_usage_daily(conn)
        dbapi.autocommit = True
        with dbapi.cursor() as cur:
            cur.execute("VACUUM ANALYZE sessions")
            cur.execute("VACUUM ANALYZE usage")
            cur.execute("VACUUM ANALYZE session_text")
            cur.execute("VACUUM ANALYZE usage_daily")
        dbapi.autocommit = False
    finally:
        raw.close()


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


def run_queries(engine: Engine, repeat: int) -> dict[str, float]:
    """Measure the page queries on a seeded database."""
    now = datetime.now(UTC)
    since = now - timedelta(days=30)
    heavy = "user-01"
    light = "user-10"
    checks = {
        "list_p95_ms": lambda: list_sessions(engine, SessionFilter(limit=50)),
        "search_p95_ms": lambda: list_sessions(
            engine, SessionFilter(text="project aurora", states=("active", "completed"), limit=50)
        ),
        "dashboard_p95_ms": lambda: dashboard(engine, since=since, until=now, user_id=None, daily_budget_usd=5.0),
        "list_user_p95_ms": lambda: list_sessions(engine, SessionFilter(user_id=heavy, limit=50)),
        "list_sorted_cost_p95_ms": lambda: list_sessions(engine, SessionFilter(sort="cost_usd", limit=50)),
        "list_page_20_p95_ms": lambda: list_sessions(engine, SessionFilter(user_id=light, limit=50, offset=1000)),
        "search_user_p95_ms": lambda: list_sessions(engine, SessionFilter(user_id=heavy, text="budget variance")),
        "search_rare_p95_ms": lambda: list_sessions(engine, SessionFilter(text="no-such-phrase-anywhere")),
        "dashboard_user_p95_ms": lambda: dashboard(engine, since=since, until=now, user_id=heavy, daily_budget_usd=5.0),
    }
    return {name: measure(fn, repeat) for name, fn in checks.items()}


def bench_backend(name: str, engine: Engine, data: tuple[Rows, Rows, Rows], repeat: int) -> dict[str, float]:
    """Migrate, seed and measure one backend."""
    upgrade(engine)
    start = time.perf_counter()
    if name == "sqlite":
        seed_sqlite(engine, *data)
    else:
        seed_postgres(engine, *data)
    seed_s = time.perf_counter() - start
    print(f"{name}: seeded in {seed_s:.1f} s", file=sys.stderr)
    result = run_queries(engine, repeat)
    result["seed_s"] = round(seed_s, 1)
    print(f"{name}: {result}", file=sys.stderr)
    return result


def postgres_engine(url: str) -> Engine:
    """Engine on a freshly recreated bench schema of the given database."""
    base = make_engine(url)
    with base.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {BENCH_SCHEMA}"))
    base.dispose()
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={BENCH_SCHEMA}"})
    return make_engine(scoped.render_as_string(hide_password=False))


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--calls-per-session", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="(the last line is always JSON)")
    parser.add_argument("--db-url", default=os.environ.get("TEST_DATABASE_URL"), help="PostgreSQL URL (optional)")
    parser.add_argument("--sqlite-path", default=None, help="SQLite file (default: a fresh temp file)")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    data = generate(args.sessions, args.calls_per_session)
    print(
        f"generated {len(data[0])} sessions, {len(data[1])} usage rows, {len(data[2])} text rows "
        f"in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    out: dict[str, Any] = {}
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory(prefix="bench-sessions-") as tmp:
            path = Path(args.sqlite_path) if args.sqlite_path else Path(tmp) / "bench.db"
            path.unlink(missing_ok=True)
            engine = make_engine(f"sqlite:///{path}")
            try:
                out["sqlite"] = bench_backend("sqlite", engine, data, args.repeat)
            finally:
                engine.dispose()
    if args.db_url:
        engine = postgres_engine(args.db_url)
        try:
            out["postgres"] = bench_backend("postgres", engine, data, args.repeat)
        finally:
            engine.dispose()
    out["sessions"] = len(data[0])
    out["usage_rows"] = len(data[1])
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
