"""The offline model's answer composed from this turn's tool results: help when nothing was
asked for, a failed tool step in one readable line, other people's text (calendar titles, agenda
items) quoted as typed, saved notes counted, agendas drawn from items. (The tools strip control
characters from calendar and user text before it reaches the model: tests/context/.)"""

from __future__ import annotations

from assistant.models.offline.composing import compose_answer
from assistant.models.offline.names import AGENDA_TOOL, BUDGET_TOOL, MEETINGS_TOOL, ROCKS_TOOL, SAVE_TOOL
from assistant.models.offline.reading import read_context
from tests.models.offline.conversation import SPECS, turn, user


def test_a_question_no_tool_answers_gets_the_help_and_a_missing_tool_says_so() -> None:
    help_text = compose_answer(read_context([user("\x00\x07 \u202e hello")], SPECS))
    assert help_text.startswith("I can help you get ready for your meetings. Try asking me to:")
    missing = compose_answer(read_context([user("What meetings do I have?")], SPECS))
    assert missing.startswith("I couldn't find the tools I need for that right now. I can help you")


def test_a_failed_tool_step_is_one_readable_line() -> None:
    error = (
        "Error: Validation failed for input parameters: 1 validation error for Input\narea\n"
        "  String should have at most 200 characters [type=string_too_long, input_value='xxxx', input_type=str]\n"
        "    For further information visit https://errors.pydantic.dev"
    )
    answer = compose_answer(read_context(turn("How is the budget?", BUDGET_TOOL, error, status="error"), SPECS))
    assert answer.startswith(f"I couldn't get that from `{BUDGET_TOOL}`: ")
    assert answer == (
        f"I couldn't get that from `{BUDGET_TOOL}`: Input refused: area: String should have at most 200 characters"
    )
    not_json = compose_answer(read_context(turn("How is the budget?", BUDGET_TOOL, "plain words"), SPECS))
    assert not_json == f"I couldn't get that from `{BUDGET_TOOL}`: plain words"


def test_a_calendar_title_is_quoted_as_typed_not_run_as_markdown() -> None:
    meetings = {
        "summary": "2 meetings in the *next* 7 days",
        "meetings": [
            {
                "id": "m1",
                "title": "Acme [QBR](https://evil.example) <script>alert(1)</script> **now**",
                "start": "2026-03-02T15:00:00+00:00",
                "end": "2026-03-02T16:00:00+00:00",
                "duration_minutes": 60,
                "attendees": [],
            },
            "not a meeting",
        ],
    }
    answer = compose_answer(read_context(turn("What meetings do I have?", MEETINGS_TOOL, meetings), SPECS))
    assert "Acme \\[QBR\\](https\\:\u200b//evil.example) \\<script\\>alert(1)\\</script\\> \\*\\*now\\*\\*" in answer
    assert r"in the \*next\* 7 days" in answer
    assert "Mon 2 Mar, 15:00-16:00 (60 min)" in answer


def test_a_saved_note_is_counted_in_the_singular_and_the_plural() -> None:
    one = turn(
        "Save a note: close the renewal", SAVE_TOOL, {"summary": "Saved your note", "total_notes_for_meeting": 1}
    )
    assert compose_answer(read_context(one, SPECS)) == "Saved your note. You now have 1 prep note for this meeting."
    three = turn("Save a note: close it", SAVE_TOOL, {"summary": "Saved", "total_notes_for_meeting": 3})
    assert compose_answer(read_context(three, SPECS)) == "Saved. You now have 3 prep notes for this meeting."


def test_an_agenda_without_its_markdown_is_drawn_from_its_items() -> None:
    items = [
        {"start": "10:00", "end": "10:15", "title": "Intro_<b>", "owner": "Dana *Ops*"},
        {"start": "10:15", "end": "11:00", "title": "Pricing"},
        "junk",
    ]
    agenda = turn("Prepare an agenda for the QBR", AGENDA_TOOL, {"summary": "Agenda for QBR", "items": items})
    assert compose_answer(read_context(agenda, SPECS)) == (
        "Agenda for QBR\n\n- 10:00-10:15 **Intro\\_\\<b\\>** (Dana \\*Ops\\*)\n- 10:15-11:00 **Pricing**"
    )


def test_big_rocks_read_as_prose_and_an_empty_summary_says_so() -> None:
    rocks = {"summary": "", "rocks": [{"name": "Launch", "status": "at_risk", "progress_pct": 62}]}
    answer = compose_answer(read_context(turn("How are my big rocks?", ROCKS_TOOL, rocks), SPECS))
    assert answer.startswith("**Big rocks status**\n\nNo summary available.")
    assert "- **Launch** - at risk, 62% done" in answer and "progress_pct" not in answer


def test_a_rock_saved_with_its_name_only_leaves_its_empty_fields_out() -> None:
    """A rock saved on My context with only its name read "on track, 0% done, summary ; owned by":
    the empty summary and owner were written as bare words."""
    rock = {"name": "Launch", "status": "on_track", "progress_pct": 0, "summary": "", "owner": " "}
    answer = compose_answer(read_context(turn("How are my big rocks?", ROCKS_TOOL, {"rocks": [rock]}), SPECS))
    assert "- **Launch** - on track, 0% done\n" in answer + "\n", answer
    assert "owned by" not in answer and "summary" not in answer.split("**Launch**")[1], answer
