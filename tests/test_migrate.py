"""Schema upgrades (assistant/migrate.py): replicas starting together on one empty Postgres."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from assistant.config import PROJECT_ROOT
from assistant.db import make_engine
from assistant.migrate import SCHEMA_HEAD, current_revision, head_revision
from tests.fixtures.db import require_postgres

# One replica's start: import everything (slow), say "ready", wait for "go" on stdin so every
# replica calls upgrade() within a millisecond of the others, then print the revision.
_REPLICA = textwrap.dedent(
    """
    import sys
    from assistant.db import make_engine
    from assistant.migrate import current_revision, upgrade

    engine = make_engine(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    upgrade(engine)
    print("at", current_revision(engine), flush=True)
    """
)


@pytest.fixture
def fresh_schema_urls() -> Iterator[list[str]]:
    """Three brand-new, empty Postgres schemas, each as a URL selecting it (dropped afterwards)."""
    url = require_postgres()
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    schemas = ["tm_" + uuid.uuid4().hex[:12] for _ in range(3)]
    with admin.connect() as conn:
        for schema in schemas:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield [
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
            for schema in schemas
        ]
    finally:
        with admin.connect() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _start_together(url: str, replicas: int) -> list[subprocess.CompletedProcess[str]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _REPLICA, url],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(replicas)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.strip() == "ready", (line, proc.stderr.read() if proc.stderr else "")
        for proc in procs:  # release them together
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_replicas_starting_together_on_an_empty_postgres_all_start(fresh_schema_urls: list[str]) -> None:
    head = head_revision()
    for url in fresh_schema_urls:
        results = _start_together(url, replicas=2)
        for result in results:
            assert result.returncode == 0, result.stderr[-3000:]
            assert result.stdout.strip().endswith(f"at {head}"), result.stdout
        engine = make_engine(url)
        try:
            assert current_revision(engine) == head
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            assert [r[0] for r in rows] == [head], "the schema is at head once"
        finally:
            engine.dispose()


def test_schema_head_is_the_newest_migration() -> None:
    """A new migration must move SCHEMA_HEAD too, or a start would take it as already applied."""
    assert head_revision() == SCHEMA_HEAD


# A start: upgrade() on the given database, then which of Alembic's modules it needed.
_START = textwrap.dedent(
    """
    import sys
    from assistant.db import make_engine
    from assistant.migrate import current_revision, upgrade
    engine = make_engine(sys.argv[1])
    upgrade(engine)
    print("alembic" in sys.modules, current_revision(engine))
    """
)


def test_a_start_on_a_schema_at_head_reads_one_row_and_leaves_alembic_unimported(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"

    def start() -> str:
        done = subprocess.run(
            [sys.executable, "-c", _START, url], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout.strip()

    assert start() == f"True {SCHEMA_HEAD}"  # an empty database: Alembic creates the schema
    assert start() == f"False {SCHEMA_HEAD}"  # at head: one query, no Alembic


def test_an_older_release_starts_on_a_schema_a_newer_release_migrated(tmp_path: Path) -> None:
    """A rollback, or a replica of the old release restarted while a rollout runs: the schema is at
    a revision this code does not know. Every page was a redacted crash ("Can't locate revision"),
    ``db upgrade`` and every CLI command a traceback, while /ready said ok. Migrations keep the
    older release working on the newer schema (docs/DEPLOYMENT.md, Rollout): it runs on it."""
    import os

    url = f"sqlite:///{tmp_path / 'app.db'}"
    env = {**os.environ, "ENV": "local", "DATABASE_URL": url, "ASSISTANT_SECRETS_FILE": os.devnull}
    env.pop("MODEL_PROVIDER", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "assistant", *args]
        return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert cli("db", "upgrade").returncode == 0
    newer = f"{int(SCHEMA_HEAD) + 1:04d}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": newer})
    engine.dispose()
    upgraded = cli("db", "upgrade")
    assert upgraded.returncode == 0 and "Traceback" not in upgraded.stderr, upgraded.stderr[-2000:]
    assert f"database at revision {newer}, newer than this release's {SCHEMA_HEAD}" in upgraded.stdout
    listed = cli("sessions", "list")
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr[-2000:]
    assert f"revision=<{newer}>" in listed.stderr and "newer than this release" in listed.stderr  # logged
