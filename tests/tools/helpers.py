"""Helpers to read strands tool results in tests."""

from __future__ import annotations

import json
from typing import Any


def ok(result: Any) -> dict[str, Any]:
    """The JSON payload of a successful tool result."""
    assert result["status"] == "success", result
    payload: dict[str, Any] = json.loads(result["content"][0]["text"])
    return payload


def error_text(result: Any) -> str:
    """The text of an error tool result."""
    assert result["status"] == "error", result
    text: str = result["content"][0]["text"]
    return text
