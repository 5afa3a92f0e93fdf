"""The command line's standard streams as people wire them: output piped into ``head``, stdin
closed, an output encoding that cannot write every character, a database file that cannot be made."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.fixtures.cli import ROOT, run


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "ENV": "local",
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "cli.db"),
        "ASSISTANT_SECRETS_FILE": os.devnull,
        **extra,
    }
    env.pop("MODEL_PROVIDER", None)
    return env


def _sigpipe_ignored() -> None:
    """In the child before it runs: SIGPIPE ignored, as Python itself sets it (a closed pipe is an exception)."""
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)


def _ctrl_c_ends_it() -> None:
    """In the child before it runs: SIGINT as a terminal's Ctrl-C delivers it (KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(env: dict[str, str], *args: str, stdin: bool = False, preexec_fn: Any = None) -> subprocess.Popen[str]:
    """``python -m assistant *args`` in a process of its own, with its streams piped (text)."""
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE if stdin else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec_fn,
    )


def test_output_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path: Path) -> None:
    """``python -m assistant prices | head -1`` printed a BrokenPipeError traceback."""
    proc = _start(_env(tmp_path), "prices")
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the table is written (the child is still starting)
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 141, "as a process ended by SIGPIPE (128 + 13), the shell's convention"


def test_a_reader_leaving_mid_answer_keeps_the_question_stopped_and_resumable(tmp_path: Path) -> None:
    """``… chat | head``: the answer's BrokenPipeError killed the process mid-turn; the turn stayed
    "running" and was then dropped, question and all, with a traceback on the terminal."""
    chat = _start(
        _env(tmp_path, FAULT_INJECTION="slow:0.2", PYTHONUNBUFFERED="1"),
        "chat",
        stdin=True,
        preexec_fn=_sigpipe_ignored,
    )
    assert chat.stdin is not None and chat.stdout is not None and chat.stderr is not None
    chat.stdin.write("What meetings do I have this week?\n")
    chat.stdin.flush()
    seen = ""
    while "⚙ " not in seen:  # mid-answer: the model's second call is on its way
        line = chat.stdout.readline()
        assert line, "the chat ended before its first tool call"
        seen += line
    chat.stdout.close()
    err = chat.stderr.read()
    chat.wait(timeout=60)
    chat.stdin.close()
    assert "Traceback" not in err, err
    listed = run(["sessions", "list"], tmp_path)
    assert "1 turn " in listed.stdout, listed.stdout
    session_id = listed.stdout.split()[0]
    resumed = run(["chat", "--session", session_id], tmp_path, stdin="/quit\n")
    assert resumed.returncode == 0 and "(1 turn, active)" in resumed.stdout, resumed.stdout + resumed.stderr


def test_chat_with_stdin_closed_is_one_error_line_not_a_traceback(tmp_path: Path) -> None:
    """``python -m assistant chat <&-`` (a cron job, a service unit) was "RuntimeError: input(): lost sys.stdin"."""
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "chat"],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(0),
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2
    assert result.stderr.startswith("error: no input to read (stdin is closed)"), result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_an_output_encoding_without_some_characters_does_not_crash(tmp_path: Path) -> None:
    """With an ASCII output (``PYTHONIOENCODING=ascii``, a Latin-1 terminal), the "·" of every
    list's footer was a UnicodeEncodeError traceback after the rows."""
    result = run(["sessions", "list"], tmp_path, PYTHONIOENCODING="ascii")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0 and result.stdout.strip() == "0 sessions ? $0.00 total"


