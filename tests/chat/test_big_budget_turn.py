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


def test_a_budget_of_hundreds_of_areas_reads_as_a_short_tool_step_and_sends_the_areas_that_matter(
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
    # 300 areas were all sent (~36k tokens a budget question, past a local model's context): the
    # model now gets the 50 with the largest forecast gaps, the totals over all 300, and how to ask
    sent_areas = [a["name"] for a in sent["areas"]]
    assert len(sent_areas) == 50 and "Area 299" in sent_areas and "Area 249" not in sent_areas, sent_areas
    assert sent["totals"]["annual_budget"] == 300 * 100_000
    assert "250 of the 300 areas are not listed" in sent["areas_not_listed"]
    assert len(json.dumps(sent)) < 20_000


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


def test_a_long_budget_lists_the_areas_needing_attention_then_the_largest_and_finds_any_by_name(
    sqlite_engine: Engine,
) -> None:
    rows = [
        BudgetRow(area=f"Team {n:03d}", plan=10_000 + 1_000 * n, actual=5_000, forecast=10_000 + 1_000 * n)
        for n in range(120)
    ] + [BudgetRow(area=f"Overrun {n}", plan=1_000, actual=900, forecast=5_000) for n in range(3)]
    ContextStore(sqlite_engine).save("u1", "budget", rows, None)
    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    service.run_turn(meta.id, "u1", "What's my budget?")
    service.run_turn(meta.id, "u1", "How does the budget for Team 004 look?")
    doc = service.open_session(meta.id, "u1")
    sent = [
        json.loads(block["toolResult"]["content"][0]["text"])
        if "text" in block["toolResult"]["content"][0]
        else block["toolResult"]["content"][0]["json"]
        for m in doc.messages
        for block in m.get("content", [])
        if isinstance(block, dict) and "toolResult" in block
    ]
    names = [a["name"] for a in sent[0]["areas"]]
    assert len(names) == 50 and {"Overrun 0", "Overrun 1", "Overrun 2"} <= set(names)
    assert "Team 119" in names and "Team 073" in names and "Team 072" not in names  # then the largest budgets
    assert sent[0]["totals"]["annual_budget"] == sum(r.plan for r in rows)
    assert [a["name"] for a in sent[1]["areas"]] == ["Team 004"]  # any other area, asked by name
    assert "Team 004" in build_display_turns(doc)[1].answer_text
