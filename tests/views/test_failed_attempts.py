"""A session whose answer failed once and was retried: its totals hold the failed calls (they are
billed), its turns do not. The detail page and both exports say so, so the turns plus the failed
attempts add up to the total a reader sees (they differed by the failed calls, unexplained)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

from assistant.sessions.base import SessionDocument
from assistant.usage.pricing import PriceTable
from assistant.views.conversation import failed_attempts
from assistant.views.export import session_to_json, session_to_markdown
from assistant.views.format import fmt_cost
from assistant.views.session_detail import session_metrics
from tests.fixtures.chat import make_service

PRICED_OFFLINE = """version = "test"
[[price]]
match = "^offline"
label = "Offline demo model"
provider = "offline"
input_per_mtok = 3.0
output_per_mtok = 15.0
cache_read_per_mtok = 0.3
cache_write_per_mtok = 0.0
effective_from = 2020-01-01
"""


@pytest.fixture
def retried(sqlite_engine: Engine, tmp_path: Path) -> tuple[SessionDocument, PriceTable]:
    """A real session over SQLite: the first answer fails mid-stream after a tool, Retry answers it."""
    prices = tmp_path / "prices.toml"
    prices.write_text(PRICED_OFFLINE)
    service = make_service(sqlite_engine, model_provider="faulty:midstream", prices_file=str(prices))
    meta = service.create_session("u1")
    assert type(service.run_turn(meta.id, "u1", "What meetings do I have this week?")[-1]).__name__ == "ErrorEvent"
    assert type(service.run_turn(meta.id, "u1", "What meetings do I have this week?")[-1]).__name__ == "Done"
    assert type(service.run_turn(meta.id, "u1", "And my budget for marketing?")[-1]).__name__ == "Done"
    return service.open_session(meta.id, "u1"), PriceTable.load(prices)


def test_failed_attempts_are_what_the_totals_hold_beyond_the_turns(retried) -> None:
    doc, _ = retried
    meta = doc.meta
    turns_cost = sum(t.cost_usd or 0 for t in doc.turns)
    assert meta.cost_usd > turns_cost > 0, "the failed call is billed in the total, not in a turn"
    failed = failed_attempts(meta, doc.turns)
    assert failed is not None
    assert failed.cost_usd == pytest.approx(meta.cost_usd - turns_cost)
    assert failed.input_tokens == meta.input_tokens - sum(t.input_tokens for t in doc.turns) > 0


def test_detail_cost_metric_says_it_includes_the_failed_attempts(retried) -> None:
    doc, prices = retried
    cost = next(m for m in session_metrics(doc.meta, doc.turns, prices) if m.label == "Cost")
    failed = failed_attempts(doc.meta, doc.turns)
    assert failed is not None
    assert cost.help is not None and f"{fmt_cost(failed.cost_usd)} for failed attempts" in cost.help


def test_detail_counts_the_failed_calls_as_the_sessions_table_does(retried) -> None:
    """The table's Errors column said 1 for this session; its detail had no such figure."""
    doc, prices = retried
    errors = next(m for m in session_metrics(doc.meta, doc.turns, prices) if m.label == "Errors")
    assert doc.meta.errors >= 1 and errors.value == f"{doc.meta.errors:,}"


def test_markdown_export_turns_and_failed_attempts_add_up_to_the_total(retried) -> None:
    doc, _ = retried
    md = session_to_markdown(doc)
    failed = failed_attempts(doc.meta, doc.turns)
    assert failed is not None
    line = next(line for line in md.splitlines() if line.startswith("- Failed attempts"))
    assert f"{failed.input_tokens:,} in" in line and fmt_cost(failed.cost_usd) in line
    turn_footers = re.findall(r"^\*[\d,]+ in · [\d,]+ out tokens · \$([\d.]+)", md, flags=re.M)
    assert len(turn_footers) == 2


def test_json_export_carries_the_failed_attempts(retried) -> None:
    doc, _ = retried
    data = json.loads(session_to_json(doc))
    session = data["session"]
    turns_cost = sum(t["cost_usd"] for t in data["turns"])
    assert session["failed_attempts"]["cost_usd"] == pytest.approx(session["cost_usd"] - turns_cost)
    assert (
        session["failed_attempts"]["input_tokens"] + sum(t["input_tokens"] for t in data["turns"])
        == (session["input_tokens"])
    )


def test_a_session_without_failures_has_no_failed_attempts(sqlite_engine: Engine) -> None:
    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    service.run_turn(meta.id, "u1", "What meetings do I have this week?")
    doc = service.open_session(meta.id, "u1")
    assert failed_attempts(doc.meta, doc.turns) is None
    assert "Failed attempts" not in session_to_markdown(doc)
    assert json.loads(session_to_json(doc))["session"]["failed_attempts"] is None


def test_rounding_and_unknown_prices_are_not_failed_attempts(retried) -> None:
    """Turn costs are rounded to 8 places and the total is the ledger's sum: a residue of a
    billionth of a dollar read as "failed attempts" of $0.00 with no tokens; a turn whose price is
    unknown counted as $0, so its known part of the total read as a failed attempt's cost."""
    from dataclasses import replace

    doc, _ = retried
    turns = doc.turns[1:]  # the retried session's answered turns; their figures, and nothing failed
    exact = replace(
        doc.meta,
        input_tokens=sum(t.input_tokens for t in turns),
        output_tokens=sum(t.output_tokens for t in turns),
        cost_usd=sum(t.cost_usd or 0 for t in turns) + 4e-9,
    )
    assert failed_attempts(exact, turns) is None
    unpriced = [replace(turns[0], cost_usd=None), *turns[1:]]
    failed = failed_attempts(doc.meta, unpriced)
    assert failed is not None and failed.cost_usd is None and failed.input_tokens > 0
    md = session_to_markdown(replace(doc, turns=unpriced))
    line = next(line for line in md.splitlines() if line.startswith("- Failed attempts"))
    assert line.endswith("cost unknown"), line
