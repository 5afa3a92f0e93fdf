"""The command line (``assistant/__main__.py``), run as a user runs it: ``python -m assistant ...`` in a subprocess.

Its sessions and calendar commands have their own files (``test_cli_sessions.py``, ``test_cli_meetings.py``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.cli import ROOT, run
from tests.fixtures.fake_llm_servers import TEST_KEY, FakeLLMServer, say


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
    # on the SQL store too (it said "S3 store only"): search rows rebuilt from the transcript
    reindexed = run(["sessions", "reindex"], tmp_path)
    assert reindexed.returncode == 0 and "reindexed 1 session from their stored transcripts" in reindexed.stdout
    found = run(["sessions", "list", "--search", "agenda"], tmp_path)
    assert session_id in found.stdout and "3 turns" in found.stdout

    resumed = run(["chat", "--session", session_id], tmp_path, stdin="What's the budget context?\n/quit\n")
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming" in resumed.stdout and "get_budget_context" in resumed.stdout


def test_unknown_session_and_bad_input_get_clear_messages(tmp_path: Path) -> None:
    unknown = run(["chat", "--session", "no-such-session"], tmp_path)
    assert unknown.returncode == 2 and "not found" in unknown.stderr
    # one line: a timestamped WARNING log line came before it
    assert unknown.stderr.strip().splitlines() == [
        "error: That session was not found. Check the id (see: python -m assistant sessions list)."
    ]
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
    assert costs.returncode == 0 and costs.stdout.startswith("day_utc,")
    table = run(["sessions", "costs", "--since", "2026-01-01"], tmp_path)  # tab-separated, no blank line at the end
    assert table.returncode == 0 and table.stdout.startswith("day_utc\tuser_id\t") and not table.stdout.endswith("\n\n")
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
    ("args", "env", "needles"),
    [
        (
            ["sessions", "list"],
            {"DATABASE_URL": "postgresql+psycopg://app:hunter2@127.0.0.1:1/assistant"},
            ["DATABASE_URL=postgresql+psycopg://app:***@127.0.0.1:1/assistant", "cannot be reached"],
        ),
        (
            ["db", "upgrade"],
            {"DATABASE_URL": "postgresql+psycopg://app:hunter2@127.0.0.1:1/assistant"},
            ["DATABASE_URL"],
        ),
        (["prices"], {"PRICES_FILE": "/no/such/prices.toml"}, ["PRICES_FILE", "/no/such/prices.toml"]),
        (
            ["meetings"],
            {"DATA_DIR": "/no/such/data", "PRICES_FILE": str(ROOT / "data" / "prices.toml")},
            ["calendar.toml", "DATA_DIR=/no/such/data"],
        ),
        (["meetings"], {"MEETING_TYPES_FILE": "/no/such/types.toml"}, ["/no/such/types.toml", "MEETING_TYPES_FILE"]),
        (
            ["sessions", "reindex"],
            {"SESSIONS_BUCKET_NAME": "no-such-bucket", "S3_ENDPOINT_URL": "http://127.0.0.1:1"},
            ["EndpointConnectionError", "SESSIONS_BUCKET_NAME=no-such-bucket", "S3_ENDPOINT_URL=http://127.0.0.1:1"],
        ),
    ],
)
def test_an_unreachable_database_bucket_or_price_file_is_one_error_line_naming_the_setting(
    tmp_path: Path, args: list[str], env: dict[str, str], needles: list[str]
) -> None:
    result = run(args, tmp_path, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", **env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert all(needle in errors[0] for needle in needles), errors[0]


@pytest.mark.parametrize(
    ("env", "needles"),
    [
        ({"PRICES_FILE": "/no/such/prices.toml"}, ["PRICES_FILE", "/no/such/prices.toml"]),
        ({"MEETING_TYPES_FILE": "/no/such/types.toml"}, ["MEETING_TYPES_FILE"]),
        (
            {
                "DATA_DIR": "/no/such/data",
                "PRICES_FILE": str(ROOT / "data" / "prices.toml"),
                "MEETING_TYPES_FILE": str(ROOT / "data" / "meeting_types.toml"),
            },
            ["DATA_DIR=/no/such/data"],
        ),
    ],
)
def test_db_upgrade_as_the_release_step_refuses_data_files_the_pages_cannot_read(
    tmp_path: Path, env: dict[str, str], needles: list[str]
) -> None:
    """The deployment guide runs ``db upgrade`` first to check the replicas' settings: a mistyped
    PRICES_FILE, DATA_DIR or MEETING_TYPES_FILE passed it (exit 0), and every page of the new
    replicas then said "not configured correctly"."""
    result = run(["db", "upgrade"], tmp_path, **env)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.returncode == 1 and len(errors) == 1, result.stderr
    assert all(needle in errors[0] for needle in needles), errors[0]
    assert not (tmp_path / "cli.db").exists()  # nothing migrated on refused settings


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


@pytest.mark.parametrize("session_id", ["", "  "])
def test_an_empty_session_id_is_a_usage_error_not_a_new_session(tmp_path: Path, session_id: str) -> None:
    """``chat --session "$SID"`` with SID unset started a new session and answered in it (exit 0):
    the conversation meant to go on was never resumed, and a stray session was left behind."""
    result = run(["chat", "--session", session_id], tmp_path, stdin="What is my budget?\n/quit\n")
    assert result.returncode == 2, result.stdout
    assert "argument --session: must be a session id" in result.stderr and "Traceback" not in result.stderr
    assert "Resume with" not in result.stdout
    assert run(["sessions", "list"], tmp_path).stdout.strip().endswith("0 sessions · $0.00 total")


def test_chat_over_the_rate_limit_creates_no_session(tmp_path: Path) -> None:
    first = run(["chat"], tmp_path, stdin="What is my budget?\n/quit\n", MESSAGES_PER_MINUTE="1")
    assert first.returncode == 0, first.stderr
    over = run(["chat"], tmp_path, stdin="And my priorities?\n/quit\n", MESSAGES_PER_MINUTE="1")
    assert over.returncode == 0 and "sent 1 message in the last minute" in over.stdout
    assert "Resume with" not in over.stdout, "no session was started"
    listed = run(["sessions", "list"], tmp_path)
    assert listed.stdout.strip().endswith("1 session · $0.00 total"), listed.stdout


def test_chat_prints_no_terminal_escapes_a_model_answers_with(tmp_path: Path, fake_openai: FakeLLMServer) -> None:
    """An answer carrying terminal escapes (say a prompt injection in a calendar event made the model
    write them) cleared the screen, retitled the terminal and wrote the clipboard (OSC 52) of the
    user running ``python -m assistant chat``: the answer is printed without them."""
    fake_openai.script(say("Your week:\x1b[2J\x1b]0;pwned\x07 three meetings.\x1b]52;c;ZWNobyBoaQ==\x07 Done."))
    result = run(
        ["chat"],
        tmp_path,
        stdin="What meetings do I have this week?\n/quit\n",
        MODELS="openai:gpt-4o-mini",
        OPENAI_BASE_URL=fake_openai.base_url,
        OPENAI_API_KEY=TEST_KEY,
    )
    assert result.returncode == 0, result.stderr
    assert "Your week: three meetings. Done." in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        # a traceback (SessionQueryError) before
        (["sessions", "list", "--limit", "0"], "argument --limit: must be a whole number from 1 to 500 (got '0')"),
        (["sessions", "list", "--limit", "1000"], "argument --limit: must be a whole number from 1 to 500"),
        # exit 1 before, unlike every other usage error
        (["sessions", "costs", "--since", "2026-13-01"], "argument --since: '2026-13-01' is not a date"),
        # accepted before: "(your meetings in the next -3 days): (none; try a larger --days)"
        (["prep", "nosuch", "--days", "-3"], "argument --days: must be a whole number from 1 to 366 (got '-3')"),
        (["meetings", "--days", "367"], "argument --days: must be a whole number from 1 to 366"),
        # accepted before: "0 sessions", read as "nothing happened in that period"
        (
            ["sessions", "list", "--since", "2026-12-10", "--until", "2026-12-01"],
            "--until 2026-12-01 is not after --since 2026-12-10 (--since is inclusive, --until exclusive",
        ),
        (["sessions", "costs", "--since", "2026-12-05", "--until", "2026-12-05"], "is not after --since 2026-12-05"),
        # a traceback (SessionQueryError) before
        (["sessions", "list", "--search", "budget " * 40], "error: Search text is too long: keep it to 200 characters"),
        # ignored before, each without a word
        (["sessions", "list", "--all", "--user", "alice"], "error: --all lists every user's sessions; give --all or"),
        (["sessions", "list", "--csv"], "error: --csv applies to sessions costs"),
        (["chat", "--session", "x", "--model", "offline"], "error: a session keeps the model it started with"),
        # "--user $UNSET" acted on TEST_USER_ID's calendar and sessions
        (["calendar", "disconnect", "--user", ""], "argument --user: must be a user id of 1-128 printable"),
        (["sessions", "list", "--user", "a\x1b[2Jb"], "argument --user: must be a user id"),
        # "Model: nosuch" was printed before the error (with --example), or before a prompt whose
        # every message was then refused
        (["chat", "--model", "nosuch", "--example"], "error: "),
        (["chat", "--model", "nosuch"], "error: "),
        # meetings had no --tz; prep's said so after the settings were loaded
        (["meetings", "--tz", "Mars/Olympus"], "argument --tz: 'Mars/Olympus' is not a time zone; use an IANA name"),
        (["prep", "x", "--tz", "Mars/Olympus"], "argument --tz: 'Mars/Olympus' is not a time zone; use an IANA name"),
    ],
    ids=[
        "limit-0",
        "limit-too-big",
        "bad-date",
        "prep-days",
        "meetings-days",
        "until-before-since",
        "empty-period",
        "search-too-long",
        "all-and-user",
        "csv-list",
        "model-on-resume",
        "empty-user",
        "control-user",
        "unknown-model-example",
        "unknown-model",
        "meetings-tz",
        "prep-tz",
    ],
)
def test_bad_arguments_are_one_usage_error_not_a_traceback_or_an_empty_answer(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    result = run(args, tmp_path)
    assert result.returncode == 2 and needle in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_the_clis_page_size_is_the_querys() -> None:
    from assistant.__main__ import MAX_PAGE
    from assistant.sessions.queries import MAX_LIMIT

    assert MAX_PAGE == MAX_LIMIT


def test_an_unknown_session_says_where_to_find_the_ids(tmp_path: Path) -> None:
    result = run(["chat", "--session", "12345678-1234-1234-1234-123456789012"], tmp_path)
    assert result.returncode == 2
    assert "not found. Check the id (see: python -m assistant sessions list)" in result.stderr


def test_ctrl_c_during_an_answer_stops_it_and_keeps_what_was_written(tmp_path: Path) -> None:
    """Ctrl-C mid-answer was a KeyboardInterrupt traceback, and the answer was lost with the process."""
    env = {
        **os.environ,
        "ENV": "local",
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "cli.db"),
        "ASSISTANT_SECRETS_FILE": os.devnull,
        "FAULT_INJECTION": "slow:0.2",  # each model event 0.2 s later: Ctrl-C lands mid-answer
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("MODEL_PROVIDER", None)
    chat = subprocess.Popen(
        [sys.executable, "-m", "assistant", "chat"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal delivers it: a test run started in the background (CI, `make test &`)
        # passes SIGINT on ignored, and Python then installs no KeyboardInterrupt handler at all.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert chat.stdin is not None and chat.stdout is not None
    chat.stdin.write("What meetings do I have this week?\n")
    chat.stdin.flush()
    seen = ""
    while "⚙ " not in seen:  # the first tool call: the model's second call is now waiting
        line = chat.stdout.readline()
        assert line, "the chat ended before its first tool call"
        seen += line
    chat.send_signal(signal.SIGINT)
    out, err = chat.communicate("/quit\n", timeout=30)
    assert "Traceback" not in err and chat.returncode == 0, err
    assert "Stopped: what was written so far is kept" in out
    listed = run(["sessions", "list"], tmp_path)
    assert "1 turn " in listed.stdout, "the stopped answer is stored"


def test_resuming_a_read_only_session_says_so_before_anything_is_typed(tmp_path: Path) -> None:
    """Every message was refused with "Use “Continue in a new session”", a button the CLI does not have."""
    first = run(["chat"], tmp_path, stdin="What is my budget?\n/quit\n")
    session_id = first.stdout.rsplit("--session ", 1)[1].split()[0]
    later = run(["chat", "--session", session_id], tmp_path, stdin="And now?\n", SESSION_EXPIRY_HOURS="0.00001")
    assert later.returncode == 2 and "Continue in a new session" not in later.stderr + later.stdout
    assert "is expired and read-only; start a new session: python -m assistant chat" in later.stderr


def test_the_example_over_the_rate_limit_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = run(["chat", "--example"], tmp_path, MESSAGES_PER_MINUTE="1")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "error: You have sent 1 message in the last minute" in result.stderr
    # its first answer is kept: the way back to it was not printed
    assert "Resume with: python -m assistant chat --session " in result.stdout
    # refused on its very first line, the example left an empty "New session" behind
    again = run(["chat", "--example"], tmp_path, MESSAGES_PER_MINUTE="1")
    assert again.returncode == 1 and "error: You have sent 1 message" in again.stderr
    assert "Resume with" not in again.stdout
    listed = run(["sessions", "list"], tmp_path)
    assert listed.stdout.strip().endswith("1 session · $0.00 total"), listed.stdout


def test_a_resumed_session_shows_its_own_model_not_the_default(tmp_path: Path, fake_openai: FakeLLMServer) -> None:
    """ "Resuming … · model: offline demo model" for a session answering with another model."""
    fake_openai.script(say("Three meetings."))
    env = {"MODELS": "offline,openai:gpt-4o-mini", "OPENAI_BASE_URL": fake_openai.base_url, "OPENAI_API_KEY": TEST_KEY}
    first = run(["chat", "--model", "openai:gpt-4o-mini"], tmp_path, stdin="My week?\n/quit\n", **env)
    assert first.stdout.startswith("Model: gpt-4o-mini (local)"), first.stdout  # it read the default's
    session_id = first.stdout.rsplit("--session ", 1)[1].split()[0]
    resumed = run(["chat", "--session", session_id], tmp_path, stdin="/quit\n", **env)
    assert "Resuming" in resumed.stdout and "gpt-4o-mini" in resumed.stdout.splitlines()[0], resumed.stdout


def test_reading_commands_print_no_log_lines_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``sessions list`` on a new database printed the schema upgrade's and the price table's INFO
    lines on stderr above its output; a reader got log noise. ``db`` keeps them, and LOG_LEVEL wins."""
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    listed = run(["sessions", "list"], tmp_path)
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    assert run(["prices"], tmp_path).stderr == ""
    (tmp_path / "asked").mkdir()
    asked = run(["sessions", "list"], tmp_path / "asked", LOG_LEVEL="INFO")  # a new database: upgraded
    assert " INFO assistant.migrate " in asked.stderr, asked.stderr
    (tmp_path / "other").mkdir()
    upgraded = run(["db", "upgrade"], tmp_path / "other")
    assert " INFO assistant.migrate " in upgraded.stderr, upgraded.stderr


