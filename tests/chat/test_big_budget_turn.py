"""A budget question over a budget of hundreds of areas: the tool step a user reads is one line.

With 300 flagged areas the budget tool's summary named every one with its figures (about
25,000 characters): the tool step on the chat page, the CLI's step line, the Markdown export's
"Result:" and the top of the demo model's answer were each that wall of text, sent to the
model twice over (the summary, then the same areas in full).
"""

from __future__ import annotations

import json

from sqlalchemy import Engine

from assistant.chat.display import build_display_turns
from assistant.context.budget_io import BudgetRow
from assistant.context.user_data import ContextStore
from tests.fixtures.chat import make_service


def test_a_budget_of_hundreds_of_areas_reads_as_a_short_tool_step_with_every_area_still_sent(
    sqlite_engine: Engine,
) -> None:
    rows = [
        BudgetRow(area=f"Area {n:03d}", plan=100_000, actual=50_000, forecast=110_000 + 100 * n) for n in range(300)
    ]  # every area over budget; Area 299 by the most
    ContextStore(sqlite_engine).save("u1", "budget", rows, None)
    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    service.run_turn(meta.id, "u1", "What's my budget?")
    doc = service.open_session(meta.id, "u1")
    step = doc.turns[0].tool_steps[0]
    assert step.name == "get_budget_context" and step.status == "success"
    shown = step.result or ""
    assert len(shown) < 1_000, shown[:300]
    assert shown.startswith("300 budget areas, 300 needing attention")
    assert shown.index("Area 299") < shown.index("Area 298"), "the largest forecast gaps first"
    assert "and 295 more" in shown, shown
    answer = build_display_turns(doc)[0].answer_text
    assert len(answer) < 5_000, "the answer's opening line is the same short summary"

    results = [
        block["toolResult"]
        for m in doc.messages
        for block in m.get("content", [])
        if isinstance(block, dict) and "toolResult" in block
    ]
    sent = json.loads(results[0]["content"][0]["text"]) if "text" in results[0]["content"][0] else None
    sent = sent or results[0]["content"][0]["json"]
    assert len(sent["areas"]) == 300, "the model still gets every area"


def test_asking_for_an_area_a_big_budget_lacks_names_a_few_known_areas_not_all(sqlite_engine: Engine) -> None:
    """'What is my budget for sales?' over 500 areas: the refusal listed all 500 ids and names
    (about 20,000 characters), as the tool step and as the answer, which took 18 s to stream."""
    rows = [BudgetRow(area=f"Area {n:03d}", plan=100_000, actual=50_000, forecast=100_000) for n in range(500)]
    ContextStore(sqlite_engine).save("u1", "budget", rows, None)
    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    service.run_turn(meta.id, "u1", "What is my budget for sales?")
    doc = service.open_session(meta.id, "u1")
    step = doc.turns[0].tool_steps[0]
    assert step.status == "error"
    answer = build_display_turns(doc)[0].answer_text
    assert "No budget area matches 'sales'" in answer
    assert "area-000 (Area 000)" in answer and "and 490 more" in answer, answer[:600]
    assert "Area 499" not in answer
    assert len(answer) < 2_000, answer[:300]
