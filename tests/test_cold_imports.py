"""The warm start leaves strands out: the chat page draws before strands (and boto3) is imported.

strands and what it pulls in (boto3 via its Bedrock model, OpenTelemetry, jsonschema) take
~0.3 s to import; the first page needs none of it. The warm start (:func:`streamlit_app.warm_up`:
the first page's modules, the chat service) runs in a fresh interpreter here, since the test
process has imported strands long ago; the step after the first script run then imports what the
first send needs. What the first script run would do once per process is done by the warm start too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
import streamlit_app

SEEN = (
    "strands",
    "boto3",
    "opentelemetry",
    "assistant.chat.runner",
    "assistant.agents.meeting_coordinator",
    # a restart on a schema at head, with the dev login: no migration, no sign-in, no Google
    "alembic",
    "jwt",
    "requests",
    "google_auth_oauthlib",
    "sqlalchemy.dialects.postgresql",
)
streamlit_app.warm_up()
print(json.dumps(sorted(m for m in SEEN if m in sys.modules)))
streamlit_app.warm_first_send()
print(json.dumps(sorted(m for m in SEEN if m in sys.modules)))
"""


def _local_env(tmp_path: Path) -> dict[str, str]:
    """A local server's environment (offline model, dev login, a database of its own), nothing else set."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "OAUTH_REDIRECT_URI", "SESSIONS_BUCKET_NAME")
        and not name.startswith(("MODEL", "PYTEST"))
    }
    env.update(
        ENV="local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}",
        ASSISTANT_SECRETS_FILE=os.devnull,
        MODEL_PROVIDER="offline",
        LOG_LEVEL="WARNING",
    )
    return env


def test_warm_start_imports_no_strands_nor_sign_in_or_migration_code_and_the_step_after_it_does(tmp_path: Path) -> None:
    env = _local_env(tmp_path)

    def start() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    first = start()  # a first deployment: the schema is created (Alembic, and its Postgres dialect import)
    assert first.returncode == 0, first.stderr
    assert not {"strands", "boto3", "assistant.chat.runner"} & set(json.loads(first.stdout.splitlines()[0]))
    done = start()  # a restart
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr
    assert json.loads(lines[0]) == [], "imported by the warm start"
    assert done.returncode == 0, done.stderr
    assert {"assistant.agents.meeting_coordinator", "assistant.chat.runner", "strands"} <= set(json.loads(lines[1]))


FIRST_RUN_PROBE = """
import inspect, json
import streamlit_app
from streamlit.testing.v1 import AppTest
import assistant.views.format as view_format

streamlit_app.warm_up()
streamlit_app.WARM_DONE.set()  # what the server's lifespan does once warm_up returns
walked = []
stack = inspect.stack
inspect.stack = lambda *a, **k: (walked.append("inspect.stack"), stack(*a, **k))[1]
zones = view_format.available_timezones
view_format.available_timezones = lambda: (walked.append("available_timezones"), zones())[1]
view_format.resolve_zone("Europe/Paris")  # a browser's zone, as the chat page reads it
at = AppTest.from_file("streamlit_app.py", default_timeout=60).run()
print(json.dumps({"walked": walked, "chat_input": len(at.chat_input), "errors": [e.value for e in at.error]}))
"""


def test_the_first_page_after_the_warm_start_walks_neither_the_stack_nor_the_zone_database(tmp_path: Path) -> None:
    """Once per process, Streamlit's first element asks whether it runs in a REPL (``inspect.stack()``,
    which looks up every frame's module by every loaded module's path: 0.14 s of the first visitor's
    0.27 s script run), and the chat page reads the zone database's names. The warm start does both,
    while the first visitor's browser loads the page."""
    env = _local_env(tmp_path)
    probe = [sys.executable, "-c", FIRST_RUN_PROBE]
    done = subprocess.run(probe, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["chat_input"] == 1 and not seen["errors"], seen  # the chat page was drawn
    assert seen["walked"] == [], "done during the first visitor's script run"
