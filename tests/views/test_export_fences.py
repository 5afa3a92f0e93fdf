"""A code fence left open in one turn (a pasted snippet, an answer stopped mid code block) must
not swallow the rest of the Markdown export: every later turn opened as one grey code block in
a viewer (CommonMark runs an unclosed fence to the end of the document)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine

from assistant.views.export import session_to_markdown
from tests.fixtures.chat import make_service

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def lines_outside_code(md: str) -> list[str]:
    """The lines a CommonMark viewer shows as text (not inside a top-level fenced code block)."""
    shown: list[str] = []
    fence: str | None = None
    for line in md.splitlines():
        m = _FENCE.match(line)
        if fence is None:
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                fence = m.group(1)
            else:
                shown.append(line)
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip():
            fence = None
    return shown


@pytest.mark.parametrize(
    "pasted",
    [
        "Here is the log from the budget export:\n```\nERROR row 12 rejected",
        "Here is the log from the budget export:\n~~~~text\nERROR row 12 rejected\n~~~",  # shorter: no close
        "Here is the log from the budget export:\n````python\nERROR row 12 rejected\n```",  # shorter: no close
    ],
)
def test_an_unclosed_fence_in_one_turn_leaves_the_next_turns_readable(sqlite_engine: Engine, pasted: str) -> None:
    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    service.run_turn(meta.id, "u1", pasted)
    service.run_turn(meta.id, "u1", "What's the budget for marketing?")
    doc = service.open_session(meta.id, "u1")
    md = session_to_markdown(doc)
    shown = lines_outside_code(md)
    assert "## Turn 2" in "\n".join(shown), "the second turn is a heading, not code"
    assert "What's the budget for marketing?" in shown
    assert any(line.startswith("*") and "tokens" in line for line in shown[-3:]), "the last footer is text"
    assert "ERROR row 12 rejected" in md, "the pasted text is kept as typed"


def test_a_closed_fence_is_left_as_it_is(sqlite_engine: Engine) -> None:
    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    typed = "Check this:\n```\nERROR row 12 rejected\n```\nthanks"
    service.run_turn(meta.id, "u1", typed)
    md = session_to_markdown(service.open_session(meta.id, "u1"))
    assert typed in md
