"""``python -m assistant sessions`` (``assistant/cli_sessions.py``): lists, searches, damage and reindex.

A list for a user with more sessions than it prints: the footer read "24 sessions · $1.10
total" under two rows (``--limit 2``), and a search's count and cost estimated from its
newest candidates (the Sessions page says "of about N") printed as exact figures.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from assistant.__main__ import main
from assistant.db import make_engine
from assistant.migrate import upgrade
from assistant.sessions import queries
from assistant.sessions.s3_store import S3SessionStore, object_key
from tests.fixtures.chat import make_service
from tests.fixtures.cli import ROOT
from tests.fixtures.db import insert_sessions
from tests.fixtures.s3 import BUCKET, make_client


def _seed(db: Path, sessions: int) -> None:
    """``sessions`` real sessions of one answer each (ChatService, offline model), every other about Orion."""
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    service = make_service(engine, messages_per_minute=1000)
    for n in range(sessions):
        meta = service.create_session("test-user-123")
        topic = "project Orion" if n % 2 else "the hiring plan"
        service.run_turn(meta.id, "test-user-123", f"What meetings do I have about {topic} this week?")
    engine.dispose()


def _env(db: Path) -> dict[str, str]:
    return {"ENV": "local", "DATABASE_URL": f"sqlite:///{db}", "ASSISTANT_SECRETS_FILE": os.devnull}


def test_a_list_cut_by_limit_says_how_many_it_shows(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    _seed(db, 5)
    env = {**os.environ, **_env(db)}
    env.pop("MODEL_PROVIDER", None)
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "sessions", "list", "--limit", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    assert lines[-1].startswith("2 of 5 sessions · "), lines[-1]
    # the last activity's time says its zone (it read "2026-12-06 08:52", UTC unsaid, to a reader in Paris)
    assert all(re.search(r"  \d{4}-\d\d-\d\d \d\d:\d\d UTC  ", line) for line in lines[:2]), lines


def test_a_search_estimated_from_its_newest_candidates_says_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "cli.db"
    _seed(db, 24)
    for key, value in _env(db).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 8)  # a heavy user's 2,000 newest, at test size
    assert main(["sessions", "list", "--search", "Orion", "--limit", "2"]) == 0
    footer = capsys.readouterr().out.strip().splitlines()[-1]
    assert footer.startswith("2 of about "), footer
    assert " · about $" in footer, footer

    assert main(["sessions", "list", "--search", "Orion", "--limit", "20"]) == 0  # the window holds them all
    footer = capsys.readouterr().out.strip().splitlines()[-1]
    assert footer.startswith("12 sessions · $"), footer


def test_pages_past_the_limit_list_every_session_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Past ``--limit 500`` (the most one listing prints) a heavy user's older sessions could not be
    listed at all; ``--page N`` lists the next rows, and the footer names the next page."""
    db = tmp_path / "cli.db"
    _seed(db, 5)
    for key, value in _env(db).items():
        monkeypatch.setenv(key, value)
    assert main(["sessions", "list", "--limit", "5"]) == 0
    everything = [line.split()[0] for line in capsys.readouterr().out.strip().splitlines()[:-1]]
    assert len(everything) == 5

    listed: list[str] = []
    footers: list[str] = []
    for number in (1, 2, 3):
        assert main(["sessions", "list", "--limit", "2", "--page", str(number)]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        listed += [line.split()[0] for line in lines[:-1]]
        footers.append(lines[-1])
    assert listed == everything, "every session once, newest first"
    assert footers[0].startswith("2 of 5 sessions · ") and footers[0].endswith(" · next: --page 2"), footers[0]
    assert footers[1].startswith("rows 3–4 of 5 sessions · ") and footers[1].endswith(" · next: --page 3"), footers[1]
    assert footers[2].startswith("row 5 of 5 sessions · ") and "next" not in footers[2], footers[2]

    assert main(["sessions", "list", "--limit", "2", "--page", "4"]) == 2  # was an empty list: "no sessions"
    assert "--page 4 is past the last page (3 at --limit 2; 5 sessions)" in capsys.readouterr().err
    assert main(["sessions", "costs", "--since", "2026-01-01", "--page", "2"]) == 2
    assert "--page applies to sessions list" in capsys.readouterr().err


def test_a_list_with_unpriced_sessions_says_its_total_is_a_lower_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A session with calls on a model without a price: the Sessions page shows "≥ $0.10" for it and
    "≥ $0.35" for the total, the CLI printed "unknown" and "$0.35 total" (read as the exact spend)."""
    db = tmp_path / "cli.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    insert_sessions(
        engine,
        [
            {"id": "s-priced", "user_id": "test-user-123", "title": "Priced", "cost_usd": 0.25},
            {"id": "s-partly", "user_id": "test-user-123", "title": "Partly", "cost_usd": 0.10, "cost_unknown": True},
        ],
    )
    engine.dispose()
    for key, value in _env(db).items():
        monkeypatch.setenv(key, value)
    assert main(["sessions", "list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    partly = next(line for line in lines if line.startswith("s-partly"))
    assert "≥ $0.10" in partly, partly
    assert lines[-1] == "2 sessions · ≥ $0.35 total (1 session used a model without a price)", lines[-1]


def test_options_an_action_does_not_take_are_refused_not_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sessions costs --since … --search budget`` printed every cost of the period as if filtered,
    ``--limit 1`` every row; ``reindex --user bob`` rebuilt every user's index."""
    db = tmp_path / "cli.db"
    _seed(db, 1)
    for key, value in _env(db).items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()  # the seeding's log lines
    for argv, message in [
        (["costs", "--since", "2026-01-01", "--search", "budget"], "--search applies to sessions list"),
        (["costs", "--since", "2026-01-01", "--limit", "1"], "--limit applies to sessions list"),
        (["reindex", "--search", "budget"], "--search applies to sessions list"),
        (["reindex", "--since", "2026-01-01"], "reindex rebuilds every session's index"),
        (["reindex", "--user", "bob"], "reindex rebuilds every session's index"),
    ]:
        assert main(["sessions", *argv]) == 2, argv
        captured = capsys.readouterr()
        assert captured.err.startswith(f"error: {message}") and captured.out == "", (argv, captured)
    assert main(["sessions", "list"]) == 0  # --limit's default still applies to list
    assert capsys.readouterr().out.strip().endswith("1 session · $0.00 total")


@pytest.mark.parametrize("when", ["9999-12-31T23:00-05:00", "0001-01-01T00:00+05:00"])
def test_a_date_whose_utc_time_is_past_the_calendar_is_a_usage_error(
    when: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--since 9999-12-31T23:00-05:00`` (its UTC time is in year 10000) was an OverflowError traceback."""
    for key, value in _env(tmp_path / "cli.db").items():
        monkeypatch.setenv(key, value)
    for action in (["list"], ["costs"]):
        with pytest.raises(SystemExit) as exited:
            main(["sessions", *action, "--since", when])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and f"argument --since: {when!r} is out of range" in err, err


def test_a_session_marked_damaged_is_listed_as_damaged_not_active(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An S3 session whose object is missing (marked by reindex or a load) was listed as "active"."""
    db = tmp_path / "cli.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    insert_sessions(
        engine,
        [
            dict(id="s-gone", user_id="test-user-123", title="Gone", damaged="object missing", storage="s3"),
            dict(id="s-kept", user_id="test-user-123", title="Kept", storage="s3"),
        ],
    )
    engine.dispose()
    for key, value in _env(db).items():
        monkeypatch.setenv(key, value)
    assert main(["sessions", "list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    states = {line.split()[-1]: line.split()[1] for line in lines[:-1]}
    assert states == {"Gone": "damaged", "Kept": "active"}


@contextmanager
def _s3_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, S3SessionStore]]:
    """A moto S3 server with the sessions bucket, a store over it and an index in SQLite, and the
    environment that points the CLI at both: (S3 client, store)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = make_client(endpoint)
        client.create_bucket(Bucket=BUCKET)
        db = tmp_path / "index.db"
        engine = make_engine(f"sqlite:///{db}")
        upgrade(engine)
        for key, value in {**_env(db), "SESSIONS_BUCKET_NAME": BUCKET, "S3_ENDPOINT_URL": endpoint}.items():
            monkeypatch.setenv(key, value)
        yield client, S3SessionStore(engine, client=client, bucket=BUCKET)
    finally:
        server.stop()


def test_reindex_says_how_many_sessions_it_could_not_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], aws_env: None
) -> None:
    """Objects deleted or garbled behind the app's back: reindex said only "reindexed 1 session",
    and the two sessions it had marked damaged were named in log lines alone."""
    with _s3_cli(tmp_path, monkeypatch) as (client, store):
        _kept, gone, garbled = (store.create_session("test-user-123", model="offline", title=t) for t in "abc")
        client.delete_object(Bucket=BUCKET, Key=object_key("test-user-123", gone.id))
        client.put_object(Bucket=BUCKET, Key=object_key("test-user-123", garbled.id), Body=b'{"schema": 1, "me')
        store.engine.dispose()
        assert main(["sessions", "reindex"]) == 0
        out = capsys.readouterr().out.strip().splitlines()
        assert out == [
            f"reindexed 1 session from s3://{BUCKET}",
            "2 sessions cannot be opened: their stored conversation is missing or damaged "
            "(listed as damaged; the log above names each)",
        ]


def test_every_users_list_says_whose_each_session_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--all`` (every user's sessions, for an operator) printed the rows without their owner: with
    fifty people's sessions mixed, nobody could tell whose a session was (``chat --session`` and
    ``--user`` need it)."""
    db = tmp_path / "cli.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    service = make_service(engine, messages_per_minute=1000)
    owners = {service.create_session(user).id: user for user in ("alice-sub", "bob-sub")}
    engine.dispose()
    for key, value in _env(db).items():
        monkeypatch.setenv(key, value)
    assert main(["sessions", "list", "--all"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[:-1]
    assert {row.split()[0]: row for row in rows}.keys() == owners.keys()
    assert all(owners[row.split()[0]] in row.split() for row in rows), rows
    assert main(["sessions", "list", "--user", "alice-sub"]) == 0  # one user's list: no owner column
    assert "alice-sub" not in capsys.readouterr().out


def test_chat_resumes_a_session_marked_damaged_once_its_object_is_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], aws_env: None
) -> None:
    """The object came back (restored from a bucket version): chat --session still refused it, as
    only a page that opened it or a reindex cleared the mark."""
    with _s3_cli(tmp_path, monkeypatch) as (client, store):
        meta = store.create_session("test-user-123", model="offline", title="Board prep")
        key = object_key("test-user-123", meta.id)
        saved = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        client.delete_object(Bucket=BUCKET, Key=key)
        store.reindex()
        assert store.get_meta(meta.id, "test-user-123").damaged == "object missing"
        client.put_object(Bucket=BUCKET, Key=key, Body=saved)
        store.engine.dispose()
        monkeypatch.setattr("sys.stdin", io.StringIO("/quit\n"))
        assert main(["chat", "--session", meta.id]) == 0
        assert "Resuming “Board prep” (0 turns, active)" in capsys.readouterr().out


def test_a_heavy_users_counts_are_grouped_by_thousands_like_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Past a thousand sessions the footer read "rows 1,001–1,002 of 1002 sessions": the rows grouped,
    the count not (the Sessions page says 1,002)."""
    db = tmp_path / "cli.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    insert_sessions(engine, [{"id": f"s-{n:04d}", "user_id": "test-user-123"} for n in range(1002)])
    engine.dispose()
    for key, value in _env(db).items():
        monkeypatch.setenv(key, value)
    assert main(["sessions", "list", "--limit", "500", "--page", "3"]) == 0
    footer = capsys.readouterr().out.strip().splitlines()[-1]
    assert footer.startswith("rows 1,001–1,002 of 1,002 sessions · "), footer
