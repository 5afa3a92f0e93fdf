"""assistant/factory.py: the backends Settings ask for, built once per process and settings.

Local settings give the SQL store on their own SQLite file; a sessions bucket gives the S3
store (moto in-process, no network) over the same SQL index; equal settings share one
store, one chat service and one S3 client.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import inspect

from assistant.chat import ChatService
from assistant.config import Settings, load_settings
from assistant.factory import bucket_problem, build_store, get_chat_service, get_prices, get_s3_client, get_store
from assistant.sessions.base import SessionNotFoundError
from assistant.sessions.s3_objects import object_key
from assistant.sessions.s3_store import S3SessionStore
from assistant.sessions.sql_store import SqlSessionStore
from tests.fixtures.s3 import BUCKET, REGION, make_client

USER = "google:1234567890"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No secrets.toml and no deployment variables from the developer's shell."""
    monkeypatch.setenv("ASSISTANT_SECRETS_FILE", os.devnull)
    for name in (
        "ENV",
        "DATABASE_URL",
        "SESSIONS_BUCKET_NAME",
        "S3_ENDPOINT_URL",
        "GOOGLE_CLIENT_ID",
        "GOOGLE_CLIENT_SECRET",
        "OAUTH_REDIRECT_URI",
        "MODEL_PROVIDER",
        "FAULT_INJECTION",
    ):
        monkeypatch.delenv(name, raising=False)


def _local(db_file: Path) -> Settings:
    return load_settings(env="local", database_url="sqlite:///" + str(db_file))


def _deployed(db_file: Path, region: str = REGION) -> Settings:
    """ENV=prod settings with the moto bucket; no S3_ENDPOINT_URL, so the AWS endpoint moto intercepts."""
    return load_settings(
        env="prod",
        sessions_bucket_name=BUCKET,
        database_url="sqlite:///" + str(db_file),
        google_client_id="client-id.apps.googleusercontent.com",
        google_client_secret="not-a-real-secret",
        oauth_redirect_uri="https://assistant.example.com/",
        allowed_email_domains="example.com",
        model_provider="offline",
        aws_region=region,
    )


def test_local_settings_build_the_sql_store_on_their_sqlite_file(tmp_path: Path) -> None:
    db_file = tmp_path / "local.db"
    settings = _local(db_file)

    store = get_store(settings)

    assert isinstance(store, SqlSessionStore)
    assert store.storage_name == "sql"
    assert {"sessions", "usage", "alembic_version"} <= set(inspect(store.engine).get_table_names())
    meta = store.create_session(USER, model="offline", title="Acme QBR prep")
    # the session is in that file: a store built on the file alone finds it
    reopened = SqlSessionStore(build_store(settings).engine)
    assert reopened.get_meta(meta.id, USER).title == "Acme QBR prep"
    assert db_file.stat().st_size > 0


def test_equal_settings_share_one_store_and_one_chat_service(tmp_path: Path) -> None:
    first = _local(tmp_path / "shared.db")
    equal = _local(tmp_path / "shared.db")
    other = _local(tmp_path / "other.db")

    assert get_store(first) is get_store(equal)
    assert get_store(other) is not get_store(first)
    service = get_chat_service(first)
    assert isinstance(service, ChatService)
    assert get_chat_service(equal) is service
    assert service.store is get_store(first)
    assert get_chat_service(other) is not service
    assert get_chat_service(other).store is get_store(other)


def test_sessions_of_one_database_stay_in_it(tmp_path: Path) -> None:
    one = get_chat_service(_local(tmp_path / "one.db"))
    two = get_chat_service(_local(tmp_path / "two.db"))

    meta = one.create_session(USER)

    assert one.get_session(meta.id, USER).id == meta.id
    with pytest.raises(SessionNotFoundError):
        two.get_session(meta.id, USER)
    assert two.list_sessions(USER)[1] == 0
    assert [m.id for m in one.list_sessions(USER)[0]] == [meta.id]


def test_prices_come_from_the_settings_price_file(tmp_path: Path) -> None:
    prices = get_prices(_local(tmp_path / "p.db"))

    assert prices.version
    assert get_prices(_local(tmp_path / "q.db")).version == prices.version


def test_a_sessions_bucket_builds_the_s3_store_over_the_sql_index(s3_mock: None, tmp_path: Path) -> None:
    settings = _deployed(tmp_path / "index.db")
    assert settings.uses_s3

    store = get_store(settings)

    assert isinstance(store, S3SessionStore)
    assert store.bucket == BUCKET
    assert store.client is get_s3_client(settings)
    assert {"sessions", "usage"} <= set(inspect(store.engine).get_table_names())
    meta = get_chat_service(settings).create_session(USER, user_email="exec@example.com")
    listed = make_client().list_objects_v2(Bucket=BUCKET)["Contents"]
    assert [o["Key"] for o in listed] == [object_key(USER, meta.id)]
    assert store.get_meta(meta.id, USER).user_email == "exec@example.com"


def test_one_s3_client_per_endpoint_and_region(s3_mock: None, tmp_path: Path) -> None:
    settings = _deployed(tmp_path / "a.db")
    same_place = _deployed(tmp_path / "b.db")
    elsewhere = _deployed(tmp_path / "a.db", region="eu-west-1")

    client = get_s3_client(settings)

    assert get_s3_client(same_place) is client
    assert get_s3_client(elsewhere) is not client
    assert get_s3_client(elsewhere).meta.region_name == "eu-west-1"
    store = get_store(same_place)
    assert isinstance(store, S3SessionStore) and store.client is client


def test_a_stalled_s3_endpoint_is_given_up_on_within_45_seconds(s3_mock: None, tmp_path: Path) -> None:
    """Every attempt may wait its connect and read timeouts in full before the page can say
    "storage unavailable": 5 s + 20 s with botocore's ``max_attempts: 3`` (which counts retries:
    four attempts) kept a send on "Thinking…" 100 s."""
    config = get_s3_client(_deployed(tmp_path / "a.db")).meta.config
    attempts = config.retries["total_max_attempts"]
    assert attempts >= 2, "one slow response is retried"
    assert attempts * (config.connect_timeout + config.read_timeout) <= 45


def test_a_sessions_bucket_that_does_not_exist_is_named_before_any_answer_fails(s3_mock: None, tmp_path: Path) -> None:
    """A mistyped SESSIONS_BUCKET_NAME showed up only as every answer failing to be stored."""
    settings = _deployed(tmp_path / "index.db")
    assert bucket_problem(settings) is None  # the moto bucket exists
    missing = load_settings(**{**settings.model_dump(), "sessions_bucket_name": "assistant-sesions-typo"})
    assert bucket_problem(missing) == "SESSIONS_BUCKET_NAME=assistant-sesions-typo: no such bucket"
    make_client().create_bucket(Bucket="assistant-sesions-typo")  # created since: fine again
    assert bucket_problem(missing) is None
    assert bucket_problem(_local(tmp_path / "local.db")) is None  # no S3, nothing to ask


def test_a_replica_without_aws_credentials_is_named_before_any_answer_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no task role and no keys, every answer failed with "Session storage is unavailable ...
    Try again in a moment" (it never recovers) while /ready answered ok."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role to ask for
    monkeypatch.setattr("boto3.DEFAULT_SESSION", None)  # a fresh process: no credentials found earlier
    settings = _deployed(tmp_path / "index.db", region="ap-southeast-2")  # a client of its own
    problem = bucket_problem(settings)
    assert problem is not None and f"SESSIONS_BUCKET_NAME={BUCKET}" in problem and "no AWS credentials" in problem
