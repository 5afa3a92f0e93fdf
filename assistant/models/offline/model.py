"""The offline demo model: a deterministic, scripted strands ``Model`` that needs no network."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterable, Iterator
from typing import Any, TypedDict, TypeVar

from pydantic import BaseModel
from strands.models import Model
from strands.types.content import Messages, SystemContentBlock
from strands.types.event_loop import StopReason
from strands.types.streaming import StreamEvent
from strands.types.tools import ToolChoice, ToolSpec
from typing_extensions import Unpack

from assistant.models.offline.composing import compose_answer
from assistant.models.offline.deciding import ToolCall, detect_intents, lead_text, plan_tool_calls
from assistant.models.offline.reading import read_context
from assistant.models.offline.usage import estimate_input_tokens, estimate_output_tokens

# The package's name, as before it was split into modules, so its log lines keep their logger name.
logger = logging.getLogger("assistant.models.offline")

T = TypeVar("T", bound=BaseModel)


class OfflineConfig(TypedDict, total=False):
    """Configuration of :class:`OfflineModel`.

    Attributes:
        model_id: Identifier reported to the usage ledger ("demo").
        chunk_delay_s: Pause before each streamed text chunk, in seconds.
        first_token_delay_s: Pause before the first event, in seconds.
        words_per_chunk: Number of words per streamed text chunk.
    """

    model_id: str
    chunk_delay_s: float
    first_token_delay_s: float
    words_per_chunk: int


class OfflineModel(Model):
    """Deterministic scripted model implementing strands' :class:`~strands.models.Model`.

    See the package docstring (:mod:`assistant.models.offline`) for the intent rules. Token
    usage is estimated at one token per four characters.
    """

    def __init__(
        self,
        *,
        model_id: str = "demo",
        chunk_delay_s: float = 0.0,
        first_token_delay_s: float = 0.0,
        words_per_chunk: int = 3,
    ) -> None:
        """Create the model.

        Args:
            model_id: Identifier reported to the usage ledger.
            chunk_delay_s: Pause before each streamed text chunk so the UI streams visibly.
            first_token_delay_s: Pause before the first event (simulated time to first token).
            words_per_chunk: Number of words per streamed text chunk.
        """
        self.config: OfflineConfig = {
            "model_id": model_id,
            "chunk_delay_s": chunk_delay_s,
            "first_token_delay_s": first_token_delay_s,
            "words_per_chunk": max(1, words_per_chunk),
        }

    def update_config(self, **model_config: Unpack[OfflineConfig]) -> None:  # type: ignore[override]
        """Update the configuration.

        Args:
            **model_config: Fields of :class:`OfflineConfig` to change.
        """
        self.config.update(model_config)

    def get_config(self) -> OfflineConfig:
        """Return the configuration.

        Returns:
            The current :class:`OfflineConfig`.
        """
        return self.config

    async def structured_output(
        self, output_model: type[T], prompt: Messages, system_prompt: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[dict[str, T | Any], None]:
        """Not supported by the offline demo model.

        Args:
            output_model: The requested output model.
            prompt: The prompt messages.
            system_prompt: The system prompt.
            **kwargs: Ignored.

        Raises:
            NotImplementedError: Always; use a ``bedrock:`` model for structured output.
        """
        raise NotImplementedError(
            f"the offline demo model cannot produce structured output ({output_model.__name__}); "
            "use a bedrock:<model_id> model for structured output"
        )
        yield {}  # pragma: no cover - makes this an async generator

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
        """Stream one scripted response: tool calls, or a text answer built from tool results.

        Args:
            messages: The conversation so far.
            tool_specs: Tools the agent offers; only these are ever called.
            system_prompt: System prompt (counted for usage; today's date is read from it).
            tool_choice: Ignored.
            system_prompt_content: System prompt blocks (only counted for usage).
            invocation_state: Ignored.
            cancel_signal: When set, streaming stops early with stop reason "cancelled".
            **kwargs: Ignored.

        Yields:
            strands stream events ending with ``messageStop`` and ``metadata``.
        """
        started = time.monotonic()
        model_id = self.config.get("model_id", "demo")
        context = read_context(messages, tool_specs, system_prompt)
        calls = plan_tool_calls(context)
        text = lead_text(calls, recall=detect_intents(context).recall) if calls else compose_answer(context)
        output_chars = len(text)

        first_delay = float(self.config.get("first_token_delay_s", 0.0))
        if first_delay > 0:
            await asyncio.sleep(first_delay)
        yield {"messageStart": {"role": "assistant"}}

        index = 0
        cancelled = False
        if text:
            yield {"contentBlockStart": {"contentBlockIndex": index, "start": {}}}
            async for chunk in self._chunks(text):
                if cancel_signal is not None and cancel_signal.is_set():
                    cancelled = True
                    break
                yield {"contentBlockDelta": {"contentBlockIndex": index, "delta": {"text": chunk}}}
            yield {"contentBlockStop": {"contentBlockIndex": index}}
            index += 1

        if not cancelled:
            for event in _tool_use_events(calls, index, len(messages), model_id):
                yield event
            output_chars += sum(len(call.name) + len(json.dumps(call.input, sort_keys=True)) for call in calls)

        stop_reason: StopReason = "cancelled" if cancelled else ("tool_use" if calls else "end_turn")
        yield {"messageStop": {"stopReason": stop_reason}}

        input_tokens = estimate_input_tokens(messages, tool_specs, system_prompt, system_prompt_content)
        output_tokens = estimate_output_tokens(output_chars)
        yield {
            "metadata": {
                "usage": {
                    "inputTokens": input_tokens,
                    "outputTokens": output_tokens,
                    "totalTokens": input_tokens + output_tokens,
                },
                "metrics": {"latencyMs": int((time.monotonic() - started) * 1000)},
            }
        }
        logger.debug(
            "model_id=<%s>, stop_reason=<%s>, input_tokens=<%s>, output_tokens=<%s> | offline model answered",
            model_id,
            stop_reason,
            input_tokens,
            output_tokens,
        )

    async def _chunks(self, text: str) -> AsyncGenerator[str, None]:
        delay = float(self.config.get("chunk_delay_s", 0.0))
        for chunk in split_chunks(text, int(self.config.get("words_per_chunk", 3))):
            if delay > 0:
                await asyncio.sleep(delay)
            yield chunk


def split_chunks(text: str, words_per_chunk: int = 3) -> list[str]:
    """Split text into chunks of a few words, keeping all whitespace so they join back exactly.

    Args:
        text: The text to split.
        words_per_chunk: Words per chunk (at least 1).

    Returns:
        The chunks; ``"".join(chunks) == text``.
    """
    pieces = re.findall(r"\s*\S+\s*", text) or ([text] if text else [])
    size = max(1, words_per_chunk)
    chunks = ["".join(pieces[i : i + size]) for i in range(0, len(pieces), size)]
    if chunks and "".join(chunks) != text:  # leading whitespace-only text; keep it exact
        return [text]
    return chunks


def _tool_use_events(
    calls: list[ToolCall], first_index: int, message_count: int, model_id: str
) -> Iterator[StreamEvent]:
    """The content blocks of the tool calls, numbered from ``first_index``.

    Tool use ids are ``tooluse_offline_<message count>_<position>``: the same conversation
    gets the same ids.
    """
    for position, call in enumerate(calls):
        index = first_index + position
        tool_use_id = f"tooluse_offline_{message_count}_{position}"
        payload = json.dumps(call.input, sort_keys=True)
        logger.debug("model_id=<%s>, tool=<%s> | offline model calling tool", model_id, call.name)
        yield {
            "contentBlockStart": {
                "contentBlockIndex": index,
                "start": {"toolUse": {"name": call.name, "toolUseId": tool_use_id}},
            }
        }
        yield {"contentBlockDelta": {"contentBlockIndex": index, "delta": {"toolUse": {"input": payload}}}}
        yield {"contentBlockStop": {"contentBlockIndex": index}}
