"""Map model-call exceptions (strands, botocore, asyncio) to what the user should be told.

The chat layer shows the sentence to the user and offers Retry only when the error is
retryable; the technical details belong in the log, never on screen.
"""

from __future__ import annotations

import asyncio
from typing import Literal

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

ErrorCategory = Literal[
    "throttled",
    "timeout",
    "access_denied",
    "network",
    "unavailable",
    "context_overflow",
    "output_limit",
    "cancelled",
    "model_error",
]

_THROTTLED = (
    "throttled",
    "The model service is busy right now (too many requests). Wait a few seconds, then press Retry.",
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
    "The assistant could not reach the model service. Check the network connection, then press Retry.",
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
_OVERFLOW_HINTS = ("too many input tokens", "input is too long", "context limit", "context window")


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


def _classify_one(exc: BaseException) -> tuple[str, str, bool] | None:
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
        "context_overflow", "output_limit", "cancelled" or "model_error"), a plain sentence
        saying what happened and what to do next, and whether offering Retry makes sense.
    """
    for candidate in _chain(exc):
        found = _classify_one(candidate)
        if found is not None:
            return found
    return _GENERIC
