"""Model registry: ``"provider:model_id"`` names -> strands :class:`~strands.models.Model` instances.

Known names:

- ``offline`` (alias ``offline:demo``): the deterministic :class:`OfflineModel`, no network.
- ``bedrock:<model_id>``: strands ``BedrockModel`` (imported lazily, so the offline path
  never needs boto3 sessions or credentials).
- ``faulty:<spec>``: ``FaultInjectingModel(OfflineModel(), spec)``; only when ENV=local.
- ``anthropic:<model_id>``, ``openai:<model_id>``, ``ollama:<model_id>``: strands' own model
  classes, built in :mod:`assistant.models.providers` (each SDK imported only when a model of it
  is built). Ollama models, and OpenAI-compatible servers on this machine or a private network,
  are local: $0 and labelled "local".

Other providers are added to :data:`PROVIDERS` with :func:`register_provider`, either as a
factory callable or as a lazy ``"package.module:function"`` path imported on first use.

Importing this module imports no strands: the chat page parses and describes names without it,
and each model class (the offline one included) is imported when a model of it is built.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.usage.pricing import LOCAL_SUFFIX, local_model_provider

if TYPE_CHECKING:
    from strands.models import Model

    from assistant.config import Settings

logger = logging.getLogger(__name__)

ProviderFactory = Callable[[str, "Settings"], "Model"]

DEFAULT_OFFLINE_ID = "demo"
OFFLINE_LABEL = "offline demo model"
"""How the offline demo model is named wherever it is shown (badges, cost notes, the CLI)."""
OFFLINE_CHUNK_DELAY_S = 0.015
OFFLINE_FIRST_TOKEN_DELAY_S = 0.2


class ModelNameError(ValueError):
    """A model name is malformed (e.g. ``"bedrock:"`` without a model id)."""


class UnknownModelError(ModelNameError):
    """A model name uses a provider the registry does not know."""


class ModelNotAllowedError(ValueError):
    """The model exists but may not be used in this environment (fault injection outside local)."""


@dataclass(frozen=True)
class ModelInfo:
    """What the UI and the usage ledger need to know about a model name.

    Attributes:
        provider: Provider key such as "offline" or "bedrock".
        model_id: Provider-specific model id ("demo", "us.amazon.nova-lite-v1:0").
        label: Human-readable label ("offline demo model", "Amazon Nova Lite").
        is_offline: True when the model needs no network and costs nothing.
        is_local: True when a server on this machine or a private network answers ($0): any
            Ollama model, an OpenAI-compatible server on a local OPENAI_BASE_URL.
    """

    provider: str
    model_id: str
    label: str
    is_offline: bool
    is_local: bool = False

    @property
    def name(self) -> str:
        """The canonical registry name, ``provider:model_id``."""
        return f"{self.provider}:{self.model_id}"


def _offline_factory(model_id: str, settings: Settings) -> Model:
    from assistant.models.offline import OfflineModel  # a strands Model: strands kept out of the cold start

    return OfflineModel(
        model_id=model_id,
        chunk_delay_s=OFFLINE_CHUNK_DELAY_S,
        first_token_delay_s=OFFLINE_FIRST_TOKEN_DELAY_S,
    )


def _bedrock_factory(model_id: str, settings: Settings) -> Model:
    from botocore.config import Config as BotocoreConfig
    from strands.models.bedrock import BedrockModel

    timeout = settings.model_timeout_seconds
    client_config = BotocoreConfig(
        read_timeout=timeout,
        connect_timeout=min(timeout, 10.0),
        retries={"total_max_attempts": 3, "mode": "adaptive"},  # 3 in all (max_attempts counts retries)
        user_agent_extra="executive-assistant",
    )
    return BedrockModel(
        model_id=model_id,
        region_name=settings.aws_region,
        max_tokens=settings.max_output_tokens,
        boto_client_config=client_config,
    )


def _faulty_factory(model_id: str, settings: Settings) -> Model:
    if settings.env != "local":
        raise ModelNotAllowedError(f"faulty:{model_id} (fault injection) is only allowed when ENV=local")
    from assistant.models.faults import FaultInjectingModel  # a strands Model: kept out of the cold start

    return FaultInjectingModel(_offline_factory(DEFAULT_OFFLINE_ID, settings), model_id)


PROVIDERS: dict[str, ProviderFactory | str] = {
    "offline": _offline_factory,
    "bedrock": _bedrock_factory,
    "faulty": _faulty_factory,
    "anthropic": "assistant.models.providers:build_anthropic",
    "openai": "assistant.models.providers:build_openai",
    "ollama": "assistant.models.providers:build_ollama",
}
"""Provider key -> factory ``(model_id, settings) -> Model`` or lazy ``"module:attr"`` path."""

_DEFAULT_IDS = {"offline": DEFAULT_OFFLINE_ID}

_BEDROCK_LABELS: tuple[tuple[str, str], ...] = (
    (r"nova-micro", "Amazon Nova Micro"),
    (r"nova-lite", "Amazon Nova Lite"),
    (r"nova-pro", "Amazon Nova Pro"),
    (r"nova-premier", "Amazon Nova Premier"),
    (r"claude-3-5-haiku", "Anthropic Claude 3.5 Haiku"),
    (r"claude-haiku-4-5", "Anthropic Claude Haiku 4.5"),
    (r"claude-3-5-sonnet", "Anthropic Claude 3.5 Sonnet"),
    (r"claude-3-7-sonnet", "Anthropic Claude 3.7 Sonnet"),
    (r"claude-sonnet-4-5", "Anthropic Claude Sonnet 4.5"),
    # Claude 4.0 ids: "-0", a date, then the end or Bedrock's "-v1:0" (a later "claude-opus-4-7" is
    # another model, named by its id, as the price table's anchored entries leave it unpriced)
    (r"claude-sonnet-4(-0)?(-\d{8})?(-v\d|$)", "Anthropic Claude Sonnet 4"),
    (r"claude-opus-4-5", "Anthropic Claude Opus 4.5"),
    (r"claude-opus-4-1", "Anthropic Claude Opus 4.1"),
    (r"claude-opus-4(-0)?(-\d{8})?(-v\d|$)", "Anthropic Claude Opus 4"),
    (r"llama", "Meta Llama"),
    (r"mistral", "Mistral"),
)

_OPENAI_LABELS: tuple[tuple[str, str], ...] = (
    (r"^gpt-4o-mini", "OpenAI GPT-4o mini"),
    (r"^gpt-4o", "OpenAI GPT-4o"),
    (r"^gpt-4\.1-mini", "OpenAI GPT-4.1 mini"),
    (r"^gpt-4\.1-nano", "OpenAI GPT-4.1 nano"),
    (r"^gpt-4\.1", "OpenAI GPT-4.1"),
)


def register_provider(name: str, factory: ProviderFactory | str) -> None:
    """Register (or replace) a provider.

    Args:
        name: Provider key used before the colon in model names (lower-case letters, digits, ``_``, ``-``).
        factory: ``(model_id, settings) -> Model``, or a ``"package.module:function"`` path to such a
            factory, imported only when a model of this provider is built.

    Raises:
        ValueError: When the provider key is not a valid name.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", name):
        raise ValueError(f"Invalid provider name {name!r}: use lower-case letters, digits, '_' or '-'")
    PROVIDERS[name] = factory


