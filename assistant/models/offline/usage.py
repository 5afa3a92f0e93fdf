"""Usage estimate: one token per four characters of what the model read and wrote."""

from __future__ import annotations

import json
import math

from strands.types.content import Messages, SystemContentBlock
from strands.types.tools import ToolSpec

from assistant.models.offline.reading import result_text


def estimate_input_tokens(
    messages: Messages,
    tool_specs: list[ToolSpec] | None,
    system_prompt: str | None,
    system_prompt_content: list[SystemContentBlock] | None,
) -> int:
    """Estimated input tokens of one call: one token per four characters, at least one.

    Args:
        messages: The conversation sent.
        tool_specs: The tool specs sent (counted as sorted JSON).
        system_prompt: The system prompt, counted when there are no system prompt blocks.
        system_prompt_content: The system prompt blocks.

    Returns:
        The estimate.
    """
    chars = 0
    if system_prompt_content:
        chars += sum(len(block.get("text", "")) for block in system_prompt_content)
    elif system_prompt:
        chars += len(system_prompt)
    for message in messages:
        for block in message.get("content", []):
            if "text" in block:
                chars += len(block["text"])
            if "toolUse" in block:
                chars += len(block["toolUse"].get("name", "")) + len(json.dumps(block["toolUse"].get("input", {})))
            if "toolResult" in block:
                chars += len(result_text(dict(block["toolResult"])))
    if tool_specs:
        chars += len(json.dumps(tool_specs, sort_keys=True, default=str))
    return max(1, math.ceil(chars / 4))


def estimate_output_tokens(output_chars: int) -> int:
    """Estimated output tokens: one token per four characters written, at least one.

    Args:
        output_chars: Characters of text plus tool names and JSON inputs.

    Returns:
        The estimate.
    """
    return max(1, math.ceil(output_chars / 4))