def test_a_sqlite_file_whose_folder_cannot_be_made_is_named_in_one_line(tmp_path: Path) -> None:
    """DATABASE_URL pointing under a file (or a read-only place) was a FileExistsError traceback."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = run(["sessions", "list"], tmp_path, DATABASE_URL=f"sqlite:///{blocker}/cli.db")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert f"error: the database cannot be reached (DATABASE_URL=sqlite:///{blocker}/cli.db)" in result.stderr


def test_ctrl_c_during_the_example_says_how_to_resume(tmp_path: Path) -> None:
    """The stopped example ended on "Stopped: …" without the session's id: the stored, stopped
    answer could only be resumed after finding the id with ``sessions list``."""
    chat = _start(
        _env(tmp_path, FAULT_INJECTION="slow:0.2", PYTHONUNBUFFERED="1"),
        "chat",
        "--example",
        preexec_fn=_ctrl_c_ends_it,
    )
    assert chat.stdout is not None
    seen = ""
    while "⚙ " not in seen:
        line = chat.stdout.readline()
        assert line, "the example ended before its first tool call"
        seen += line
    chat.send_signal(signal.SIGINT)
    out, err = chat.communicate(timeout=60)
    assert "Traceback" not in err and chat.returncode == 1, err
    assert "Stopped: what was written so far is kept" in out
    session_id = out.rsplit("Resume with: python -m assistant chat --session ", 1)[1].split()[0]
    resumed = run(["chat", "--session", session_id], tmp_path, stdin="/quit\n")
    assert "(1 turn, active)" in resumed.stdout, resumed.stdout + resumed.stderr


def test_ctrl_c_while_waiting_for_the_database_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """Ctrl-C on ``sessions list`` waiting for a database that does not answer printed the
    KeyboardInterrupt's traceback (through SQLAlchemy's pool and psycopg)."""
    with socket.socket() as silent:  # accepts the connection, never answers it
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        proc = _start(
            _env(tmp_path, DATABASE_URL=f"postgresql+psycopg://qa@127.0.0.1:{port}/qa"),
            "sessions",
            "list",
            preexec_fn=_ctrl_c_ends_it,
        )
        connection, _ = silent.accept()  # the command is waiting on its database now
        with connection:
            time.sleep(0.3)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    assert proc.returncode == 130 and err.strip() == "interrupted" and out == ""


def test_a_database_that_accepts_but_never_answers_is_given_up_on(tmp_path: Path) -> None:
    """A Postgres host that accepts the connection and never answers (a hung server, a firewall
    dropping replies) held ``sessions list`` (and a page) forever; it now fails after
    ``CONNECT_TIMEOUT_S`` with the usual one line (once: the schema check used to connect a
    second time, and the wait was twice as long)."""
    # The default CONNECT_TIMEOUT_S (10 s) applies; the child's is set to 4 s before the CLI runs
    # (the URL names no connect_timeout): waiting twice (10 s, plus the start) fails the bound
    # below, as 2 x 10 s did the old one, and the test no longer waits 10 s.
    timeout_s = 5
    child = (
        "import runpy, sys; import assistant.db; "
        f"assistant.db.CONNECT_TIMEOUT_S = {timeout_s}; "
        "sys.argv[0] = 'assistant'; runpy.run_module('assistant', run_name='__main__', alter_sys=True)"
    )
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", child, "sessions", "list"],
            cwd=ROOT,
            env=_env(tmp_path, DATABASE_URL=f"postgresql+psycopg://qa@127.0.0.1:{port}/qa"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout_s + 30)
        finally:
            proc.kill()
        waited = time.monotonic() - started
    assert "Traceback" not in err, err
    assert proc.returncode == 1 and "the database cannot be reached" in err and out == "", err
    assert timeout_s <= waited < 2 * timeout_s, waited


def test_piped_messages_are_shown_after_the_prompt(tmp_path: Path) -> None:
    """``echo … | chat > log``: the terminal echoes what is typed, a pipe does not, so the
    transcript read "you › assistant › …" with every question missing."""
    result = run(["chat"], tmp_path, stdin="What is my budget?\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "\nyou › What is my budget?\nassistant › " in result.stdout, result.stdout
    assert "\nyou › /quit\n" in result.stdout


def test_commands_with_stdout_closed_do_not_crash(tmp_path: Path) -> None:
    """``… >&-``: prep's Markdown (sys.stdout.buffer) and the exit's flush were AttributeError tracebacks."""
    for args in (["prices"], ["prep", "leadership-sync"]):
        result = subprocess.run(
            [sys.executable, "-m", "assistant", *args],
            cwd=ROOT,
            env=_env(tmp_path),
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            preexec_fn=lambda: os.close(1),
        )
        assert "Traceback" not in result.stderr and result.returncode == 0, (args, result.stderr)


def test_a_reader_leaving_before_the_answer_keeps_the_question(tmp_path: Path) -> None:
    """``printf 'hello\\n' | chat | head -4``: the pipe broke on "assistant › ", printed once the
    turn had started but outside the answer's handling, and the question was dropped."""
    chat = _start(_env(tmp_path), "chat", stdin=True)
    assert chat.stdin is not None and chat.stdout is not None and chat.stderr is not None
    chat.stdin.write("hello\n")
    chat.stdin.flush()
    while "you › hello" not in chat.stdout.readline():  # the echo: the turn starts next
        pass
    chat.stdout.close()
    chat.stdin.close()
    err = chat.stderr.read()
    chat.wait(timeout=60)
    assert "Traceback" not in err and chat.returncode == 141, err
    listed = run(["sessions", "list"], tmp_path)
    assert "1 turn " in listed.stdout, listed.stdout
