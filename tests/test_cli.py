"""The command line, run as a user runs it: ``python -m assistant ...`` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str], tmp_path: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "ENV": "local",
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "cli.db"),
        "ASSISTANT_SECRETS_FILE": str(tmp_path / "none.toml"),
        **env,
    }
    full_env.pop("MODEL_PROVIDER", None)
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=ROOT,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_chat_example_runs_a_prep_conversation_with_tools_and_can_be_resumed(tmp_path: Path) -> None:
    result = run(["chat", "--example"], tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "offline demo model" in out
    assert out.count("⚙ ") >= 2, "at least two tool calls are shown as they happen"
    assert "get_upcoming_meetings" in out and "generate_meeting_agenda" in out
    session_id = out.rsplit("--session ", 1)[1].split()[0]

    listed = run(["sessions", "list"], tmp_path)
    assert listed.returncode == 0 and session_id in listed.stdout and "3 turns" in listed.stdout

    resumed = run(["chat", "--session", session_id], tmp_path, stdin="What's the budget context?\n/quit\n")
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming" in resumed.stdout and "get_budget_context" in resumed.stdout


def test_unknown_session_and_bad_input_get_clear_messages(tmp_path: Path) -> None:
    unknown = run(["chat", "--session", "no-such-session"], tmp_path)
    assert unknown.returncode == 2 and "not found" in unknown.stderr
    empty = run(["chat"], tmp_path, stdin="   \n/quit\n")
    assert empty.returncode == 0 and "empty message" in empty.stdout
    huge = run(["chat"], tmp_path, stdin="x" * 100_000 + "\n/quit\n")
    assert "100,000 characters" in huge.stdout and "8,000" in huge.stdout
    listed = run(["sessions", "list"], tmp_path)
    assert listed.stdout.strip().endswith("0 sessions · $0.00 total"), "refused input creates no session"


def test_prices_costs_and_db_commands(tmp_path: Path) -> None:
    prices = run(["prices"], tmp_path)
    assert prices.returncode == 0 and "Amazon Nova Lite" in prices.stdout and "Offline demo model" in prices.stdout
    upgraded = run(["db", "upgrade"], tmp_path)
    assert upgraded.returncode == 0 and "revision" in upgraded.stdout
    costs = run(["sessions", "costs", "--since", "2026-01-01", "--csv"], tmp_path)
    assert costs.returncode == 0 and costs.stdout.startswith("day,")
    bad_date = run(["sessions", "costs", "--since", "yesterday"], tmp_path)
    assert bad_date.returncode != 0 and "not a date" in bad_date.stderr


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"SESSION_EXPIRY_HOURS": "soon"}, "SESSION_EXPIRY_HOURS"),
        ({"ENV": "staging"}, "ENV"),
        ({"ENV": "prod"}, "SESSIONS_BUCKET_NAME"),
    ],
)
def test_invalid_settings_fail_with_one_line_naming_the_variable(
    tmp_path: Path, env: dict[str, str], needle: str
) -> None:
    result = run(["prices"], tmp_path, **env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "session_id",
    ["abc\n2026-01-01 00:00:00,000 ERROR assistant.auth | forged line", "abc\x01def", "x" * 10_000, "../x"],
)
def test_malformed_session_id_is_not_found_and_never_logged_raw(tmp_path: Path, session_id: str) -> None:
    result = run(["chat", "--session", session_id], tmp_path, LOG_LEVEL="DEBUG")
    assert result.returncode == 2
    assert "That session was not found" in result.stderr
    assert not [line for line in result.stderr.splitlines() if line.startswith("2026-01-01")], "a forged log line"
    assert "\x01" not in result.stderr
    assert "x" * 100 not in result.stderr
    assert len(result.stderr) < 2_000


def test_chat_over_the_rate_limit_creates_no_session(tmp_path: Path) -> None:
    first = run(["chat"], tmp_path, stdin="What is my budget?\n/quit\n", MESSAGES_PER_MINUTE="1")
    assert first.returncode == 0, first.stderr
    over = run(["chat"], tmp_path, stdin="And my priorities?\n/quit\n", MESSAGES_PER_MINUTE="1")
    assert over.returncode == 0 and "messages in the last minute" in over.stdout
    assert "Resume with" not in over.stdout, "no session was started"
    listed = run(["sessions", "list"], tmp_path)
    assert listed.stdout.strip().endswith("1 sessions · $0.00 total"), listed.stdout
