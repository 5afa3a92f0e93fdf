"""Model providers beyond Bedrock, built from strands' own model classes.

- ``anthropic:<model_id>``: strands ``AnthropicModel`` (ANTHROPIC_API_KEY, optional ANTHROPIC_BASE_URL).
- ``openai:<model_id>``: strands ``OpenAIModel`` (OPENAI_API_KEY, optional OPENAI_BASE_URL for any
  OpenAI-compatible server: vLLM, LM Studio, llama.cpp). A base URL on this machine or a private
  network needs no key and is a local model: priced $0 and labelled "local".
- ``ollama:<model_id>``: strands ``OllamaModel`` (OLLAMA_HOST); always a local model.

Each factory imports its SDK only when a model of it is built: a missing package raises
:class:`ProviderPackageError` naming the package. The policy matches Bedrock's
(:func:`assistant.models.registry._bedrock_factory`): ``MODEL_TIMEOUT_SECONDS`` as the read
timeout, at most 10 s to connect, 3 attempts per call (the SDKs' own retries, which honour the
server's ``retry-after``), ``MAX_OUTPUT_TOKENS`` as the output limit. The Ollama client has no
retries (a local server; the chat page's Retry is there).

Usage is normalised to the Bedrock Converse convention the ledger uses: ``inputTokens``
excludes cache reads and writes (OpenAI counts cached tokens inside ``prompt_tokens``).

strands builds a new OpenAI / Ollama HTTP client for every model call (an httpx client is
tied to its event loop). Each one would load the CA bundle into a new TLS context, ~50 ms on
the 2-core development machine, twice per answer with a tool step; they share one context
instead (:func:`shared_tls_context`, httpx's own defaults incl. SSL_CERT_FILE), ~0.1 ms.
"""

from __future__ import annotations

import importlib
import logging
import ssl
from collections.abc import AsyncGenerator, Callable
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from assistant.usage.pricing import mark_local_model

if TYPE_CHECKING:
    import httpx
    from strands.models import Model
    from strands.types.streaming import StreamEvent

    from assistant.config import Settings

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
MAX_RETRIES = 2
"""Retries after the first attempt (3 attempts in all, like Bedrock's ``total_max_attempts: 3``)."""
NO_KEY_PLACEHOLDER = "not-needed"

API_KEY_VARIABLES = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
"""Provider -> the setting holding its API key (named in messages about a missing or refused key)."""

_PACKAGES = {"anthropic": "anthropic", "openai": "openai", "ollama": "ollama"}
_OLLAMA_DONE = "ollamaDone"
"""Key of a metadata chunk (removed before strands sees it): whether the stream's last line was ``done``."""


class ProviderSetupError(Exception):
    """A model of a provider cannot be built here; the message says what to do (plain sentence)."""


class ProviderPackageError(ProviderSetupError):
    """The provider's Python package is not installed.

    Attributes:
        package: The missing package's name on PyPI.
    """

    def __init__(self, provider: str, package: str) -> None:
        """Create the error.

        Args:
            provider: Provider key ("anthropic", "openai", "ollama").
            package: The missing package.
        """
        self.package = package
        super().__init__(
            f"The {provider} model provider needs the Python package '{package}', which is not installed. "
            f"Install it with: pip install 'strands-agents[{provider}]' (or pip install -r requirements.txt)."
        )


class MissingApiKeyError(ProviderSetupError):
    """The provider's API key setting is empty.

    Attributes:
        variable: The setting to set (``ANTHROPIC_API_KEY``, ``OPENAI_API_KEY``).
    """

    def __init__(self, variable: str) -> None:
        """Create the error.

        Args:
            variable: The setting to set.
        """
        self.variable = variable
        super().__init__(f"Set {variable} in the environment or .streamlit/secrets.toml, then restart the app.")


