"""The offline model's usage estimate, which the ledger and the footer show: one token per four
characters of what it read (system prompt, messages, tool calls and results, tool specs) and
wrote, never zero."""

from __future__ import annotations

import json

from assistant.models.offline.names import BUDGET_TOOL
from assistant.models.offline.usage import estimate_input_tokens, estimate_output_tokens
from tests.models.offline.conversation import SPECS, call, result, user


def test_every_part_of_the_input_is_counted_once_at_four_characters_a_token() -> None:
    question = user("x" * 40)  # 10 tokens
    assert estimate_input_tokens([question], None, None, None) == 10
    assert estimate_input_tokens([question], None, "p" * 20, None) == 15
    # system prompt blocks, when given, are what the model read: not the plain prompt as well
    assert estimate_input_tokens([question], None, "p" * 20, [{"text": "b" * 8}]) == 12
    step = [question, call(BUDGET_TOOL, {"area": "cloud"}), result({"summary": "ok"})]
    tool_chars = len(BUDGET_TOOL) + len(json.dumps({"area": "cloud"})) + len(json.dumps({"summary": "ok"}))
    assert estimate_input_tokens(step, None, None, None) == -(-(40 + tool_chars) // 4)
    with_specs = estimate_input_tokens(step, SPECS, None, None)
    assert with_specs - estimate_input_tokens(step, None, None, None) >= len(json.dumps(SPECS)) // 4 - 1


def test_an_empty_call_or_answer_still_costs_one_token_and_bytes_are_not_text() -> None:
    assert estimate_input_tokens([], None, None, None) == 1
    assert estimate_output_tokens(0) == 1 and estimate_output_tokens(9) == 3
    picture = {"role": "user", "content": [{"image": {"format": "png", "source": {"bytes": b"\x00" * 4000}}}]}
    assert estimate_input_tokens([user("hi"), picture], None, None, None) == 1  # type: ignore[list-item]
    assert estimate_input_tokens([user("é" * 8)], None, None, None) == 2  # characters, not UTF-8 bytes
