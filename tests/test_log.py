"""Logging setup (assistant/log.py): one handler per process, however many threads set it up at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from assistant.config import PROJECT_ROOT

# Streamlit runs each browser session's script in its own thread; on a fresh server every
# first run calls setup_logging at the same moment. Run that in a fresh interpreter (the
# module state is per process) with many threads released together by a Barrier.
_SCRIPT = textwrap.dedent(
    """
    import logging, sys, threading
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: widen any race
    from assistant.log import setup_logging

    THREADS = 48
    barrier = threading.Barrier(THREADS)

    def first_run():
        barrier.wait()
        setup_logging("INFO")

    threads = [threading.Thread(target=first_run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    setup_logging("DEBUG")  # a later rerun with another level adds nothing either
    import importlib, assistant.log
    importlib.reload(assistant.log).setup_logging("INFO")  # nor does a reloaded copy of the module
    logger = logging.getLogger("assistant.sessions.test")
    print(len(logging.getLogger("assistant").handlers), flush=True)
    logger.info("user_id=<%s>, session_id=<%s> | creating session", "u1", "s1")
    """
)


def _run() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _SCRIPT], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True
    )


def test_concurrent_first_runs_attach_one_handler_and_each_line_is_written_once() -> None:
    for _ in range(5):
        result = _run()
        assert result.stdout.strip() == "1", f"handlers attached: {result.stdout.strip()}"
        lines = [line for line in result.stderr.splitlines() if "creating session" in line]
        assert len(lines) == 1, result.stderr
        assert lines[0].endswith("INFO assistant.sessions.test | user_id=<u1>, session_id=<s1> | creating session")


def test_level_follows_the_latest_call() -> None:
    script = _SCRIPT.replace('setup_logging("INFO")  # nor', 'setup_logging("DEBUG")  # nor')
    script = script.replace('logger.info("user_id', 'logger.debug("user_id')
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert sum("creating session" in line for line in result.stderr.splitlines()) == 1


def test_a_warning_written_while_the_settings_load_has_the_log_format() -> None:
    """A look-alike variable's warning comes before the settings (and so the logging level) are
    known: it was written bare, without time, level and logger, and a log shipper that starts an
    event at a timestamp glued it onto the previous line."""
    import os
    import re

    env = {**os.environ, "ENV": "local", "ASSISTANT_SECRETS_FILE": os.devnull, "DATABSE_URL": "sqlite:///x.db"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "prices"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [line for line in result.stderr.splitlines() if "DATABSE_URL" in line]
    assert len(lines) == 1, result.stderr
    assert re.match(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING assistant\.setting_names \| variable=<DATABSE_URL>", lines[0]
    )
