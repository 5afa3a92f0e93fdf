"""The names the offline model shares with the Meeting Coordinator: each tool it calls by name is
one the agent is given, and the prep questions heading it writes is the one it reads back."""

from __future__ import annotations

from assistant.models.offline import names
from assistant.models.offline.composing import compose_answer
from assistant.models.offline.deciding import detect_intents
from assistant.models.offline.reading import read_context
from assistant.tools import ToolDeps, build_tools
from tests.models.offline.conversation import SPECS, assistant, turn, user


def test_every_tool_the_offline_model_calls_is_one_the_agent_has(deps: ToolDeps) -> None:
    """A renamed tool left the offline model calling one that does not exist: every demo answer failed."""
    offered = {t.tool_name for t in build_tools(deps)}
    called = {names.MEETINGS_TOOL, names.SAVE_TOOL, names.AGENDA_TOOL, names.BUDGET_TOOL, names.ROCKS_TOOL}
    assert called == offered


def test_a_reply_to_the_prep_questions_the_model_wrote_is_saved_as_a_note() -> None:
    """The heading is written by composing and looked for by deciding: a reply to the questions
    ("We need the renewal signed this quarter") is a note to save only while both use the same words."""
    meeting = {"id": "m1", "title": "Acme QBR", "start": "2026-03-02T15:00:00+00:00", "attendees": []}
    agenda = turn("Prepare me for the Acme QBR", names.AGENDA_TOOL, {"summary": "Agenda", "meeting": meeting})
    answer = compose_answer(read_context(agenda, SPECS))
    assert f"**{names.PREP_QUESTIONS_HEADING} Acme QBR:**" in answer
    reply = [*agenda, assistant(answer), user("We need the renewal signed this quarter")]
    assert detect_intents(read_context(reply, SPECS)).save
    other = [*agenda, assistant(answer.replace(names.PREP_QUESTIONS_HEADING, "Questions about")), reply[-1]]
    assert not detect_intents(read_context(other, SPECS)).save
