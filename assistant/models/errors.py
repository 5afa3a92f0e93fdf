"""Map model-call exceptions (strands, botocore, Anthropic/OpenAI/Ollama SDKs, httpx, asyncio) to what users are told.

The chat layer shows the sentence to the user and offers Retry only when the error is
retryable; the technical details belong in the log, never on screen.

The SDKs are never imported here: an exception of theirs can only exist once its package is
loaded, so their classes are looked up in ``sys.modules``.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Literal

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from strands.types.exceptions import (
    ContextWindowOverflowException,
    EventLoopException,
    MaxTokensReachedException,
    ModelThrottledException,
)

from assistant.models.providers import (
    API_KEY_VARIABLES,
    MissingApiKeyError,
    ProviderPackageError,
    ProviderSetupError,
)

ErrorCategory = Literal[
    "throttled",
    "timeout",
    "access_denied",
    "network",
    "unavailable",
    "context_overflow",
    "output_limit",
    "cancelled",
    "model_not_found",
    "model_error",
]

_THROTTLED = (
    "throttled",
    "The model service is getting too many requests. Wait a few seconds, then press Retry.",
    True,
)
_TIMEOUT = (
    "timeout",
    "The model took too long to answer. Press Retry; if it keeps happening, ask a shorter question.",
    True,
)
_ACCESS_DENIED = (
    "access_denied",
    "The assistant is not allowed to use this model. Ask an administrator to check model access and credentials.",
    False,
)
_NETWORK = (
    "network",
    "The assistant's server could not reach the model service. Press Retry in a moment; if it keeps failing, "
    "start a new session with another model and tell an administrator.",
    True,
)
_UNAVAILABLE = (
    "unavailable",
    "The model service had a temporary problem. Press Retry in a moment.",
    True,
)
_CONTEXT_OVERFLOW = (
    "context_overflow",
    "This conversation is too long for the model. Start a new session; you can reopen this one to carry its context.",
    False,
)
_OUTPUT_LIMIT = (
    "output_limit",
    "The answer hit the model's length limit. Ask for a shorter answer or press Retry.",
    True,
)
_CANCELLED = ("cancelled", "The answer was stopped before it finished. Press Retry to ask again.", True)
_VALIDATION = (
    "model_error",
    "The model rejected the request. Try rephrasing or start a new session; if it persists, contact an administrator.",
    False,
)
_GENERIC = (
    "model_error",
    "Something went wrong while the model was answering. Press Retry; if it keeps failing, start a new session.",
    True,
)

_THROTTLE_CODES = {"ThrottlingException", "throttlingException", "TooManyRequestsException"}
_ACCESS_CODES = {
    "AccessDeniedException",
    "accessDeniedException",
    "UnrecognizedClientException",
    "ExpiredTokenException",
    "InvalidSignatureException",
    "UnauthorizedException",
}
_UNAVAILABLE_CODES = {
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "serviceUnavailableException",
    "InternalServerException",
    "internalServerException",
    "ModelNotReadyException",
    "ModelStreamErrorException",
    "modelStreamErrorException",
}
_TIMEOUT_CODES = {"ModelTimeoutException", "RequestTimeout", "RequestTimeoutException"}
_OVERFLOW_HINTS = (
    "too many input tokens",
    "input is too long",
    "context limit",
    "context window",
    "prompt is too long",
    "maximum context length",
    "context length",
    "context_length_exceeded",
)
_Classified = tuple[str, str, bool]


_ANOTHER_MODEL = "Start a new session with another model"
_WHERE_MODELS = "MODELS (or MODEL_PROVIDER)"


def _key_refused(provider: str, status: int) -> _Classified:
    variable = API_KEY_VARIABLES.get(provider)
    if variable is None:
        return (
            "access_denied",
            f"The model server refused the request as unauthorized. {_ANOTHER_MODEL}, and ask an administrator "
            f"to check the server's access settings or to stop offering this model in {_WHERE_MODELS}.",
            False,
        )
    if status == 401:
        return (
            "access_denied",
            f"The model provider refused the API key. {_ANOTHER_MODEL}, and ask an administrator to check "
            f"{variable} (environment or .streamlit/secrets.toml) and restart the app.",
            False,
        )
    return (
        "access_denied",
        f"The API key in {variable} is not allowed to use this model. {_ANOTHER_MODEL}, and ask an administrator "
        f"to check the account's model access or to stop offering this model in {_WHERE_MODELS}.",
        False,
    )


def _not_found(provider: str) -> _Classified:
    if provider == "ollama":
        return (
            "model_not_found",
            f"Ollama does not have this model. {_ANOTHER_MODEL}; an administrator can pull it "
            f"(ollama pull <model>) or correct its name in {_WHERE_MODELS}.",
            False,
        )
    server = " (and OPENAI_BASE_URL, the server it is asked of)" if provider == "openai" else ""
    return (
        "model_not_found",
        f"The model service does not know this model. {_ANOTHER_MODEL}; an administrator should check its id in "
        f"{_WHERE_MODELS}{server}.",
        False,
    )


def _sdk_class(module: str, name: str) -> type[BaseException] | None:
    loaded = sys.modules.get(module)
    found: Any = getattr(loaded, name, None) if loaded is not None else None
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


def _is(exc: BaseException, module: str, name: str) -> bool:
    cls = _sdk_class(module, name)
    return cls is not None and isinstance(exc, cls)


def _classify_status(provider: str, status: int, text: str) -> _Classified | None:
    """An HTTP status from a model API (Anthropic, OpenAI or compatible, Ollama) -> what to tell the user."""
    if status == 429:
        return _THROTTLED
    if status in (401, 403):
        return _key_refused(provider, status)
    if status == 404:
        return _not_found(provider)
    if status == 408:
        return _TIMEOUT
    if status == 413 or (status in (400, 422) and any(hint in text.lower() for hint in _OVERFLOW_HINTS)):
        return _CONTEXT_OVERFLOW
    if status >= 500:  # 500, 502, 503, 504, and Anthropic's 529 "overloaded"
        return _UNAVAILABLE
    if status in (400, 409, 422):
        return _VALIDATION
    return None


def _classify_sdk(exc: BaseException) -> _Classified | None:
    """Exceptions of the Anthropic, OpenAI and Ollama SDKs and of httpx (which all three use)."""
    for provider in ("anthropic", "openai"):
        # APITimeoutError subclasses APIConnectionError: checked first.
        if _is(exc, provider, "APITimeoutError"):
            return _TIMEOUT
        if _is(exc, provider, "APIConnectionError"):
            return _NETWORK
        if _is(exc, provider, "APIStatusError"):
            return _classify_status(provider, int(getattr(exc, "status_code", 0) or 0), str(exc))
    if _is(exc, "ollama", "ResponseError"):
        return _classify_status("ollama", int(getattr(exc, "status_code", 0) or 0), str(exc))
    if _is(exc, "httpx", "TimeoutException"):
        return _TIMEOUT
    if _is(exc, "httpx", "TransportError"):
        return _NETWORK
    return None


def _classify_setup(exc: ProviderSetupError) -> _Classified:
    if isinstance(exc, MissingApiKeyError):
        return ("access_denied", f"The model provider needs an API key. {exc}", False)
    if isinstance(exc, ProviderPackageError):
        return ("model_error", f"The assistant cannot use this model here. {exc}", False)
    return ("model_error", str(exc), False)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception followed by what it wraps (EventLoopException, ``__cause__``, ``__context__``)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen) and len(seen) < 10:
        seen.append(current)
        if isinstance(current, EventLoopException):
            current = current.original_exception
        else:
            current = current.__cause__ or current.__context__
    return seen


def root_cause(exc: BaseException) -> BaseException:
    """The innermost exception ``exc`` wraps (for the log: an SDK's "Connection error." hides "Connection refused")."""
    return _chain(exc)[-1]


def _classify_one(exc: BaseException) -> tuple[str, str, bool] | None:
    if isinstance(exc, ProviderSetupError):
        return _classify_setup(exc)
    if isinstance(exc, ModelThrottledException):
        return _THROTTLED
    if isinstance(exc, ContextWindowOverflowException):
        return _CONTEXT_OVERFLOW
    if isinstance(exc, MaxTokensReachedException):
        return _OUTPUT_LIMIT
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _THROTTLE_CODES:
            return _THROTTLED
        if code in _ACCESS_CODES:
            return _ACCESS_DENIED
        if code in _UNAVAILABLE_CODES:
            return _UNAVAILABLE
        if code in _TIMEOUT_CODES:
            return _TIMEOUT
        if code in {"ValidationException", "validationException"}:
            if any(hint in str(exc).lower() for hint in _OVERFLOW_HINTS):
                return _CONTEXT_OVERFLOW
            return _VALIDATION
        return None
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError, NoRegionError)):
        return _ACCESS_DENIED
    sdk = _classify_sdk(exc)
    if sdk is not None:
        return sdk
    # ReadTimeoutError and ConnectTimeoutError before the generic connection errors they subclass.
    if isinstance(exc, (ReadTimeoutError, ConnectTimeoutError, asyncio.TimeoutError, TimeoutError)):
        return _TIMEOUT
    if isinstance(exc, (EndpointConnectionError, ConnectionClosedError, BotoConnectionError, ConnectionError)):
        return _NETWORK
    if isinstance(exc, asyncio.CancelledError):
        return _CANCELLED
    return None


def error_category(exc: BaseException) -> tuple[str, str, bool]:
    """Classify a model-call failure for the user.

    Wrapped exceptions (strands ``EventLoopException``, ``raise ... from e``) are unwrapped,
    so a ``ModelThrottledException`` raised from a botocore ``ClientError`` is "throttled".

    Args:
        exc: The exception raised while calling the model or streaming the agent.

    Returns:
        ``(category, message, retryable)``: a category from :data:`ErrorCategory`
        ("throttled", "timeout", "access_denied", "network", "unavailable",
        "context_overflow", "output_limit", "cancelled", "model_not_found" or "model_error"), a
        plain sentence
        saying what happened and what to do next, and whether offering Retry makes sense.
    """
    for candidate in _chain(exc):
        found = _classify_one(candidate)
        if found is not None:
            return found
    return _GENERIC
