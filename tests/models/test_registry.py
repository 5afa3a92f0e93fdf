"""Registry: name parsing, resolution, descriptions, errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from assistant.config import load_settings
from assistant.models import (
    PROVIDERS,
    FaultInjectingModel,
    ModelNameError,
    ModelNotAllowedError,
    OfflineModel,
    UnknownModelError,
    describe_model,
    get_model,
    parse_model_name,
    register_provider,
)


@pytest.fixture
def settings() -> Any:
    return load_settings(env="local")


@pytest.fixture
def deployed_settings() -> Any:
    return load_settings(
        env="dev",
        sessions_bucket_name="bucket",
        database_url="postgresql://u:p@db/x",
        google_client_id="cid",
        google_client_secret="secret",
        oauth_redirect_uri="https://app.example.com/",
        allowed_email_domains="example.com",
    )


@pytest.fixture
def restore_providers() -> Iterator[None]:
    saved = dict(PROVIDERS)
    yield
    PROVIDERS.clear()
    PROVIDERS.update(saved)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("offline", ("offline", "demo")),
        ("offline:demo", ("offline", "demo")),
        (" Bedrock:us.amazon.nova-lite-v1:0 ", ("bedrock", "us.amazon.nova-lite-v1:0")),
        ("faulty:throttle*2", ("faulty", "throttle*2")),
    ],
)
def test_parse_model_name(name: str, expected: tuple[str, str]) -> None:
    assert parse_model_name(name) == expected


@pytest.mark.parametrize("name", ["", "  ", "bedrock:", "bedrock", "offline:", "faulty:"])
def test_parse_malformed_names(name: str) -> None:
    with pytest.raises(ModelNameError):
        parse_model_name(name)


def test_unknown_provider_names_known_ones() -> None:
    with pytest.raises(
        UnknownModelError, match="known providers: anthropic, bedrock, faulty, offline, ollama, openai"
    ) as info:
        parse_model_name("gemini:gemini-2.5-pro")
    assert isinstance(info.value, ValueError)


def test_get_offline_model(settings: Any) -> None:
    model = get_model("offline", settings)
    assert isinstance(model, OfflineModel)
    assert model.get_config()["chunk_delay_s"] > 0


def test_default_name_comes_from_settings(settings: Any) -> None:
    assert isinstance(get_model(None, settings), OfflineModel)


def test_get_bedrock_model_is_configured_from_settings() -> None:
    from strands.models.bedrock import BedrockModel

    settings = load_settings(env="local", aws_region="eu-west-1", max_output_tokens=1234, model_timeout_seconds=30)
    model = get_model("bedrock:us.amazon.nova-lite-v1:0", settings)

    assert isinstance(model, BedrockModel)
    config = model.get_config()
    assert config["model_id"] == "us.amazon.nova-lite-v1:0"
    assert config["max_tokens"] == 1234
    assert model.client.meta.region_name == "eu-west-1"
    assert model.client.meta.config.read_timeout == 30
    # three attempts in all, as the README says (botocore's max_attempts: 3 meant four)
    assert model.client.meta.config.retries["total_max_attempts"] == 3


async def test_real_bedrock_call_fails_the_test(settings: Any) -> None:
    model = get_model("bedrock:us.amazon.nova-lite-v1:0", settings)
    with pytest.raises(RuntimeError, match="real model call attempted in a test"):
        model.stream([{"role": "user", "content": [{"text": "hi"}]}])


def test_faulty_only_local(settings: Any, deployed_settings: Any) -> None:
    model = get_model("faulty:throttle*2", settings)
    assert isinstance(model, FaultInjectingModel)
    assert model.spec.times == 2
    assert isinstance(model.inner, OfflineModel)
    with pytest.raises(ModelNotAllowedError, match="ENV=local"):
        get_model("faulty:throttle", deployed_settings)


def test_faulty_bad_spec(settings: Any) -> None:
    with pytest.raises(ValueError, match="Unknown fault mode"):
        get_model("faulty:explode", settings)


def test_fault_injection_setting_wraps_model() -> None:
    settings = load_settings(env="local", fault_injection="network")
    model = get_model("offline", settings)
    assert isinstance(model, FaultInjectingModel)
    assert model.spec.mode == "network"


def test_describe_model() -> None:
    offline = describe_model("offline")
    assert (offline.provider, offline.model_id, offline.label, offline.is_offline) == (
        "offline",
        "demo",
        "offline demo model",
        True,
    )
    nova = describe_model("bedrock:us.amazon.nova-lite-v1:0")
    assert nova.label == "Amazon Nova Lite"
    assert not nova.is_offline
    assert nova.name == "bedrock:us.amazon.nova-lite-v1:0"
    assert describe_model("bedrock:some.new-model").label == "Bedrock some.new-model"
    assert describe_model("faulty:timeout:2").is_offline
    with pytest.raises(AttributeError):
        nova.label = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("anthropic:claude-opus-4-0", "Anthropic Claude Opus 4"),
        ("anthropic:claude-opus-4-20250514", "Anthropic Claude Opus 4"),
        ("bedrock:us.anthropic.claude-opus-4-20250514-v1:0", "Anthropic Claude Opus 4"),
        ("anthropic:claude-sonnet-4-0", "Anthropic Claude Sonnet 4"),
        ("bedrock:us.anthropic.claude-sonnet-4-20250514-v1:0", "Anthropic Claude Sonnet 4"),
        ("anthropic:claude-sonnet-4-5", "Anthropic Claude Sonnet 4.5"),
        ("anthropic:claude-opus-4-1-20250805", "Anthropic Claude Opus 4.1"),
        # a Claude release newer than this list is named by its id, not as the 4.0 it starts like
        ("anthropic:claude-opus-4-7", "Anthropic claude-opus-4-7"),
        ("anthropic:claude-sonnet-4-6", "Anthropic claude-sonnet-4-6"),
        ("bedrock:us.anthropic.claude-opus-4-7-v1:0", "Bedrock us.anthropic.claude-opus-4-7-v1:0"),
    ],
)
def test_a_newer_claude_is_not_labelled_as_the_first_claude_4(name: str, label: str) -> None:
    """MODELS offered anthropic:claude-opus-4-7: the picker and the chat header read "Anthropic Claude
    Opus 4 · price unknown", naming another model (whose price the table has) than the one answering."""
    assert describe_model(name).label == label


def test_register_provider_callable(settings: Any, restore_providers: None) -> None:
    register_provider("echo", lambda model_id, s: OfflineModel(model_id=model_id))
    model = get_model("echo:abc", settings)
    assert isinstance(model, OfflineModel)
    assert model.get_config()["model_id"] == "abc"
    assert describe_model("echo:abc").label == "echo abc"


def test_register_provider_lazy_path(settings: Any, restore_providers: None) -> None:
    register_provider("lazy", "tests.models.test_registry:_lazy_factory")
    assert isinstance(get_model("lazy:x", settings), OfflineModel)
    register_provider("broken", "no.such.module:factory")
    with pytest.raises(UnknownModelError, match="could not be loaded"):
        get_model("broken:x", settings)
    with pytest.raises(ValueError, match="Invalid provider name"):
        register_provider("Bad Name", "x:y")


def _lazy_factory(model_id: str, settings: Any) -> OfflineModel:
    return OfflineModel(model_id=model_id)