def test_resuming_a_damaged_session_says_so_before_anything_is_typed(tmp_path: Path) -> None:
    """A session whose stored conversation is gone (marked damaged, as the S3 store marks a missing
    object) was "Resuming “…” (1 turn, active)", then refused every message, then offered "Resume with"."""
    import sqlalchemy as sa

    first = run(["chat"], tmp_path, stdin="What is my budget?\n/quit\n")
    session_id = first.stdout.rsplit("--session ", 1)[1].split()[0]
    engine = sa.create_engine("sqlite:///" + str(tmp_path / "cli.db"))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE sessions SET damaged = 'object missing' WHERE id = :sid"), {"sid": session_id})
    engine.dispose()
    later = run(["chat", "--session", session_id], tmp_path, stdin="And now?\n")
    assert later.returncode == 2, later.stdout
    assert "Resuming" not in later.stdout and "Resume with" not in later.stdout
    assert (
        "error: “What is my budget?” cannot be opened: its stored conversation is missing or damaged; "
        "start a new session: python -m assistant chat"
    ) in later.stderr


def test_resuming_a_session_whose_model_is_no_longer_offered_says_so_before_anything_is_typed(
    tmp_path: Path,
) -> None:
    """MODELS no longer offers the session's model: the CLI said "Resuming …", refused every message
    with "Continue in a new session" (a page button the CLI does not have), then offered the same
    "Resume with: … --session" again."""
    first = run(["chat"], tmp_path, stdin="What is my budget?\n/quit\n")
    session_id = first.stdout.rsplit("--session ", 1)[1].split()[0]
    later = run(["chat", "--session", session_id], tmp_path, stdin="And now?\n", MODELS="offline:alt")
    assert later.returncode == 2 and "Continue in a new session" not in later.stderr + later.stdout
    assert "Resume with" not in later.stdout, later.stdout
    assert "no longer offered here" in later.stderr and "start a new session: python -m assistant chat" in (
        later.stderr
    ), later.stderr


def test_an_answers_small_print_reads_as_the_pages(tmp_path: Path) -> None:
    """Under each answer the CLI printed "[26826 in / 335 out tokens · $0.0000 · first token 282 ms]":
    ungrouped counts and a cost cut to four decimals, so a cheap paid answer (Nova Micro, a few
    hundred tokens: $0.00002) read as free, and the free demo model was not said to be free."""
    result = run(["chat"], tmp_path, stdin="What is my budget?\n/quit\n")
    assert result.returncode == 0, result.stderr
    [footer] = [line.strip() for line in result.stdout.splitlines() if "out tokens" in line]
    took = r"[\d.]+ m?s"  # "850 ms", "1.2 s" on a loaded machine
    assert re.fullmatch(
        rf"\[[\d.]+k? in · \d+ out tokens · \$0\.00 \(offline demo model\) · first token {took} · {took}\]", footer
    ), footer
