"""Settings: environment, .streamlit/secrets.toml, defaults, and one clear line per bad value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.config import ConfigError, load_settings

PROD = {
    "env": "prod",
    "sessions_bucket_name": "bucket",
    "database_url": "postgresql+psycopg://u@db/app",
    "google_client_id": "cid",
    "google_client_secret": "secret",
    "oauth_redirect_uri": "https://assistant.example.com/",
    "allowed_email_domains": "example.com",
}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "ENV",
        "MODEL_PROVIDER",
        "DATABASE_URL",
        "ADMIN_EMAILS",
        "FAULT_INJECTION",
        "MOCK_RESPONSES",
        "GOOGLE_CLIENT_ID",
        "GOOGLE_CLIENT_SECRET",
        "OAUTH_REDIRECT_URI",
        "SESSIONS_BUCKET_NAME",
        "S3_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASSISTANT_SECRETS_FILE", os.devnull)


def test_defaults_run_locally_on_sqlite_with_the_offline_model() -> None:
    settings = load_settings()
    assert settings.env == "local" and settings.model_name == "offline"
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith(".data/assistant.db")
    assert not settings.uses_s3


def test_model_choice_follows_the_earlier_design_flags() -> None:
    assert load_settings(aws_bedrock_enabled=True).model_name == "bedrock:us.amazon.nova-lite-v1:0"
    assert load_settings(**PROD).model_name == "bedrock:us.amazon.nova-lite-v1:0"
    assert load_settings(**PROD, mock_responses=True).model_name == "offline"
    assert (
        load_settings(model_provider="bedrock:anthropic.claude-3-haiku").model_name
        == "bedrock:anthropic.claude-3-haiku"
    )


def test_secrets_file_is_read_and_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('admin_emails = "Boss@Example.com, cfo@example.com"\nmessages_per_minute = 7\n')
    monkeypatch.setenv("ASSISTANT_SECRETS_FILE", str(secrets))
    settings = load_settings()
    assert settings.admin_emails == ["boss@example.com", "cfo@example.com"]
    assert settings.is_admin("BOSS@example.com") and not settings.is_admin("eve@example.com")
    assert settings.messages_per_minute == 7
    monkeypatch.setenv("MESSAGES_PER_MINUTE", "9")
    assert load_settings().messages_per_minute == 9


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_a_deployment_that_names_nobody_who_may_sign_in_is_refused(env: str) -> None:
    """Both lists empty admitted every Google account (on an External consent screen: anyone's)."""
    open_door = {k: v for k, v in PROD.items() if k != "allowed_email_domains"} | {"env": env}
    with pytest.raises(ConfigError) as raised:
        load_settings(**open_door)
    message = str(raised.value)
    assert "ALLOWED_EMAIL_DOMAINS" in message and "ALLOW_ANY_EMAIL" in message and "\n" not in message
    assert load_settings(**open_door, allow_any_email=True).allow_any_email  # said out loud: accepted
    assert load_settings(**open_door, allowed_emails="advisor@gmail.com").allowed_emails == ["advisor@gmail.com"]
    assert load_settings(env="local").env == "local"  # the dev login needs no list


def test_a_named_secrets_file_that_does_not_exist_is_refused_instead_of_starting_unauthenticated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A deployment whose secrets file (with ENV=prod in it) did not mount started as ENV=local:
    the dev login, where anyone signs in as anyone, on an empty local database."""
    missing = tmp_path / "mounted" / "secrets.toml"
    monkeypatch.setenv("ASSISTANT_SECRETS_FILE", str(missing))
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert "ASSISTANT_SECRETS_FILE" in message and str(missing) in message and "\n" not in message
    monkeypatch.setenv("ASSISTANT_SECRETS_FILE", os.devnull)  # no secrets file, said so
    assert load_settings().env == "local"
    monkeypatch.delenv("ASSISTANT_SECRETS_FILE")
    monkeypatch.setattr("assistant.config.DEFAULT_SECRETS_FILE", missing)  # the default may be absent
    assert load_settings().env == "local"


def _refusal_of_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: bytes) -> tuple[Path, str]:
    """The secrets file written with ``content`` and named; what loading the settings then refuses with."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_bytes(content)
    monkeypatch.setenv("ASSISTANT_SECRETS_FILE", str(secrets))
    with pytest.raises(ConfigError) as raised:
        load_settings()
    return secrets, str(raised.value)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("max_mesage_chars = 20000\n", "max_mesage_chars is not a setting; did you mean max_message_chars?"),
        (
            'env = "prod"\ngoogle_clinet_id = "cid"\n',
            "google_clinet_id is not a setting; did you mean google_client_id?",
        ),
        ('bucket_name = "sessions"\n', "bucket_name is not a setting (see .streamlit/secrets.toml.example)"),
    ],
    ids=["typo", "typo-before-missing", "unknown"],
)
def test_a_secrets_key_that_names_no_setting_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str, needle: str
) -> None:
    """A mistyped key was ignored without a word: the default (or "ENV=prod requires GOOGLE_CLIENT_ID") instead."""
    secrets, message = _refusal_of_secrets(monkeypatch, tmp_path, content.encode())
    assert message == f"Invalid secrets file {secrets}: {needle}"
    # Upper-case keys are the same settings; Streamlit's own sections ([auth], [connections]) are not ours
    secrets.write_text('MESSAGES_PER_MINUTE = 7\n[auth]\nclient_id = "x"\n[connections.db]\nurl = "y"\n')
    assert load_settings().messages_per_minute == 7