def known_providers() -> list[str]:
    """The registered provider keys, sorted."""
    return sorted(PROVIDERS)


def parse_model_name(name: str) -> tuple[str, str]:
    """Split a registry name into provider and model id.

    Args:
        name: ``"provider:model_id"``; ``"offline"`` alone means ``"offline:demo"``. The model id
            may contain colons (``bedrock:us.amazon.nova-lite-v1:0``).

    Returns:
        ``(provider, model_id)``.

    Raises:
        ModelNameError: When the name is empty or has no model id (``"bedrock:"``), or names a
            fault drill whose spec is not one (``"faulty:xyz"``).
        UnknownModelError: When the provider is not registered; the message lists the known ones.
    """
    text = (name or "").strip()
    if not text:
        raise ModelNameError(f"Empty model name; use 'provider:model_id' with provider one of {known_providers()}")
    provider, sep, model_id = text.partition(":")
    provider = provider.strip().lower()
    model_id = model_id.strip()
    if provider not in PROVIDERS:
        raise UnknownModelError(
            f"Unknown model provider {provider!r} in {text!r}; known providers: {', '.join(known_providers())}"
        )
    if not model_id:
        if provider in _DEFAULT_IDS and not sep:
            model_id = _DEFAULT_IDS[provider]
        else:
            raise ModelNameError(f"Model name {text!r} has no model id; use '{provider}:<model_id>'")
    if provider == "faulty":  # a bad spec (MODELS=offline,faulty:xyz) started the app, then failed every answer
        from assistant.models.faults import FaultSpecError, parse_fault_spec  # strands: only for a fault drill

        try:
            parse_fault_spec(model_id)
        except FaultSpecError as e:
            raise ModelNameError(f"{text}: {e}") from e
    return provider, model_id


