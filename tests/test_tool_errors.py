"""A tool's error as the user reads it in the tool step and the offline answer."""

from __future__ import annotations

from assistant.tool_errors import readable_tool_error

REPORT = (
    "Error: Validation failed for input parameters: 2 validation errors for Save_prep_responseTool\n"
    "meeting_id\n"
    "  String should match pattern '^[a-z0-9-]+$' [type=string_pattern_mismatch, input_value='../x', "
    "input_type=str]\n"
    "    For further information visit https://errors.pydantic.dev/2.14/v/string_pattern_mismatch\n"
    "response\n"
    "  String should have at most 4000 characters [type=string_too_long, input_value='rrrrrrrr...rrrrrrr', "
    "input_type=str]\n"
    "    For further information visit https://errors.pydantic.dev/2.14/v/string_too_long"
)


def test_refused_arguments_are_one_line_without_values_or_links() -> None:
    assert readable_tool_error(REPORT) == (
        "Input refused: meeting_id: String should match pattern '^[a-z0-9-]+$'; "
        "response: String should have at most 4000 characters"
    )


def test_other_errors_lose_only_the_error_prefix() -> None:
    assert readable_tool_error("Error: No meeting with id 'nope'. ") == "No meeting with id 'nope'."
    assert readable_tool_error("a plain result") == "a plain result"
    # a report in a shape not recognised keeps its first line rather than nothing
    assert readable_tool_error("Error: Validation failed for input parameters: odd\nmore") == "Input refused: odd"
