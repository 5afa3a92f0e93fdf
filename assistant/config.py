"""Settings: the only reader of environment variables and `.streamlit/secrets.toml`.

Every knob of the app lives on :class:`Settings`. Values come, highest priority first,
from keyword arguments, the process environment, `.streamlit/secrets.toml`, then the
embedded defaults, which are enough for `make run` on a fresh machine (ENV=local,
SQLite under `.data/`, the offline demo model, dev login).
"""

from __future__ import annotations

import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from assistant.addresses import address_list, database_url, is_local_url, is_private_address
from assistant.keys import key_problem
from assistant.setting_names import unknown_key, warn_lookalike_env_names

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"
DEFAULT_SQLITE_URL = "sqlite:///" + str(PROJECT_ROOT / ".data" / "assistant.db")

Environment = Literal["local", "dev", "prod"]

CommaList = Annotated[list[str], NoDecode]

_COMMA_LISTS = ("allowed_email_domains", "allowed_emails", "admin_emails", "internal_domains")  # lower-cased
_URL_EXAMPLES = {"oauth_redirect_uri": "https://assistant.example.com/", "s3_endpoint_url": "http://127.0.0.1:9000"}
# http(s) addresses checked at start; the Google ones (and the issuer) were used unchecked: "Sign-in is unavailable"
_URLS = (
    "anthropic_base_url",
    "openai_base_url",
    "ollama_host",
    "oauth_redirect_uri",
    "oauth_issuer",
    "s3_endpoint_url",
    "google_calendar_api_url",
    "google_token_url",
    "google_auth_url",
    "google_revoke_url",
)


class ConfigError(Exception):
    """The configuration is invalid or incomplete; the message names the setting to fix."""