@pytest.mark.parametrize(
    "content",
    [b'env = prod\ngoogle_client_secret = "s3cr3t"\n', b'google_client_secret = "s3cr3t"\n\xff\xfe\n'],
    ids=["not-toml", "not-utf8"],
)
def test_an_unreadable_secrets_file_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: bytes
) -> None:
    secrets, message = _refusal_of_secrets(monkeypatch, tmp_path, content)
    assert "\n" not in message and "s3cr3t" not in message
    assert str(secrets) in message and "ASSISTANT_SECRETS_FILE" in message


@pytest.mark.parametrize(
    "uri", ["assistant.example.com", "assistant.example.com/", "https:///", "ftp://x.example.com/"]
)
def test_a_redirect_uri_that_is_not_an_address_is_refused_naming_it(uri: str) -> None:
    # Google compares the redirect URI with the registered one character for character; a value
    # without a scheme and host can never match, and the sign-in card would link to nowhere.
    with pytest.raises(ConfigError, match="OAUTH_REDIRECT_URI") as raised:
        load_settings(**{**PROD, "oauth_redirect_uri": uri})
    assert "https://assistant.example.com/" in str(raised.value), "the example is a redirect URI"


@pytest.mark.parametrize(
    "overrides",
    [
        {"oauth_redirect_uri": "http://assistant.example.com/"},
        {"oauth_redirect_uri": "http://10.0.1.10:8501/"},  # a replica's own address
        {"env": "dev", "oauth_redirect_uri": "http://assistant-dev.example.com/"},  # Google's rule in dev too
    ],
)
def test_a_plain_http_redirect_uri_off_this_machine_is_refused(overrides: dict[str, str]) -> None:
    """Google accepts an http:// redirect URI for localhost only: with http://assistant.example.com/
    the app started and /ready said ok, and every sign-in ended on Google's error page (in any case
    the code and the sign-in cookie, not Secure then, would cross the network unencrypted)."""
    with pytest.raises(ConfigError, match="OAUTH_REDIRECT_URI") as raised:
        load_settings(**{**PROD, **overrides})
    assert "https://" in str(raised.value)


def test_a_plain_http_redirect_uri_is_accepted_in_dev_with_another_identity_provider() -> None:
    settings = load_settings(
        **{
            **PROD,
            "env": "dev",
            "oauth_issuer": "http://keycloak.internal/realms/x",
            "oauth_redirect_uri": "http://10.0.1.10:8501/",
        }
    )
    assert settings.oauth_redirect_uri == "http://10.0.1.10:8501/"


def test_an_issuer_is_kept_as_its_id_tokens_spell_it() -> None:
    """Its "iss" claim is compared character for character (some providers' end with a slash)."""
    assert load_settings(oauth_issuer="https://issuer.example.com/").oauth_issuer == "https://issuer.example.com/"


