"""ENV=prod end to end against a moto S3 *server* on loopback (real HTTP, real botocore client).

The factory must build the S3 store from Settings alone, a chat turn must round-trip
through the server, the CLI reindex must rebuild the index from the bucket, and a
deployed environment without its bucket must refuse to start, naming the setting.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import delete

from assistant import db
from assistant.chat import ChatService, Done
from assistant.config import PROJECT_ROOT, ConfigError, Settings, load_settings
from assistant.factory import build_store, get_prices
from assistant.models.offline import OfflineModel
from assistant.sessions.s3_store import S3SessionStore, object_key
from tests.fixtures.s3 import FAKE_AWS_ENV, RequestCounter, make_client

BUCKET = "assistant-prod-sessions"


@pytest.fixture
def moto_server(aws_env: None) -> Iterator[str]:
    """A moto S3 server on a free loopback port; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _prod_env(endpoint: str, db_file: Path, secrets: Path) -> dict[str, str]:
    return {
        "ENV": "prod",
        "SESSIONS_BUCKET_NAME": BUCKET,
        "S3_ENDPOINT_URL": endpoint,
        "DATABASE_URL": "sqlite:///" + str(db_file),
        "GOOGLE_CLIENT_ID": "client-id.apps.googleusercontent.com",
        "GOOGLE_CLIENT_SECRET": "not-a-real-secret",
        "OAUTH_REDIRECT_URI": "https://assistant.example.com/",
        "ALLOWED_EMAIL_DOMAINS": "example.com",
        "MODEL_PROVIDER": "offline",
        "AWS_REGION": "us-east-1",
        "ASSISTANT_SECRETS_FILE": str(secrets),
    }


def _settings(env: dict[str, str]) -> Settings:
    return load_settings(**{k.lower(): v for k, v in env.items() if k != "ASSISTANT_SECRETS_FILE"})


@pytest.fixture
def isolated_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No secrets.toml and no stray deployment variables from the developer's shell."""
    secrets = tmp_path / "no-secrets.toml"
    secrets.write_text("")
    monkeypatch.setenv("ASSISTANT_SECRETS_FILE", str(secrets))
    for name in ("SESSIONS_BUCKET_NAME", "DATABASE_URL", "S3_ENDPOINT_URL", "ENV", "FAULT_INJECTION"):
        monkeypatch.delenv(name, raising=False)
    return secrets


def test_prod_settings_build_the_s3_store_and_a_turn_round_trips(
    moto_server: str, tmp_path: Path, isolated_secrets: Path
) -> None:
    env = _prod_env(moto_server, tmp_path / "index.db", isolated_secrets)
    settings = _settings(env)
    assert settings.env == "prod" and settings.uses_s3
    make_client(moto_server).create_bucket(Bucket=BUCKET)

    store = build_store(settings)
    assert isinstance(store, S3SessionStore) and store.bucket == BUCKET
    assert store.client.meta.endpoint_url == moto_server
    counter = RequestCounter(store.client)
    service = ChatService(
        settings,
        store,
        prices=get_prices(settings),
        model_factory=lambda n: OfflineModel(chunk_delay_s=0, first_token_delay_s=0),
    )
    meta = service.create_session("google:1234567890", user_email="exec@example.com")
    events = service.run_turn(meta.id, "google:1234567890", "What meetings do I have this week?")
    assert isinstance(events[-1], Done), events[-1]
    assert counter.counts == {"PutObject": 2}, "create + one turn"

    # the object is in the server's bucket, under the escaped user prefix
    raw = make_client(moto_server)
    listed = raw.list_objects_v2(Bucket=BUCKET)["Contents"]
    assert [o["Key"] for o in listed] == [object_key("google:1234567890", meta.id)]
    # another replica (its own client and cache) resumes with one GET
    replica = S3SessionStore(store.engine, client=make_client(moto_server), bucket=BUCKET)
    doc = replica.load(meta.id, "google:1234567890")
    assert doc.meta.turn_count == 1 and doc.messages[0]["content"][0]["text"] == "What meetings do I have this week?"

    # `python -m assistant sessions reindex` rebuilds a dropped index from the bucket
    with db.write_tx(store.engine) as conn:
        conn.execute(delete(db.sessions))
    proc_env: dict[str, Any] = {**os.environ, **FAKE_AWS_ENV, **env}
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "sessions", "reindex"],
        cwd=PROJECT_ROOT,
        env=proc_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"reindexed 1 session from s3://{BUCKET}" in proc.stdout
    restored = store.get_meta(meta.id, "google:1234567890")
    assert restored.turn_count == 1 and restored.version == 1


def test_prod_without_bucket_refuses_to_start_naming_the_setting(tmp_path: Path, isolated_secrets: Path) -> None:
    env = _prod_env("http://127.0.0.1:1", tmp_path / "index.db", isolated_secrets)
    del env["SESSIONS_BUCKET_NAME"]
    with pytest.raises(ConfigError, match="SESSIONS_BUCKET_NAME"):
        _settings(env)


def test_a_replica_whose_sessions_bucket_does_not_exist_is_not_ready_until_it_does(
    moto_server: str, tmp_path: Path, isolated_secrets: Path
) -> None:
    """A mistyped SESSIONS_BUCKET_NAME passed every health check; only each answer failing to
    be stored showed it. ``/ready`` (the load balancer's check) now says so, and recovers."""
    import requests

    from tests.fixtures.streamlit_server import start_streamlit

    bucket = f"assistant-missing-{uuid.uuid4().hex[:12]}"  # moto's buckets outlive a test's server
    env = {**FAKE_AWS_ENV, **_prod_env(moto_server, tmp_path / "index.db", isolated_secrets)}
    env["SESSIONS_BUCKET_NAME"] = bucket
    srv = start_streamlit(tmp_path, env)
    try:
        deadline = time.monotonic() + 30
        while (response := requests.get(srv.url + "/ready", timeout=10)).status_code != 503 or (
            "bucket" not in response.text
        ):
            assert time.monotonic() < deadline, (response.status_code, response.text, srv.log())
            time.sleep(0.2)
        assert f"SESSIONS_BUCKET_NAME={bucket}: no such bucket" in srv.log()
        assert requests.get(srv.url + "/_stcore/health", timeout=10).status_code == 200
        make_client(moto_server).create_bucket(Bucket=bucket)
        response = requests.get(srv.url + "/ready", timeout=10)
        assert (response.status_code, response.text) == (200, "ok")
    finally:
        srv.stop()


def test_a_replica_without_aws_credentials_is_not_ready(
    moto_server: str, tmp_path: Path, isolated_secrets: Path
) -> None:
    """No task role and no keys: /ready answered ok, and every answer then failed with "Session
    storage is unavailable ... Try again in a moment", which never came right."""
    import requests

    from tests.fixtures.streamlit_server import start_streamlit

    make_client(moto_server).create_bucket(Bucket=BUCKET)
    env = _prod_env(moto_server, tmp_path / "index.db", isolated_secrets)
    env |= {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}
    env |= {"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_CONFIG_FILE": str(tmp_path / "none")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    srv = start_streamlit(tmp_path, env)
    try:
        deadline = time.monotonic() + 30
        while (response := requests.get(srv.url + "/ready", timeout=10)).text in ("starting", "ok"):
            assert time.monotonic() < deadline, (response.status_code, response.text, srv.log())
            time.sleep(0.2)
        assert response.text == "no AWS credentials to reach the sessions bucket (SESSIONS_BUCKET_NAME)"
        assert f"SESSIONS_BUCKET_NAME={BUCKET}: no AWS credentials found" in srv.log()
    finally:
        srv.stop()