class Settings(BaseSettings):
    """Application settings, frozen once loaded.

    Environment variable names are the upper-case field names (``ENV``, ``BEDROCK_MODEL``,
    ``SESSION_EXPIRY_HOURS`` ...), as in the earlier Lambda design.
    """

    model_config = SettingsConfigDict(
        frozen=True,
        case_sensitive=False,
        extra="ignore",
        env_ignore_empty=True,
        allow_inf_nan=False,  # DAILY_BUDGET_USD=inf was accepted and shown as "$inf"
    )

    # --- environment & model -------------------------------------------------------
    env: Environment = "local"
    aws_bedrock_enabled: bool = False
    bedrock_model: str = "us.amazon.nova-lite-v1:0"
    model_provider: str | None = Field(
        default=None,
        description="Registry name such as 'offline' or 'bedrock:<model_id>'; overrides the default choice.",
    )
    mock_responses: bool = Field(default=False, description="Force the offline demo model (earlier design's flag).")
    aws_region: str = Field(default="us-east-1", pattern=r"^[A-Za-z0-9-]+$")  # what botocore accepts
    anthropic_api_key: SecretStr | None = Field(default=None, description="Anthropic API key (anthropic:<id>).")
    anthropic_base_url: str | None = Field(
        default=None, description="Anthropic API address (a gateway or proxy); the SDK's default when unset."
    )
    openai_api_key: SecretStr | None = Field(default=None, description="OpenAI API key (openai:<id>).")
    openai_base_url: str | None = Field(
        default=None,
        description=(
            "Any OpenAI-compatible server (vLLM, LM Studio, llama.cpp), e.g. http://127.0.0.1:8000/v1; "
            "on loopback or a private network no key is needed and its models are priced $0 (local)."
        ),
    )
    ollama_host: str = Field(default="http://127.0.0.1:11434", description="Ollama server (ollama:<id>).")
    models: CommaList = Field(
        default_factory=list,
        description=(
            "Comma-separated registry names this deployment offers, the default first (e.g. "
            "'offline,openai:gpt-4o-mini'); unset: the one model MODEL_PROVIDER (or the defaults) name."
        ),
    )
    admin_models: CommaList = Field(
        default_factory=list,
        description="Which of MODELS only ADMIN_EMAILS users may pick (e.g. an expensive one).",
    )

    # --- persistence ---------------------------------------------------------------
    database_url: str = DEFAULT_SQLITE_URL
    sessions_bucket_name: str | None = None
    s3_endpoint_url: str | None = Field(default=None, description="Custom S3 endpoint (moto server, MinIO).")
    session_expiry_hours: float = Field(default=24, gt=0, le=24 * 365)
    data_dir: Path = PROJECT_ROOT / "data"
    prices_file: Path | None = None

    # --- identity ------------------------------------------------------------------
    test_user_id: str = Field(default="test-user-123", min_length=1, max_length=128)
    test_user_email: str = "exec@example.com"
    test_user_name: str = "Demo Executive"
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    oauth_redirect_uri: str | None = None
    oauth_issuer: str = "https://accounts.google.com"
    oauth_scopes: str = "openid email profile"
    allowed_email_domains: CommaList = Field(default_factory=list)
    allowed_emails: CommaList = Field(default_factory=list)
    allow_any_email: bool = False  # dev/prod: admit every verified email when both lists are empty
    admin_emails: CommaList = Field(default_factory=list)
    identity_max_age_hours: float = Field(default=12, gt=0)
    remember_sign_in: bool = Field(
        default=True, description="Keep a Google sign-in across reloads and tabs in a signed cookie."
    )
    session_cookie_secret: SecretStr | None = Field(
        default=None, description="Signs the sign-in cookie; derived from GOOGLE_CLIENT_SECRET when unset."
    )

    # --- limits --------------------------------------------------------------------
    max_message_chars: int = Field(default=8000, ge=1, le=1_000_000)
    messages_per_minute: int = Field(default=20, ge=1)
    daily_budget_usd: float = Field(default=5.0, ge=0)
    max_agent_turns: int = Field(default=8, ge=1, le=100)
    max_output_tokens: int = Field(default=8000, ge=1)
    model_timeout_seconds: float = Field(default=120, gt=0)

    # --- calendars and the user's context -------------------------------------------
    calendar_encryption_key: SecretStr | None = Field(
        default=None,
        description=(
            "Fernet key (urlsafe base64, 32 bytes) encrypting calendar secrets at rest: Google refresh "
            "tokens and secret iCal addresses. Without it, connecting a calendar is off (demo data only)."
        ),
    )
    google_calendar_api_url: str = "https://www.googleapis.com/calendar/v3"
    google_token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 - an address, not a secret
    google_auth_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_revoke_url: str = "https://oauth2.googleapis.com/revoke"
    ics_max_bytes: int = Field(default=5_000_000, ge=1_000, le=100_000_000)
    ics_fetch_timeout_seconds: float = Field(default=10, gt=0, le=120)
    ics_allow_private_addresses: bool | None = Field(
        default=None,
        description="Allow ICS addresses on loopback/private networks; default: only when ENV=local.",
    )
    calendar_cache_minutes: float = Field(default=15, ge=0, le=24 * 60)
    calendar_days_ahead: int = Field(default=60, ge=1, le=366)
    internal_domains: CommaList = Field(
        default_factory=list,
        description="Email domains counted as internal besides the user's own (meeting types, meeting cost).",
    )
    meeting_types_file: Path | None = None
    meeting_rate_you_usd: float = Field(default=250, ge=0, description="Your hourly cost, for meeting cost.")
    meeting_rate_internal_usd: float = Field(default=120, ge=0, description="Hourly cost of an internal attendee.")
    meeting_rate_external_usd: float = Field(default=0, ge=0, description="Hourly cost of an external attendee.")

    # --- misc ----------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    fault_injection: str | None = Field(
        default=None,
        description="Local/test only: make the offline model fail (e.g. 'throttle', 'timeout:2').",
    )

    @model_validator(mode="before")
    @classmethod
    def _strip_values(cls, data: Any) -> Any:
        # A secret mounted from a file ends with a newline: GOOGLE_CLIENT_ID="cid\n" failed every sign-in.
        if not isinstance(data, dict):
            return data
        stripped = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return {k: v for k, v in stripped.items() if v != ""}

    @field_validator(*_COMMA_LISTS, "models", "admin_models", mode="before")
    @classmethod
    def _split_commas(cls, value: Any, info: ValidationInfo) -> Any:
        case = str.lower if info.field_name in _COMMA_LISTS else str  # model ids keep theirs: "Qwen/Qwen2.5-7B"
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list):
            return value
        parts = [case(str(part).strip()) for part in value if str(part).strip()]
        return address_list(str(info.field_name), parts) if info.field_name in _COMMA_LISTS else parts

    @field_validator("fault_injection")
    @classmethod
    def _check_fault_spec(cls, value: str | None) -> str | None:
        if value is not None:  # a bad spec failed every answer instead; imported only when set (strands)
            from assistant.models.faults import parse_fault_spec  # its FaultSpecError is a ValueError

            parse_fault_spec(value)
        return value

    @field_validator("sessions_bucket_name")
    @classmethod
    def _check_bucket_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value):
            raise ValueError("must be a bucket name such as exec-assistant-sessions, not an s3:// address or ARN")
        return value

    @field_validator("calendar_encryption_key", "session_cookie_secret", "google_client_id", "google_client_secret")
    @classmethod
    def _check_key(cls, value: Any, info: ValidationInfo) -> Any:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        problem = key_problem(str(info.field_name), text) if text is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator(*_URLS)
    @classmethod
    def _check_http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        value = value.strip()
        try:
            parts = urlsplit(value)
            scheme, has_host = parts.scheme, bool(parts.hostname)
        except ValueError:
            scheme, has_host = "", False
        # kept character for character: as registered at Google; as the id_token's "iss" spells it
        exact = info.field_name in ("oauth_redirect_uri", "oauth_issuer")
        if scheme not in ("http", "https") or not has_host:
            default = cls.model_fields[str(info.field_name)].default  # Google's addresses, the issuer, Ollama's
            example = _URL_EXAMPLES.get(str(info.field_name), default or "http://127.0.0.1:8000/v1")
            raise ValueError(f"must be an http:// or https:// address with a host, e.g. {example}")
        return value if exact else value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return database_url(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_environment(self) -> Settings:
        if self.env == "local":
            found = self._deployment_settings()
            if found:
                # Fail closed: a deployed replica that forgot ENV would otherwise give every
                # visitor the unauthenticated dev login.
                raise ValueError(
                    f"ENV is local (unauthenticated dev login) but deployment settings are present: "
                    f"{', '.join(found)}; set ENV=dev or ENV=prod, or remove them to run locally"
                )
            return self
        required = {
            "SESSIONS_BUCKET_NAME": self.sessions_bucket_name,
            "DATABASE_URL": self.database_url != DEFAULT_SQLITE_URL,
            "GOOGLE_CLIENT_ID": self.google_client_id,
            "GOOGLE_CLIENT_SECRET": self.google_client_secret is not None,
            "OAUTH_REDIRECT_URI": self.oauth_redirect_uri,
        }
        missing = [name for name, present in required.items() if not present]
        if missing:
            raise ValueError(
                f"ENV={self.env} requires {missing[0]}"
                + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else "")
                + "; set it in the environment or .streamlit/secrets.toml"
            )
        redirect, google = str(self.oauth_redirect_uri), urlsplit(self.oauth_issuer).hostname == "accounts.google.com"
        if redirect.startswith("http://") and not is_local_url(redirect) and (google or self.env == "prod"):
            raise ValueError(  # Google refuses it (but for localhost): every sign-in ended on its error page
                f"OAUTH_REDIRECT_URI must be the app's public https:// address (e.g. https://assistant.example.com/), "
                f"not {redirect}: Google accepts http:// only for localhost, and the sign-in cookie would not be Secure"
            )
        if not (self.allowed_email_domains or self.allowed_emails or self.allow_any_email):
            # Fail closed: with both lists empty every Google account on an External consent
            # screen got in (and spent the budget); admitting everyone is now said out loud.
            raise ValueError(
                f"ENV={self.env} requires ALLOWED_EMAIL_DOMAINS or ALLOWED_EMAILS (who may sign in), "
                "or ALLOW_ANY_EMAIL=true to admit every verified Google account (with an Internal consent screen)"
            )
        scopes = set(self.oauth_scopes.replace("https://www.googleapis.com/auth/userinfo.", "").split())
        if not {"openid", "email"} <= scopes:  # no id token, or no email in it: every sign-in failed
            raise ValueError("OAUTH_SCOPES must include openid and email (the sign-in reads both)")
        if self.fault_injection:
            raise ValueError(f"FAULT_INJECTION is only allowed when ENV=local, not ENV={self.env}")
        if (self.model_provider or "").startswith("faulty"):
            raise ValueError(f"MODEL_PROVIDER=faulty:... is only allowed when ENV=local, not ENV={self.env}")
        faulty = next((m for m in self.models if m.lower().startswith("faulty")), None)
        if faulty:
            raise ValueError(f"MODELS: {faulty} (fault injection) is only allowed when ENV=local, not ENV={self.env}")
        return self

    @model_validator(mode="after")
    def _check_model_provider(self) -> Settings:
        if self.model_provider:
            self._check_model_name(self.model_provider, "MODEL_PROVIDER")
        if not self.models and not self.admin_models:
            return self
        # Imported here: the registry pulls in strands, which a plain settings load does not need.
        from assistant.models.registry import canonical_model_name

        offered: dict[str, str] = {}
        for name in self.models:
            key = self._check_model_name(name, "MODELS")
            if key in offered:
                raise ValueError(f"MODELS names {name} twice")
            offered[key] = name
        for name in self.admin_models:
            if not self.models:
                raise ValueError("ADMIN_MODELS needs MODELS (the models this deployment offers, the default first)")
            if self._check_model_name(name, "ADMIN_MODELS") not in offered:
                raise ValueError(f"ADMIN_MODELS names {name}, which MODELS does not offer")
        if self.admin_models and not self.admin_emails:
            raise ValueError("ADMIN_MODELS needs ADMIN_EMAILS (who may pick the admin-only models)")
        if self.model_provider and self.models and canonical_model_name(self.model_provider) not in offered:
            raise ValueError(f"MODEL_PROVIDER={self.model_provider} is not one of MODELS ({', '.join(self.models)})")
        default = canonical_model_name(self.model_name)
        if default in {canonical_model_name(m) for m in self.admin_models}:
            raise ValueError(
                f"The default model {self.model_name} is in ADMIN_MODELS; put a model everyone may use first in MODELS"
            )
        return self

    def _check_model_name(self, name: str, variable: str) -> str:
        """Check one registry name with the registry's rules; return its canonical form (raises ValueError)."""
        from assistant.models.registry import ModelNameError, canonical_model_name, parse_model_name

        try:
            provider, _model_id = parse_model_name(name)
        except ModelNameError as e:
            raise ValueError(f"{variable}: {e}") from e
        shown = f"{variable}={provider}:..." if variable == "MODEL_PROVIDER" else f"{variable}: {name}"
        if provider == "anthropic" and self.anthropic_api_key is None:
            raise ValueError(f"{shown} needs ANTHROPIC_API_KEY; set it in the environment or .streamlit/secrets.toml")
        if provider == "openai" and self.openai_api_key is None and not self.openai_base_url_is_local:
            raise ValueError(
                f"{shown} needs OPENAI_API_KEY (or OPENAI_BASE_URL on this machine or a "
                "private network, where no key is needed); set it in the environment or .streamlit/secrets.toml"
            )
        return canonical_model_name(name)

    def _deployment_settings(self) -> list[str]:
        """Names of the settings that only a deployment sets (never their values).

        A Google OAuth client, an S3 bucket, or a database on another host mean shared,
        real data. A database or S3 endpoint on this machine (127.0.0.1, localhost, a
        Unix socket) is a developer's own and stays allowed in ENV=local.
        """
        found = []
        if self.google_client_id:
            found.append("GOOGLE_CLIENT_ID")
        if self.google_client_secret is not None:
            found.append("GOOGLE_CLIENT_SECRET")
        if self.oauth_redirect_uri:
            found.append("OAUTH_REDIRECT_URI")
        if not self.database_url.startswith("sqlite") and not is_local_url(self.database_url):
            found.append("DATABASE_URL")
        if self.sessions_bucket_name and not (self.s3_endpoint_url and is_local_url(self.s3_endpoint_url)):
            found.append("SESSIONS_BUCKET_NAME")
        return found

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=_secrets_file()))

    # --- derived -------------------------------------------------------------------
    @property
    def model_name(self) -> str:
        """The registry name of the default model: a new session answers with it unless another is picked.

        MODEL_PROVIDER when set, else the first of MODELS, else derived (offline locally, Bedrock deployed).
        """
        if self.models:
            return self.offered_models[0]  # as MODELS spells it (sessions record one spelling)
        if self.model_provider:
            return self.model_provider
        if self.mock_responses or (self.env == "local" and not self.aws_bedrock_enabled):
            return "offline"
        return f"bedrock:{self.bedrock_model}"

    @property
    def offered_models(self) -> tuple[str, ...]:
        """The registry names a new session may answer with, the default first (MODELS, else the default alone)."""
        if not self.models:
            return (self.model_name,)
        if not self.model_provider:
            return tuple(self.models)
        from assistant.models.registry import ModelNameError, canonical_model_name

        try:
            default = canonical_model_name(self.model_provider)
            first = [m for m in self.models if canonical_model_name(m) == default][:1]
        except ModelNameError:  # refused at load; only reachable while validating
            first = []
        return (*first, *[m for m in self.models if m not in first])

    @property
    def openai_base_url_is_local(self) -> bool:
        """Whether OPENAI_BASE_URL points at this machine or a private network (a local, $0 model server).

        Only IP addresses and ``localhost`` count: a host name is not resolved, so a server behind a
        name is treated as a paid service (set OPENAI_API_KEY, any value if the server ignores it).
        """
        return self.openai_base_url is not None and is_private_address(self.openai_base_url)

    @property
    def is_local(self) -> bool:
        """True when running the embedded local stack (dev login, SQLite by default)."""
        return self.env == "local"

    @property
    def uses_s3(self) -> bool:
        """True when conversations are stored in the S3 bucket."""
        return bool(self.sessions_bucket_name)

    @property
    def resolved_prices_file(self) -> Path:
        """The price table data file."""
        return self.prices_file or (self.data_dir / "prices.toml")

    @property
    def ics_private_addresses_allowed(self) -> bool:
        """Whether an ICS address may point at loopback or private networks (only locally, by default)."""
        return self.is_local if self.ics_allow_private_addresses is None else self.ics_allow_private_addresses

    @property
    def resolved_meeting_types_file(self) -> Path:
        """The meeting-type rules file (``data/meeting_types.toml`` unless MEETING_TYPES_FILE is set)."""
        return self.meeting_types_file or self.data_dir / "meeting_types.toml"

    def is_admin(self, email: str | None) -> bool:
        """Whether this email belongs to an administrator (ADMIN_EMAILS)."""
        return bool(email) and str(email).lower() in self.admin_emails


