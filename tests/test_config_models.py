"""MODELS and ADMIN_MODELS: the models a deployment offers, checked at load with the registry's rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "ENV",
        "MODEL_PROVIDER",
        "MODELS",
        "ADMIN_MODELS",
        "ADMIN_EMAILS",
        "MOCK_RESPONSES",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASSISTANT_SECRETS_FILE", os.devnull)


def test_without_models_the_one_configured_model_is_offered() -> None:
    assert load_settings().offered_models == ("offline",)
    settings = load_settings(model_provider="ollama:llama3.2")
    assert settings.offered_models == ("ollama:llama3.2",) and settings.model_name == "ollama:llama3.2"


def test_models_from_the_environment_keep_their_order_and_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELS", " offline , openai:Qwen/Qwen2.5-7B-Instruct ,ollama:llama3.2")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
    settings = load_settings()
    assert settings.offered_models == ("offline", "openai:Qwen/Qwen2.5-7B-Instruct", "ollama:llama3.2")
    assert settings.model_name == "offline"


def test_model_provider_picks_the_default_among_models_as_models_spells_it() -> None:
    settings = load_settings(models="ollama:llama3.2,offline:demo", model_provider="offline")
    assert settings.model_name == "offline:demo"
    assert settings.offered_models == ("offline:demo", "ollama:llama3.2")


def test_admin_models_are_some_of_models() -> None:
    settings = load_settings(models="offline,ollama:llama3.2", admin_models="ollama:llama3.2", admin_emails="a@b.co")
    assert settings.admin_models == ["ollama:llama3.2"]


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"models": "offline,gemini:pro"}, "MODELS: Unknown model provider 'gemini'"),
        ({"models": "offline,openai:"}, "MODELS: Model name 'openai:' has no model id"),
        ({"models": "offline,anthropic:claude-haiku-4-5"}, "anthropic:claude-haiku-4-5 needs ANTHROPIC_API_KEY"),
        ({"models": "offline,openai:gpt-4o"}, "MODELS: openai:gpt-4o needs OPENAI_API_KEY"),
        ({"models": "offline,offline:demo"}, "MODELS names offline:demo twice"),
        ({"models": "offline", "model_provider": "ollama:x"}, "MODEL_PROVIDER=ollama:x is not one of MODELS"),
        (
            {"models": "offline,ollama:x", "admin_models": "ollama:y", "admin_emails": "a@b.co"},
            "ADMIN_MODELS names ollama:y, which MODELS does not offer",
        ),
        ({"admin_models": "ollama:x", "admin_emails": "a@b.co"}, "ADMIN_MODELS needs MODELS"),
        ({"models": "offline,ollama:x", "admin_models": "ollama:x"}, "ADMIN_MODELS needs ADMIN_EMAILS"),
        (
            {"models": "ollama:x,offline", "admin_models": "ollama:x", "admin_emails": "a@b.co"},
            "The default model ollama:x is in ADMIN_MODELS",
        ),
    ],
)
def test_bad_models_stop_the_app_with_one_line_naming_them(overrides: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(**overrides)
    message = str(info.value)
    assert needle in message and "\n" not in message


def test_fault_injection_models_only_locally() -> None:
    prod = {
        "env": "prod",
        "database_url": "postgresql://db.internal/assistant",
        "sessions_bucket_name": "bucket",
        "google_client_id": "cid",
        "google_client_secret": "secret",
        "oauth_redirect_uri": "https://assistant.example.com/",
        "allowed_email_domains": "example.com",
    }
    with pytest.raises(ConfigError, match="MODELS: faulty:throttle"):
        load_settings(**prod, models="bedrock:us.amazon.nova-lite-v1:0,faulty:throttle")
