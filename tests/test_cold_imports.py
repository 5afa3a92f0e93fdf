"""The warm start leaves strands out: the chat page draws before strands (and boto3) is imported.

strands and what it pulls in (boto3 via its Bedrock model, OpenTelemetry, jsonschema) take
~0.3 s to import; the first page needs none of it. The warm start (:func:`streamlit_app.warm_up`:
the first page's modules, the chat service) runs in a fresh interpreter here, since the test
process has imported strands long ago; the step after the first script run then imports what the
first send needs.
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


def test_warm_start_imports_no_strands_nor_sign_in_or_migration_code_and_the_step_after_it_does(tmp_path: Path) -> None:
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