def _secrets_file() -> Path:
    return Path(os.environ.get("ASSISTANT_SECRETS_FILE", str(DEFAULT_SECRETS_FILE)))


def load_settings(**overrides: Any) -> Settings:
    """Build Settings (``overrides`` win over the environment: tests, CLI flags).

    Raises:
        ConfigError: One line naming the variable that is missing or invalid (or the secrets file).
    """
    named = os.environ.get("ASSISTANT_SECRETS_FILE")
    if named and not Path(named).exists():
        # A deployment whose secrets file did not mount would otherwise start as ENV=local: the
        # dev login and an empty local database, with nothing saying why.
        raise ConfigError(
            f"Invalid setting ASSISTANT_SECRETS_FILE: {named} does not exist "
            "(unset it to read .streamlit/secrets.toml, or name /dev/null for no secrets file)"
        )
    unknown = unknown_key(_secrets_file(), set(Settings.model_fields))  # first: a typo explains a "missing" one
    if unknown:
        raise ConfigError(unknown)
    warn_lookalike_env_names(os.environ, set(Settings.model_fields))  # a warning: other tools share the environment
    try:
        return Settings(**overrides)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as e:  # the message never quotes the file's text
        reason = f"{e.__class__.__name__}: {e.strerror}" if isinstance(e, OSError) else str(e).splitlines()[0][:200]
        where = f"{_secrets_file()} (ASSISTANT_SECRETS_FILE, by default .streamlit/secrets.toml)"
        raise ConfigError(f"Invalid secrets file {where}: {reason}") from e
    except ValidationError as e:
        first = e.errors()[0]
        loc = [str(part) for part in first.get("loc", ())]
        msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        if loc:
            raise ConfigError(f"Invalid setting {loc[0].upper()}: {msg}") from e
        raise ConfigError(f"Invalid configuration: {msg}") from e


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (memoized). Tests build their own with :func:`load_settings`."""
    return load_settings()