def test_a_redirect_uri_is_kept_exactly_as_registered() -> None:
    for uri in ("https://assistant.example.com/", "https://assistant.example.com", "http://localhost:8501/"):
        assert load_settings(**{**PROD, "oauth_redirect_uri": uri}).oauth_redirect_uri == uri


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"session_expiry_hours": "soon"}, "SESSION_EXPIRY_HOURS"),
        ({"session_expiry_hours": -1}, "SESSION_EXPIRY_HOURS"),
        ({"max_message_chars": 0}, "MAX_MESSAGE_CHARS"),
        ({"env": "staging"}, "ENV"),
        ({"log_level": "LOUD"}, "LOG_LEVEL"),
        ({"database_url": "notaurl"}, "DATABASE_URL"),
        ({"database_url": "mysql://app@127.0.0.1/assistant"}, "DATABASE_URL"),
        ({"database_url": "postgresql+asyncpg://app@127.0.0.1/assistant"}, "DATABASE_URL"),
        # the IAM policy's ARN or an s3:// address where the bucket's name goes: every write failed with
        # "Session storage is unavailable ... Try again in a moment"
        (
            {
                "sessions_bucket_name": "arn:aws:s3:::exec-assistant-prod-sessions",
                "s3_endpoint_url": "http://127.0.0.1:9000",
            },
            "SESSIONS_BUCKET_NAME",
        ),
        (
            {"sessions_bucket_name": "s3://exec-assistant-prod-sessions", "s3_endpoint_url": "http://127.0.0.1:9000"},
            "not an s3:// address",
        ),
        ({"sessions_bucket_name": "Exec_Sessions", "s3_endpoint_url": "http://127.0.0.1:9000"}, "SESSIONS_BUCKET_NAME"),
        # an address where a domain goes matched nobody: every sign-in was refused as "not allowed"
        ({"allowed_email_domains": "@example.com"}, "ALLOWED_EMAIL_DOMAINS"),
        (
            {"allowed_email_domains": "example.com,boss@example.org"},
            "boss@example.org is not a domain: write example.org",
        ),
        ({"internal_domains": "@partner.com"}, "INTERNAL_DOMAINS"),
        # a domain where an address goes matched nobody: every sign-in refused as "not allowed", no admin
        ({"allowed_emails": "example.com"}, "ALLOWED_EMAILS: example.com is not an email address (a whole domain"),
        ({"admin_emails": "boss@example.com, ops"}, "ADMIN_EMAILS: ops is not an email address"),
        # a list separated otherwise than by commas was one entry that matched nobody: every sign-in
        # refused as "not allowed", no admin (Outlook copies addresses as "a@x.com; b@x.com")
        (
            {"admin_emails": "ops@example.com; cfo@example.com"},
            "ADMIN_EMAILS: ops@example.com; cfo@example.com is not an email address (separate several with commas",
        ),
        ({"allowed_emails": '"advisor@gmail.com"'}, "ALLOWED_EMAILS"),
        (
            {"allowed_email_domains": "example.com example.org"},
            "ALLOWED_EMAIL_DOMAINS: example.com example.org is not a domain (separate several with commas",
        ),
        (
            {"allowed_email_domains": "https://example.com"},
            "ALLOWED_EMAIL_DOMAINS: https://example.com is not a domain",
        ),
        ({"internal_domains": "partner.com;vendor.com"}, "INTERNAL_DOMAINS"),
        ({"aws_region": "us east 1"}, "AWS_REGION"),
        ({"s3_endpoint_url": "127.0.0.1:9000"}, "S3_ENDPOINT_URL"),  # botocore: a traceback at the first page
        ({"s3_endpoint_url": "minio.internal"}, "e.g. http://127.0.0.1:9000"),
        # accepted before: every visitor saw "Sign-in is unavailable" while /ready answered ok
        ({"oauth_issuer": "accounts.google.com"}, "OAUTH_ISSUER: must be an http:// or https:// address"),
        ({"google_token_url": "oauth2.googleapis.com/token"}, "e.g. https://oauth2.googleapis.com/token"),
        # accepted before: the budget bar read "$0.12 of $inf today", meeting cost "$inf of people's time"
        ({"daily_budget_usd": "inf"}, "DAILY_BUDGET_USD: Input should be a finite number"),
        ({"meeting_rate_you_usd": "inf"}, "MEETING_RATE_YOU_USD"),
        ({"daily_budget_usd": "nan"}, "finite number"),
        # accepted before: every answer then failed with "Something went wrong while the model was answering"
        ({"fault_injection": "throtle"}, "FAULT_INJECTION: Unknown fault mode 'throtle'; known modes: throttle"),
        ({"fault_injection": "timeout:soon"}, "FAULT_INJECTION: Invalid fault spec"),
    ],
)
def test_invalid_values_name_the_variable(overrides: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(**overrides)
    assert needle in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("missing", ["sessions_bucket_name", "google_client_id", "oauth_redirect_uri"])
def test_deployed_environments_refuse_to_start_without_required_settings(missing: str) -> None:
    values = {k: v for k, v in PROD.items() if k != missing}
    with pytest.raises(ConfigError, match=missing.upper()):
        load_settings(**values)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings(**{k: v for k, v in PROD.items() if k != "database_url"})


@pytest.mark.parametrize("scopes", ["email profile", "openid profile"])
def test_sign_in_scopes_without_the_id_token_or_the_email_are_refused(scopes: str) -> None:
    """Accepted before: every Google sign-in then failed with "try again" (no id token, or no email in it)."""
    with pytest.raises(ConfigError, match="OAUTH_SCOPES must include openid and email"):
        load_settings(**PROD, oauth_scopes=scopes)
    assert load_settings(**PROD, oauth_scopes="openid email").oauth_scopes == "openid email"
    assert load_settings(**PROD, oauth_scopes="openid https://www.googleapis.com/auth/userinfo.email")


def test_a_guessable_cookie_secret_is_refused_naming_it() -> None:
    """SESSION_COOKIE_SECRET=changeme was accepted: a cookie signed with it can be brute-forced, any identity forged."""
    with pytest.raises(ConfigError) as raised:
        load_settings(**PROD, session_cookie_secret="changeme")
    message = str(raised.value)
    assert message.startswith("Invalid setting SESSION_COOKIE_SECRET: SESSION_COOKIE_SECRET must be at least 32")
    assert "changeme" not in message and "secrets.token_urlsafe(32)" in message
    assert load_settings(**PROD, session_cookie_secret="k" * 32).session_cookie_secret is not None


@pytest.mark.parametrize("key", ["abc", "é" * 44, "dG9vIHNob3J0"])
def test_a_calendar_key_that_is_not_a_fernet_key_says_how_to_make_one(key: str) -> None:
    with pytest.raises(ConfigError, match=r"CALENDAR_ENCRYPTION_KEY must be a Fernet key .* generate one with python"):
        load_settings(calendar_encryption_key=key)


def test_fault_injection_is_refused_outside_local() -> None:
    assert load_settings(fault_injection="throttle").fault_injection == "throttle"
    with pytest.raises(ConfigError, match="FAULT_INJECTION"):
        load_settings(**PROD, fault_injection="throttle")
    with pytest.raises(ConfigError, match="MODEL_PROVIDER"):
        load_settings(**PROD, model_provider="faulty:network")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GOOGLE_CLIENT_ID", "cid.apps.googleusercontent.com"),
        ("GOOGLE_CLIENT_SECRET", "GOCSPX-secret"),
        ("OAUTH_REDIRECT_URI", "https://assistant.example.com/"),
        ("DATABASE_URL", "postgresql+psycopg://app:pw@db.internal:5432/assistant"),
        # libpq's host and hostaddr parameters win over the address's host: that database is elsewhere
        ("DATABASE_URL", "postgresql+psycopg://app:pw@localhost/assistant?host=db.internal"),
        ("DATABASE_URL", "postgresql+psycopg://app:pw@127.0.0.1/assistant?sslmode=require&hostaddr=10.0.1.5"),
        ("SESSIONS_BUCKET_NAME", "exec-assistant-prod-sessions"),
    ],
)
def test_local_mode_refuses_to_start_when_a_deployment_setting_is_present(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """ENV forgotten on a deployed replica must not hand every visitor the unauthenticated dev login."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert variable in message and "ENV=dev" in message and "ENV=prod" in message
    assert "\n" not in message and value not in message, "one line, and values (secrets) are never echoed"


def test_local_mode_refusal_names_every_deployment_setting_found() -> None:
    deployed = {k: v for k, v in PROD.items() if k != "env"}
    with pytest.raises(ConfigError) as info:
        load_settings(**deployed)
    message = str(info.value)
    for name in ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "OAUTH_REDIRECT_URI", "DATABASE_URL"):
        assert name in message
    assert "SESSIONS_BUCKET_NAME" in message and "\n" not in message


def test_local_mode_refuses_deployment_settings_from_the_secrets_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('google_client_id = "cid"\n')
    monkeypatch.setenv("ASSISTANT_SECRETS_FILE", str(secrets))
    with pytest.raises(ConfigError, match=r"GOOGLE_CLIENT_ID.*ENV=dev"):
        load_settings()


@pytest.mark.parametrize(
    "overrides",
    [
        {"database_url": "postgresql+psycopg://postgres@127.0.0.1:5432/test"},
        {"database_url": "postgresql+psycopg://me@localhost/assistant"},
        {"database_url": "postgresql+psycopg:///assistant?host=/var/run/postgresql"},
        {"sessions_bucket_name": "dev-bucket", "s3_endpoint_url": "http://127.0.0.1:9000"},
    ],
)
def test_local_mode_still_runs_on_the_developers_own_postgres_and_s3(overrides: dict[str, str]) -> None:
    settings = load_settings(**overrides)
    assert settings.is_local and settings.model_name == "offline"


def test_a_postgres_url_as_hosting_providers_write_it_is_accepted() -> None:
    # Heroku, Render and Fly hand out postgres://...; SQLAlchemy only knows postgresql://.
    settings = load_settings(**{**PROD, "database_url": "postgres://app:pw@db.internal:5432/assistant"})
    assert settings.database_url == "postgresql://app:pw@db.internal:5432/assistant"  # psycopg (db.make_engine)
    assert load_settings(database_url="postgres://me@127.0.0.1/assistant").is_local


def test_explicit_deployed_environment_accepts_the_same_settings() -> None:
    assert load_settings(**PROD).env == "prod"
    assert load_settings(**{**PROD, "env": "dev"}).env == "dev"


# --------------------------------------------------------------------------- model providers
@pytest.fixture
def _no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "OLLAMA_HOST"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("_no_provider_keys")
@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (
            {"model_provider": "gemini:gemini-2.5-pro"},
            "known providers: anthropic, bedrock, faulty, offline, ollama, openai",
        ),
        ({"model_provider": "openai:"}, "MODEL_PROVIDER"),
        ({"model_provider": "anthropic:claude-sonnet-4-5"}, "needs ANTHROPIC_API_KEY"),
        ({"model_provider": "openai:gpt-4o"}, "needs OPENAI_API_KEY"),
        ({"model_provider": "openai:x", "openai_base_url": "http://vllm.internal:8000/v1"}, "needs OPENAI_API_KEY"),
        ({"openai_base_url": "ftp://127.0.0.1/v1"}, "Invalid setting OPENAI_BASE_URL: must be an http:// or https://"),
        ({"openai_base_url": "127.0.0.1:8000/v1"}, "OPENAI_BASE_URL"),
        ({"anthropic_base_url": "file:///etc/passwd"}, "ANTHROPIC_BASE_URL"),
        ({"ollama_host": "localhost:11434"}, "Invalid setting OLLAMA_HOST"),
        ({"ollama_host": "http://"}, "OLLAMA_HOST"),
        # accepted before: the app started and every answer of that model failed ("could not be built")
        ({"model_provider": "faulty:throtle"}, "MODEL_PROVIDER: faulty:throtle: Unknown fault mode 'throtle'"),
        ({"models": "offline,faulty:xyz"}, "MODELS: faulty:xyz: Unknown fault mode 'xyz'; known modes: throttle"),
        ({"models": "offline,faulty:timeout:soon"}, "MODELS: faulty:timeout:soon: Invalid fault spec"),
    ],
)
def test_bad_provider_settings_stop_the_app_with_one_line(overrides: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(**overrides)
    message = str(info.value)
    assert needle in message and "\n" not in message


@pytest.mark.usefixtures("_no_provider_keys")
def test_provider_settings_load_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_PROVIDER", "anthropic:claude-sonnet-4-5")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    settings = load_settings()
    assert settings.model_name == "anthropic:claude-sonnet-4-5"
    assert settings.anthropic_api_key is not None and settings.anthropic_api_key.get_secret_value() == "sk-ant-secret"
    assert "sk-ant-secret" not in repr(settings)
    assert settings.ollama_host == "http://127.0.0.1:11434"


@pytest.mark.usefixtures("_no_provider_keys")
@pytest.mark.parametrize(
    ("base_url", "local"),
    [
        ("http://127.0.0.1:8700/v1", True),
        ("http://localhost:1234/v1", True),
        ("http://[::1]:8080/v1", True),
        ("http://192.168.1.20:8000/v1", True),
        ("http://10.0.0.5:8000/v1/", True),
        ("https://api.openai.com/v1", False),
        ("http://vllm.internal:8000/v1", False),
        ("http://8.8.8.8/v1", False),
    ],
)
def test_an_openai_compatible_server_on_a_private_address_needs_no_key(base_url: str, local: bool) -> None:
    overrides = {"model_provider": "openai:qwen2.5-7b-instruct", "openai_base_url": base_url}
    if local:
        settings = load_settings(**overrides)
        assert settings.openai_base_url_is_local and settings.openai_base_url == base_url.rstrip("/")
    else:
        with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
            load_settings(**overrides)
        assert not load_settings(**overrides, openai_api_key="k").openai_base_url_is_local


@pytest.mark.usefixtures("_no_provider_keys")
def test_ollama_needs_no_key() -> None:
    assert load_settings(model_provider="ollama:qwen2.5:7b").model_name == "ollama:qwen2.5:7b"


def test_an_environment_variable_a_typo_away_from_a_setting_is_named_in_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # DATABSE_URL was ignored without a word: the app ran on the local SQLite file instead
    monkeypatch.setenv("DATABSE_URL", "postgresql+psycopg://u@db/app")
    monkeypatch.setenv("DAILY_BUDGET", "5")
    for other in ("TEST_DATABASE_URL", "AWS_DEFAULT_REGION", "STREAMLIT_SERVER_PORT", "CHROMIUM_PATH"):
        monkeypatch.setenv(other, "x")  # other tools' variables are not look-alikes
    with caplog.at_level("WARNING", logger="assistant.setting_names"):
        settings = load_settings()
    assert settings.database_url.startswith("sqlite")  # still ignored, as before: a warning, not a refusal
    warned = [r.getMessage() for r in caplog.records if r.name == "assistant.setting_names"]
    assert any("variable=<DATABSE_URL>, did_you_mean=<DATABASE_URL>" in m for m in warned), warned
    assert any("variable=<DAILY_BUDGET>, did_you_mean=<DAILY_BUDGET_USD>" in m for m in warned), warned
    assert not [m for m in warned if "TEST_DATABASE_URL" in m or "AWS_" in m or "STREAMLIT" in m or "CHROMIUM" in m]
    caplog.clear()
    with caplog.at_level("WARNING", logger="assistant.setting_names"):
        load_settings()  # once per process and name: /ready and the CLI read the settings again
    assert not [r for r in caplog.records if "DATABSE_URL" in r.getMessage()]


def test_a_secret_injected_with_a_trailing_newline_is_read_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Kubernetes or Docker secret made from a file (``echo secret > file``) ends with a newline:
    GOOGLE_CLIENT_ID="cid\\n" was accepted as is, the app started and /ready said ok, and every
    sign-in then failed (Google knows no client "cid\\n"; the id token's audience never matched)."""
    env = {name.upper(): value for name, value in PROD.items()}
    for name, value in env.items():
        monkeypatch.setenv(name, f"{value}\n")
    monkeypatch.setenv("SESSION_COOKIE_SECRET", "k" * 40 + "\r\n")
    monkeypatch.setenv("AWS_REGION", "us-east-1 ")  # botocore: a redacted crash page after sign-in
    settings = load_settings()
    assert settings.env == "prod" and settings.google_client_id == "cid"
    assert settings.google_client_secret is not None and settings.google_client_secret.get_secret_value() == "secret"
    assert settings.session_cookie_secret is not None and settings.session_cookie_secret.get_secret_value() == "k" * 40
    assert settings.sessions_bucket_name == "bucket" and settings.allowed_email_domains == ["example.com"]
    assert settings.aws_region == "us-east-1"


def test_a_required_secret_of_only_whitespace_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty secret mounted as a newline passed the check that GOOGLE_CLIENT_SECRET is set."""
    for name, value in PROD.items():
        monkeypatch.setenv(name.upper(), value)
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", " \n")
    with pytest.raises(ConfigError, match="requires GOOGLE_CLIENT_SECRET"):
        load_settings()


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"google_client_id": "GOCSPX-s3cr3tvalue"}, "GOOGLE_CLIENT_ID holds a client secret"),
        ({"google_client_secret": "1234-abc.apps.googleusercontent.com"}, "GOOGLE_CLIENT_SECRET holds the client id"),
    ],
)
def test_a_google_client_id_and_secret_swapped_are_refused_at_start(overrides: dict[str, str], needle: str) -> None:
    """Pasted into each other's place, they started the app (/ready ok) and every sign-in then ended
    on Google's "invalid_client" page."""
    with pytest.raises(ConfigError, match=needle) as raised:
        load_settings(**{**PROD, **overrides})
    assert "s3cr3t" not in str(raised.value)  # the secret is never repeated
