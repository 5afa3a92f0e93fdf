"""Fault injection: wrap a model so its first calls fail the way real providers fail.

Used locally (``MODEL_PROVIDER=faulty:throttle`` or ``FAULT_INJECTION=throttle``) and in
tests to exercise the UI's error messages, Retry and Stop. Spec strings:

- ``throttle`` - strands ``ModelThrottledException`` (from a ``ThrottlingException`` ClientError)
- ``timeout`` / ``timeout:2`` - botocore ``ReadTimeoutError`` after the given delay (default 1s)
- ``access_denied`` - botocore ``ClientError`` with code ``AccessDeniedException``
- ``network`` - botocore ``EndpointConnectionError``
- ``unavailable`` - botocore ``ClientError`` with code ``ServiceUnavailableException``
- ``midstream`` / ``midstream:3`` - stream that many text chunks (default 3), then fail with an
  ``EventStreamError`` (``ModelStreamErrorException``)
- ``slow`` / ``slow:0.3`` - delegate, pausing before every event (default 0.3s); slows every
  call unless a count is given

Append ``*N`` to fail (or slow) the first N calls instead of one: ``throttle*2``, ``timeout:2*3``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import AsyncGenerator, AsyncIterable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError, EndpointConnectionError, EventStreamError, ReadTimeoutError
from pydantic import BaseModel
from strands.models import Model
from strands.types.content import Messages, SystemContentBlock
from strands.types.exceptions import ModelThrottledException
from strands.types.streaming import StreamEvent
from strands.types.tools import ToolChoice, ToolSpec

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

FAULT_MODES = ("throttle", "timeout", "access_denied", "network", "unavailable", "midstream", "slow")
_DEFAULT_ARG = {"timeout": 1.0, "midstream": 3.0, "slow": 0.3}
_SPEC = re.compile(r"^(?P<mode>[a-z_]+)(?::(?P<arg>\d+(?:\.\d+)?))?(?:\*(?P<times>\d+))?$")
_ENDPOINT = "https://bedrock-runtime.us-east-1.amazonaws.com/model/offline/converse-stream"


class FaultSpecError(ValueError):
    """A fault spec string is malformed or names an unknown mode."""


@dataclass(frozen=True)
class FaultSpec:
    """A parsed fault spec.

    Attributes:
        mode: One of :data:`FAULT_MODES`.
        times: How many calls fail (or are slowed); None for "slow" without a count means every call.
        arg: Mode parameter: delay in seconds (timeout, slow) or number of chunks (midstream).
    """

    mode: str
    times: int | None
    arg: float


def parse_fault_spec(spec: str) -> FaultSpec:
    """Parse a spec such as ``throttle``, ``throttle*2`` or ``timeout:2``.

    Args:
        spec: The spec string.

    Returns:
        The parsed :class:`FaultSpec`.

    Raises:
        FaultSpecError: When the spec is malformed or the mode is unknown.
    """
    match = _SPEC.match(spec.strip().lower())
    if not match:
        raise FaultSpecError(
            f"Invalid fault spec {spec!r}: expected '<mode>[:<number>][*<times>]', e.g. 'throttle*2' or 'timeout:2'"
        )
    mode = match.group("mode")
    if mode not in FAULT_MODES:
        raise FaultSpecError(f"Unknown fault mode {mode!r}; known modes: {', '.join(FAULT_MODES)}")
    times_text = match.group("times")
    times = int(times_text) if times_text is not None else (None if mode == "slow" else 1)
    arg_text = match.group("arg")
    arg = float(arg_text) if arg_text is not None else _DEFAULT_ARG.get(mode, 0.0)
    return FaultSpec(mode=mode, times=times, arg=arg)


def make_fault_error(mode: str, delay: float = 0.0) -> Exception:
    """Build the exception a real provider raises for a fault mode.

    Args:
        mode: One of :data:`FAULT_MODES` except "slow".
        delay: Not used for the error itself; kept for symmetry with the spec's argument.

    Returns:
        The exception to raise.
    """
    if mode == "throttle":
        cause = ClientError(
            {
                "Error": {
                    "Code": "ThrottlingException",
                    "Message": "Too many requests, please wait before trying again.",
                }
            },
            "ConverseStream",
        )
        error: Exception = ModelThrottledException(str(cause))
        error.__cause__ = cause
        return error
    if mode == "timeout":
        return ReadTimeoutError(endpoint_url=_ENDPOINT)
    if mode == "access_denied":
        return ClientError(
            {
                "Error": {
                    "Code": "AccessDeniedException",
                    "Message": "You don't have access to the model with the specified model ID.",
                }
            },
            "ConverseStream",
        )
    if mode == "network":
        return EndpointConnectionError(endpoint_url=_ENDPOINT)
    if mode == "unavailable":
        return ClientError(
            {"Error": {"Code": "ServiceUnavailableException", "Message": "Service is temporarily unavailable."}},
            "ConverseStream",
        )
    if mode == "midstream":
        return EventStreamError(
            {"Error": {"Code": "ModelStreamErrorException", "Message": "The model stream was interrupted."}},
            "ConverseStream",
        )
    raise FaultSpecError(f"fault mode {mode!r} does not raise an error")


class FaultInjectingModel(Model):
    """Wraps a model and fails its first calls with realistic provider errors.

    Calls are counted per instance; once ``times`` calls have failed (or been slowed), the
    wrapper delegates unchanged, so a Retry in the UI succeeds.
    """

    def __init__(self, inner: Model, fault: str | FaultSpec, times: int | None = None) -> None:
        """Create the wrapper.

        Args:
            inner: The model to delegate to.
            fault: A spec string (see the module docstring) or a parsed :class:`FaultSpec`.
            times: Overrides the spec's count of calls to fail; the spec's ``*N`` otherwise (default 1).

        Raises:
            FaultSpecError: When the spec is malformed.
        """
        spec = parse_fault_spec(fault) if isinstance(fault, str) else fault
        if times is not None:
            if times < 0:
                raise FaultSpecError(f"times must be >= 0, got {times}")
            spec = FaultSpec(mode=spec.mode, times=times, arg=spec.arg)
        self.inner = inner
        self.spec = spec
        self.calls = 0
        self.failures = 0

    @property
    def remaining_faults(self) -> int | None:
        """Calls still to fail (or slow); None when every call is affected."""
        if self.spec.times is None:
            return None
        return max(0, self.spec.times - self.calls)

    def update_config(self, **model_config: Any) -> None:
        """Update the wrapped model's configuration.

        Args:
            **model_config: Configuration overrides passed to the inner model.
        """
        self.inner.update_config(**model_config)

    def get_config(self) -> Any:
        """Return the wrapped model's configuration.

        Returns:
            The inner model's configuration.
        """
        return self.inner.get_config()

    def structured_output(
        self, output_model: type[T], prompt: Messages, system_prompt: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[dict[str, T | Any], None]:
        """Delegate structured output to the wrapped model (no faults injected).

        Args:
            output_model: The output model.
            prompt: The prompt messages.
            system_prompt: The system prompt.
            **kwargs: Passed through.

        Returns:
            The inner model's event generator.
        """
        return self.inner.structured_output(output_model, prompt, system_prompt=system_prompt, **kwargs)

    async def stream(
        self,
        messages: Messages,
        tool_specs: list[ToolSpec] | None = None,
        system_prompt: str | None = None,
        *,
        tool_choice: ToolChoice | None = None,
        system_prompt_content: list[SystemContentBlock] | None = None,
        invocation_state: dict[str, Any] | None = None,
        cancel_signal: threading.Event | None = None,
        **kwargs: Any,
    ) -> AsyncIterable[StreamEvent]:
        """Stream from the wrapped model, injecting the configured fault on the first calls.

        Args:
            messages: The conversation.
            tool_specs: Available tools.
            system_prompt: The system prompt.
            tool_choice: Passed through.
            system_prompt_content: Passed through.
            invocation_state: Passed through.
            cancel_signal: Passed through.
            **kwargs: Passed through.

        Yields:
            The inner model's events, possibly delayed or cut short.

        Raises:
            Exception: The injected provider error while faults remain.
        """
        self.calls += 1
        spec = self.spec
        faulty = spec.times is None or self.calls <= spec.times
        inner_events = self.inner.stream(
            messages,
            tool_specs,
            system_prompt,
            tool_choice=tool_choice,
            system_prompt_content=system_prompt_content,
            invocation_state=invocation_state,
            cancel_signal=cancel_signal,
            **kwargs,
        )
        if not faulty:
            async for event in inner_events:
                yield event
            return

        if spec.mode == "slow":
            async for event in inner_events:
                await asyncio.sleep(spec.arg)
                yield event
            return

        if spec.mode == "midstream":
            text_chunks = 0
            async for event in inner_events:
                if "messageStop" in event or text_chunks >= spec.arg:
                    break
                if "text" in event.get("contentBlockDelta", {}).get("delta", {}):
                    text_chunks += 1
                yield event
            self._log_fault()
            raise make_fault_error("midstream")

        if spec.mode == "timeout" and spec.arg > 0:
            await asyncio.sleep(spec.arg)
        self._log_fault()
        raise make_fault_error(spec.mode)

    def _log_fault(self) -> None:
        self.failures += 1
        logger.debug(
            "fault=<%s>, call=<%s>, times=<%s> | injecting model fault", self.spec.mode, self.calls, self.spec.times
        )
