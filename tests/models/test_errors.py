"""error_category maps provider exceptions to a category, a user sentence and a retry flag."""

from __future__ import annotations

import asyncio

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from strands.types.exceptions import (
    ContextWindowOverflowException,
    EventLoopException,
    MaxTokensReachedException,
    ModelThrottledException,
)

from assistant.models.errors import error_category


def client_error(code: str, message: str = "boom") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "ConverseStream")


@pytest.mark.parametrize(
    ("exc", "category", "retryable"),
    [
        (ModelThrottledException("slow down"), "throttled", True),
        (client_error("ThrottlingException"), "throttled", True),
        (client_error("AccessDeniedException"), "access_denied", False),
        (client_error("ValidationException"), "model_error", False),
        (client_error("ValidationException", "Input is too long for requested model."), "context_overflow", False),
        (client_error("ServiceUnavailableException"), "unavailable", True),
        (client_error("ServiceUnavailable"), "unavailable", True),
        (client_error("InternalServerException"), "unavailable", True),
        (EndpointConnectionError(endpoint_url="https://x"), "network", True),
        (ConnectionResetError("reset"), "network", True),
        (ReadTimeoutError(endpoint_url="https://x"), "timeout", True),
        (ConnectTimeoutError(endpoint_url="https://x"), "timeout", True),
        (TimeoutError(), "timeout", True),
        (NoCredentialsError(), "access_denied", False),
        (ContextWindowOverflowException("too long"), "context_overflow", False),
        (MaxTokensReachedException("limit"), "output_limit", True),
        (asyncio.CancelledError(), "cancelled", True),
        (ValueError("weird"), "model_error", True),
        (client_error("SomethingNew"), "model_error", True),
    ],
)
def test_error_category(exc: BaseException, category: str, retryable: bool) -> None:
    got_category, message, got_retryable = error_category(exc)
    assert (got_category, got_retryable) == (category, retryable)
    assert message.endswith(".")
    assert "Exception" not in message


def test_unwraps_event_loop_and_cause() -> None:
    inner = client_error("AccessDeniedException")
    wrapped = EventLoopException(inner)
    assert error_category(wrapped)[0] == "access_denied"
    try:
        try:
            raise inner
        except ClientError as e:
            raise RuntimeError("agent failed") from e
    except RuntimeError as outer:
        assert error_category(outer)[0] == "access_denied"