def _import(provider: str, module: str) -> Any:
    """Import a provider SDK (or strands' module wrapping it), naming the package when it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ProviderPackageError(provider, _PACKAGES[provider]) from e


@cache
def shared_tls_context() -> ssl.SSLContext:
    """One TLS context (httpx's defaults: certifi's CAs, SSL_CERT_FILE / SSL_CERT_DIR) for every model client."""
    import httpx

    return httpx.create_ssl_context()


_RATE_LIMITS: ContextVar[list[int] | None] = ContextVar("rate_limits", default=None)


def watch_rate_limits() -> list[int]:
    """Collect the 429s that this task's Anthropic and OpenAI calls receive from now on.

    The SDKs wait out a 429's ``retry-after`` themselves before strands sees any error: a turn
    whose time ran out during that wait looked slow, not throttled.

    Returns:
        The list each 429 response's status is appended to.
    """
    seen: list[int] = []
    _RATE_LIMITS.set(seen)
    return seen


async def _note_rate_limit(response: httpx.Response) -> None:
    """httpx response hook: remember a 429 for :func:`watch_rate_limits`."""
    seen = _RATE_LIMITS.get()
    if response.status_code == 429 and seen is not None:
        seen.append(response.status_code)


RESPONSE_HOOKS: dict[str, list[Any]] = {"response": [_note_rate_limit]}
"""The event hooks of every Anthropic and OpenAI HTTP client."""


def _timeout(settings: Settings) -> httpx.Timeout:
    import httpx

    timeout = settings.model_timeout_seconds
    return httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_S))


def is_local_provider(provider: str, settings: Settings) -> bool:
    """Whether models of this provider run on this machine or a private network ($0, "local").

    Args:
        provider: Provider key.
        settings: Application settings (OPENAI_BASE_URL).

    Returns:
        True for ``ollama``, and for ``openai`` with OPENAI_BASE_URL on loopback or a private address.
    """
    if provider == "ollama":
        return True
    return provider == "openai" and settings.openai_base_url_is_local


def note_local_models(settings: Settings) -> None:
    """Tell the price table which of this deployment's models (MODELS) are local ($0, labelled "local").

    Building a local model does this too; call it at start-up so pages that price the ledger
    before any model was built (the cost dashboard in a fresh process, the chat page's model
    picker) label them "local" as well.

    Args:
        settings: Application settings.
    """
    from assistant.models.registry import ModelNameError, parse_model_name

    for name in settings.offered_models:
        try:
            provider, model_id = parse_model_name(name)
        except ModelNameError:
            continue
        if is_local_provider(provider, settings):
            mark_local_model(model_id, provider)


def _self_hosted_servers(settings: Settings) -> dict[tuple[str, str], list[str]]:
    """(setting, address) -> the offered models answered there, for servers on this machine or a private network."""
    from assistant.addresses import is_private_address
    from assistant.models.registry import ModelNameError, parse_model_name

    found: dict[tuple[str, str], list[str]] = {}
    for name in settings.offered_models:
        try:
            provider, _ = parse_model_name(name)
        except ModelNameError:
            continue
        address = {
            "ollama": ("OLLAMA_HOST", settings.ollama_host),
            "openai": ("OPENAI_BASE_URL", settings.openai_base_url or ""),
            "anthropic": ("ANTHROPIC_BASE_URL", settings.anthropic_base_url or ""),
        }.get(provider)
        if address is not None and address[1] and is_private_address(address[1]):
            found.setdefault(address, []).append(name)
    return found


def check_model_servers(settings: Settings, timeout_s: float = 2.0) -> None:
    """Log a warning for each self-hosted model server (Ollama, a local OpenAI-compatible server) that is down.

    Called as the app warms up, so an administrator reads "OLLAMA_HOST ... does not accept
    connections" at start instead of a user meeting it at a first send. Only addresses on this
    machine or a private network are tried (one TCP connection each); hosted APIs are not.

    Args:
        settings: Application settings (MODELS, OLLAMA_HOST, OPENAI_BASE_URL, ANTHROPIC_BASE_URL).
        timeout_s: How long one connection may take.
    """
    import socket
    from urllib.parse import urlsplit

    for (setting, address), names in _self_hosted_servers(settings).items():
        parts = urlsplit(address)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            socket.create_connection((parts.hostname or "", port), timeout=timeout_s).close()
        except OSError as e:
            logger.warning(
                "setting=<%s>, models=<%s>, error=<%s> | model server does not accept connections: "
                "sessions on these models fail until it does",
                setting,
                ",".join(names),
                e,
            )


def build_anthropic(model_id: str, settings: Settings) -> Model:
    """Build an Anthropic Claude model (Messages API, streamed).

    Args:
        model_id: Anthropic model id, e.g. ``claude-sonnet-4-5``.
        settings: Application settings (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, timeouts, output limit).

    Returns:
        A strands ``AnthropicModel``.

    Raises:
        ProviderPackageError: The ``anthropic`` package is not installed.
        MissingApiKeyError: ANTHROPIC_API_KEY is not set.
    """
    module = _import("anthropic", "strands.models.anthropic")
    if settings.anthropic_api_key is None:
        raise MissingApiKeyError(API_KEY_VARIABLES["anthropic"])
    import anthropic

    client_args: dict[str, Any] = {
        "api_key": settings.anthropic_api_key.get_secret_value(),
        "timeout": _timeout(settings),
        "max_retries": MAX_RETRIES,
        "http_client": anthropic.DefaultAsyncHttpxClient(verify=shared_tls_context(), event_hooks=RESPONSE_HOOKS),
    }
    if settings.anthropic_base_url:
        client_args["base_url"] = settings.anthropic_base_url
    logger.info("provider=<%s>, model_id=<%s> | building model", "anthropic", model_id)
    model: Model = module.AnthropicModel(
        client_args=client_args, model_id=model_id, max_tokens=settings.max_output_tokens
    )
    return model


@cache
def _openai_class() -> Callable[..., Model]:
    module = _import("openai", "strands.models.openai")

    import openai

    class ConverseUsageOpenAIModel(module.OpenAIModel):  # type: ignore[name-defined,misc]
        """strands ``OpenAIModel`` reporting input tokens without the cached ones (the ledger's convention).

        Each call's client gets an HTTP client over the shared TLS context (see the module docstring).
        """

        def _resolve_client_args(self) -> dict[str, Any]:
            args: dict[str, Any] = dict(super()._resolve_client_args())
            args.setdefault(
                "http_client", openai.DefaultAsyncHttpxClient(verify=shared_tls_context(), event_hooks=RESPONSE_HOOKS)
            )
            return args

        def format_chunk(self, event: dict[str, Any], **kwargs: Any) -> StreamEvent:
            chunk: StreamEvent = super().format_chunk(event, **kwargs)
            return _uncached_input(chunk)

    return ConverseUsageOpenAIModel


def _uncached_input(chunk: StreamEvent) -> StreamEvent:
    """Subtract cache reads and writes from ``inputTokens`` of a metadata chunk (OpenAI includes them)."""
    usage: dict[str, Any] | None = chunk.get("metadata", {}).get("usage")  # type: ignore[assignment]
    if usage:
        cached = int(usage.get("cacheReadInputTokens", 0) or 0) + int(usage.get("cacheWriteInputTokens", 0) or 0)
        usage["inputTokens"] = max(0, int(usage.get("inputTokens", 0) or 0) - cached)
    return chunk


def build_openai(model_id: str, settings: Settings) -> Model:
    """Build an OpenAI (or OpenAI-compatible server's) chat model (Chat Completions, streamed).

    With OPENAI_BASE_URL on loopback or a private network the key is optional (a placeholder is
    sent) and the model is priced $0 as a local model. The output limit goes out as
    ``max_completion_tokens`` to OpenAI itself and as ``max_tokens`` to any other server (what
    vLLM, LM Studio and llama.cpp all accept).

    Args:
        model_id: Model id, e.g. ``gpt-4o-mini`` (or whatever the compatible server serves).
        settings: Application settings (OPENAI_API_KEY, OPENAI_BASE_URL, timeouts, output limit).

    Returns:
        A strands ``OpenAIModel`` (subclass normalising usage).

    Raises:
        ProviderPackageError: The ``openai`` package is not installed.
        MissingApiKeyError: OPENAI_API_KEY is not set and the base URL is not local.
    """
    cls = _openai_class()
    local = is_local_provider("openai", settings)
    if settings.openai_api_key is not None:
        api_key = settings.openai_api_key.get_secret_value()
    elif local:
        api_key = NO_KEY_PLACEHOLDER
    else:
        raise MissingApiKeyError(API_KEY_VARIABLES["openai"])
    client_args: dict[str, Any] = {"api_key": api_key, "timeout": _timeout(settings), "max_retries": MAX_RETRIES}
    limit_param = "max_completion_tokens"
    if settings.openai_base_url:
        client_args["base_url"] = settings.openai_base_url
        limit_param = "max_tokens"
    if local:
        mark_local_model(model_id, "openai")
    logger.info("provider=<%s>, model_id=<%s>, local=<%s> | building model", "openai", model_id, local)
    model: Model = cls(client_args=client_args, model_id=model_id, params={limit_param: settings.max_output_tokens})
    return model


@cache
def _ollama_class() -> Callable[..., Model]:
    module = _import("ollama", "strands.models.ollama")
    from strands.types.exceptions import ModelThrottledException

    class CountingOllamaModel(module.OllamaModel):  # type: ignore[name-defined,misc]
        """strands ``OllamaModel`` that counts a missing ``prompt_eval_count`` (a cached prompt) as 0,
        reports a 429 (a busy server or a hosted Ollama's rate limit) as strands' throttling, so
        strands waits and retries as it does for the other providers, and says the message is
        complete (``messageStop``) only when Ollama sent its ``done`` line: strands reports a
        stream cut mid-answer as an ordinary "end_turn", which would store half an answer."""

        async def stream(self, *args: Any, **kwargs: Any) -> AsyncGenerator[StreamEvent, None]:
            held: StreamEvent | None = None  # the messageStop, until the last line shows it was "done"
            try:
                async for event in super().stream(*args, **kwargs):
                    if "messageStop" in event:
                        held = event
                        continue
                    metadata: dict[str, Any] = event.get("metadata", {})  # type: ignore[assignment]
                    done = metadata.pop(_OLLAMA_DONE, False)
                    if held is not None and done:
                        yield held
                    held = None
                    yield event
            except module.ollama.ResponseError as error:
                if getattr(error, "status_code", None) == 429:
                    raise ModelThrottledException(str(error)) from error
                raise
            if held is not None:
                logger.warning("provider=<ollama> | the stream ended without its done line: answer cut off")

        def format_chunk(self, event: dict[str, Any]) -> StreamEvent:
            if event.get("chunk_type") == "metadata":
                data = event["data"]
                prompt = int(getattr(data, "prompt_eval_count", 0) or 0)
                output = int(getattr(data, "eval_count", 0) or 0)
                duration = int(getattr(data, "total_duration", 0) or 0)
                metadata: dict[str, Any] = {
                    "usage": {"inputTokens": prompt, "outputTokens": output, "totalTokens": prompt + output},
                    "metrics": {"latencyMs": duration // 1_000_000},
                    _OLLAMA_DONE: bool(getattr(data, "done", False)),
                }
                return cast("StreamEvent", {"metadata": metadata})
            chunk: StreamEvent = super().format_chunk(event)
            return chunk

    return CountingOllamaModel


def build_ollama(model_id: str, settings: Settings) -> Model:
    """Build an Ollama model (``/api/chat``, streamed); always local ($0).

    Args:
        model_id: Ollama model tag, e.g. ``llama3.2`` or ``qwen2.5:7b``.
        settings: Application settings (OLLAMA_HOST, timeouts, output limit).

    Returns:
        A strands ``OllamaModel`` (subclass tolerating a missing prompt count).

    Raises:
        ProviderPackageError: The ``ollama`` package is not installed.
    """
    cls = _ollama_class()
    mark_local_model(model_id, "ollama")
    logger.info("provider=<%s>, model_id=<%s> | building model", "ollama", model_id)
    model: Model = cls(
        settings.ollama_host,
        ollama_client_args={"timeout": _timeout(settings), "verify": shared_tls_context()},
        model_id=model_id,
        max_tokens=settings.max_output_tokens,
    )
    return model


__all__ = [
    "API_KEY_VARIABLES",
    "MissingApiKeyError",
    "ProviderPackageError",
    "ProviderSetupError",
    "build_anthropic",
    "build_ollama",
    "build_openai",
    "check_model_servers",
    "is_local_provider",
    "note_local_models",
]
