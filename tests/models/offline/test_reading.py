"""What the offline model reads of a conversation: the user's latest words (not a tool result's),
this turn's tool results with the calls that asked for them, the answer before, today's date from
the system prompt, and every meeting list seen; odd blocks (bytes, text that is not JSON, inputs
that are not objects) read without failing."""

from __future__ import annotations

from datetime import date

from assistant.models.offline.names import BUDGET_TOOL, MEETINGS_TOOL
from assistant.models.offline.reading import read_context, result_text
from tests.models.offline.conversation import SPECS, assistant, call, result, turn, user


def test_the_latest_question_and_only_this_turns_results_are_read() -> None:
    first = turn("What meetings do I have?", MEETINGS_TOOL, {"meetings": [{"id": "m1", "title": "QBR"}, "junk", 5]})
    messages = [*first, assistant("You have the QBR."), user("  And my budget?  "), call(BUDGET_TOOL, {}, "t2")]
    messages.append(result({"summary": "On plan"}, "t2"))
    context = read_context(messages, SPECS, "You are the coordinator. Today is Monday 02 March 2026.")
    assert context.user_text == "And my budget?"
    assert [(o.name, o.ok, o.data) for o in context.turn_outcomes] == [(BUDGET_TOOL, True, {"summary": "On plan"})]
    assert context.previous_answer == "You have the QBR."
    assert context.rounds == 1
    assert context.all_meeting_lists == [[{"id": "m1", "title": "QBR"}]]  # what is not a meeting is left out
    assert context.today == date(2026, 3, 2) and context.available == {s["name"] for s in SPECS}


def test_a_result_that_failed_or_is_not_a_json_object_is_not_ok_and_keeps_its_text() -> None:
    for answer, status in [
        ("Error: the calendar is down", "error"),
        ("plain words", "success"),
        ('["a list"]', "success"),
    ]:
        [outcome] = read_context(turn("Budget?", BUDGET_TOOL, answer, status=status), SPECS).turn_outcomes
        assert (outcome.name, outcome.ok, outcome.data, outcome.text) == (BUDGET_TOOL, False, None, answer)


def test_a_result_whose_call_is_not_in_the_conversation_and_an_input_that_is_not_an_object() -> None:
    messages = [user("hi"), call(BUDGET_TOOL, "not an object"), result({"summary": "x"}, "unknown-id")]
    [outcome] = read_context(messages, None).turn_outcomes
    assert (outcome.name, outcome.input) == ("", {})
    [named] = read_context([user("hi"), call(BUDGET_TOOL, "not an object"), result({"a": 1})], None).turn_outcomes
    assert (named.name, named.input) == (BUDGET_TOOL, {})


def test_a_results_text_keeps_its_text_and_json_and_skips_bytes() -> None:
    blocks = [
        {"image": {"format": "png", "source": {"bytes": b"\x89PNG\r\n\x1a\n"}}},
        {"text": "line \x07one"},
        {"json": {"é": "ü", "n": 1}},
    ]
    assert result_text({"toolUseId": "t", "content": blocks}) == 'line \x07one\n{"\\u00e9": "\\u00fc", "n": 1}'
    assert result_text({"toolUseId": "t", "content": None}) == ""


def test_no_date_is_read_from_a_prompt_without_one_or_with_an_impossible_one() -> None:
    for prompt in (None, "", "Today is Funday 31 February 2026.", "Today is Monday 31 February 2026."):
        assert read_context([user("hi")], SPECS, prompt).today is None
