"""A tool's error as a person reads it (strands' and pydantic's words for refused arguments)."""

from __future__ import annotations

import re

# strands' words for arguments its tool schema refused, then pydantic's report: a line per field,
# then "  What is wrong [type=..., input_value=..., input_type=...]" and a link to pydantic's docs.
_INPUT_REFUSED = "Validation failed for input parameters: "
_FIELD_ERROR = re.compile(r"^(\w[^\n]*)\n  ([^\n]+?)(?: \[type=[^\n]*)?$", re.M)


def readable_tool_error(text: str) -> str:
    """The text of a tool's error result without strands' "Error: " and, for refused arguments,
    pydantic's report as one line: "Input refused: response: String should have at most 4000
    characters" (without the argument's value, which a long note repeated, and pydantic's links).

    Args:
        text: The error result's text, as strands wrote it.

    Returns:
        What to show the user.
    """
    text = text.strip()
    if text.startswith("Error: "):
        text = text[len("Error: ") :]
    if not text.startswith(_INPUT_REFUSED):
        return text
    report = text[len(_INPUT_REFUSED) :]
    problems = [f"{field}: {what}" for field, what in _FIELD_ERROR.findall(report) if "validation error" not in field]
    return "Input refused: " + ("; ".join(problems) if problems else report.splitlines()[0])