def canonical_model_name(name: str) -> str:
    """The one spelling of a registry name, for comparing names (``offline`` -> ``offline:demo``).

    Args:
        name: ``"provider:model_id"`` or ``"offline"``.

    Returns:
        ``"provider:model_id"`` with the provider lower-cased and the default id filled in.

    Raises:
        ModelNameError: Malformed name or unknown provider.
    """
    provider, model_id = parse_model_name(name)
    return f"{provider}:{model_id}"


def _resolve_factory(provider: str) -> ProviderFactory:
    factory = PROVIDERS[provider]
    if not isinstance(factory, str):
        return factory
    module_name, _, attr = factory.partition(":")
    try:
        module = importlib.import_module(module_name)
        resolved = getattr(module, attr)
    except (ImportError, AttributeError) as e:
        raise UnknownModelError(f"Provider {provider!r} could not be loaded from {factory!r}: {e}") from e
    if not callable(resolved):
        raise UnknownModelError(f"Provider {provider!r} factory {factory!r} is not callable")
    PROVIDERS[provider] = resolved
    return resolved  # type: ignore[no-any-return]


def get_model(name: str | None, settings: Settings) -> Model:
    """Build the model for a registry name.

    When ``settings.fault_injection`` is set (only possible with ENV=local), the model is
    wrapped in :class:`FaultInjectingModel` with that spec.

    Args:
        name: ``"provider:model_id"``; None means ``settings.model_name``.
        settings: Application settings (region, output token limit, timeouts, environment).

    Returns:
        A strands model instance.

    Raises:
        ModelNameError: Malformed name.
        UnknownModelError: Unknown provider.
        ModelNotAllowedError: ``faulty:`` outside ENV=local.
    """
    from assistant.models.faults import FaultInjectingModel  # strands: not in the cold start

    provider, model_id = parse_model_name(name if name is not None else settings.model_name)  # a faulty: spec too
    model = _resolve_factory(provider)(model_id, settings)
    if settings.fault_injection:
        if settings.env != "local":
            raise ModelNotAllowedError("FAULT_INJECTION is only allowed when ENV=local")
        model = FaultInjectingModel(model, settings.fault_injection)
    logger.debug("provider=<%s>, model_id=<%s> | model created", provider, model_id)
    return model


def describe_model(name: str) -> ModelInfo:
    """Describe a registry name without building the model (no imports, no network).

    Args:
        name: ``"provider:model_id"`` or ``"offline"``.

    Returns:
        The :class:`ModelInfo`.

    Raises:
        ModelNameError: Malformed name.
        UnknownModelError: Unknown provider.
    """
    provider, model_id = parse_model_name(name)
    if provider == "offline":  # another id (offline:alt) is another model to pick: named apart
        label = OFFLINE_LABEL if model_id == DEFAULT_OFFLINE_ID else f"{OFFLINE_LABEL} ({model_id})"
        return ModelInfo(provider, model_id, label, True)
    if provider == "faulty":
        return ModelInfo(provider, model_id, f"{OFFLINE_LABEL} (fault: {model_id})", True)
    if provider == "bedrock":
        lowered = model_id.lower()
        label = next((text for pattern, text in _BEDROCK_LABELS if re.search(pattern, lowered)), f"Bedrock {model_id}")
        return ModelInfo(provider, model_id, label, False)
    if provider == "ollama" or (provider == "openai" and local_model_provider(model_id) == "openai"):
        return ModelInfo(provider, model_id, f"{model_id} {LOCAL_SUFFIX}", False, is_local=True)
    if provider == "anthropic":
        lowered = model_id.lower()
        claude = [(p, t) for p, t in _BEDROCK_LABELS if p.startswith("claude")]
        label = next((text for pattern, text in claude if re.search(pattern, lowered)), f"Anthropic {model_id}")
        return ModelInfo(provider, model_id, label, False)
    if provider == "openai":
        lowered = model_id.lower()
        label = next((text for pattern, text in _OPENAI_LABELS if re.search(pattern, lowered)), f"OpenAI {model_id}")
        return ModelInfo(provider, model_id, label, False)
    return ModelInfo(provider, model_id, f"{provider} {model_id}", False)
