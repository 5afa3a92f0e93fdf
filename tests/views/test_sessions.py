"""Sessions page views: role scoping, filter, paging, table rows and detail access on seeded data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from assistant.sessions.base import SessionMeta
from assistant.sessions.queries import SessionTotals, list_sessions
from assistant.sessions.s3_objects import object_key
from assistant.usage.pricing import PriceTable
from assistant.views import session_detail as detail
from assistant.views import sessions as views
from assistant.views.models import model_view
from tests.fixtures.db import insert_sessions, insert_usage, sqlite_file_engine
from tests.fixtures.s3 import BUCKET, make_client

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
PRICES = PriceTable.load()

SESSIONS = [
    dict(id="a1", user_id="alice", user_email="alice@example.com", title="Board prep", state="active",
         created_at=T0 - timedelta(days=5), updated_at=T0 - timedelta(hours=1), model="offline", turn_count=3,
         input_tokens=100, output_tokens=50, cost_usd=0.0, search_text="prepare the board review"),
    dict(id="a2", user_id="alice", user_email="alice@example.com", title="Budget review", state="completed",
         created_at=T0 - timedelta(days=3), updated_at=T0 - timedelta(days=2),
         model="bedrock:us.amazon.nova-lite-v1:0", turn_count=5, input_tokens=1000, output_tokens=400,
         cost_usd=0.25, search_text="budget variance aurora"),
    dict(id="a3", user_id="alice", user_email="alice@example.com", title="Hiring", state="expired",
         created_at=T0 - timedelta(days=20), updated_at=T0 - timedelta(days=19), model="bedrock:x.unknown",
         turn_count=1, input_tokens=10, output_tokens=5, cost_usd=0.0, cost_unknown=True, errors=1,
         search_text="hiring committee"),
    dict(id="b1", user_id="bob", user_email="bob@example.com", title="Aurora steering", state="active",
         created_at=T0 - timedelta(days=1), updated_at=T0 - timedelta(minutes=10),
         model="bedrock:us.amazon.nova-lite-v1:0", turn_count=2, input_tokens=300, output_tokens=100,
         cost_usd=0.05, search_text="project aurora steering"),
]  # fmt: skip


@dataclass(frozen=True)
class Who:
    user_id: str
    is_admin: bool = False


ALICE = Who("alice")
BOB = Who("bob")
ADMIN = Who("root", is_admin=True)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    for eng in sqlite_file_engine(tmp_path / "views.db"):
        insert_sessions(eng, SESSIONS)
        insert_usage(
            eng,
            [
                dict(session_id="a1", user_id="alice", started_at=T0 - timedelta(hours=2), latency_ms=1000.0,
                     ttft_ms=100.0, input_tokens=100, output_tokens=50),
                dict(session_id="a1", user_id="alice", started_at=T0 - timedelta(hours=1), latency_ms=3000.0,
                     ttft_ms=300.0),
                dict(session_id="a2", user_id="alice", started_at=T0 - timedelta(days=2),
                     model_id="us.amazon.nova-lite-v1:0", provider="bedrock", cost_usd=0.25),
                dict(session_id="a3", user_id="alice", started_at=T0 - timedelta(days=19), model_id="x.unknown",
                     provider="bedrock", cost_usd=None, error="boom"),
            ],
        )  # fmt: skip
        yield eng


# --------------------------------------------------------------------------- role scoping
def test_user_is_always_scoped_to_self_whatever_is_requested() -> None:
    assert views.scoped_user_id(ALICE) == "alice"
    assert views.scoped_user_id(ALICE, "bob") == "alice"
    assert views.build_filter(ALICE, user="bob").user_id == "alice"
    assert views.build_filter(ALICE, user=None).user_id == "alice"
    assert views.open_scope(ALICE) == "alice"


def test_admin_sees_everyone_or_the_picked_user() -> None:
    assert views.scoped_user_id(ADMIN) is None
    assert views.scoped_user_id(ADMIN, "bob") == "bob"
    assert views.open_scope(ADMIN) is None


def test_non_admin_never_gets_another_users_rows(engine: Engine) -> None:
    for requested in (None, "bob", "", "root"):
        page = list_sessions(engine, views.build_filter(ALICE, user=requested, page_size=100))
        assert {r.user_id for r in page.rows} == {"alice"}
        assert page.total_count == 3
    bob = list_sessions(engine, views.build_filter(BOB, user="alice"))
    assert [r.id for r in bob.rows] == ["b1"]
    everyone = list_sessions(engine, views.build_filter(ADMIN))
    assert {r.user_id for r in everyone.rows} == {"alice", "bob"}


# --------------------------------------------------------------------------- filter and paging
def test_filter_from_widgets(engine: Engine) -> None:
    since, until = views.period_bounds("Last 7 days", T0.date())
    query = views.build_filter(
        ALICE, text="  budget ", states=["completed", "bogus"], since=since, until=until, sort="cost_usd"
    )
    assert query.text == "budget"
    assert query.states == ("completed",)
    assert query.sort == "cost_usd"
    assert [r.id for r in list_sessions(engine, query).rows] == ["a2"]
    assert views.build_filter(ALICE, sort="DROP TABLE").sort == "updated_at"
    assert views.build_filter(ALICE, page=2, page_size=25).offset == 50


def test_period_bounds() -> None:
    today = date(2026, 11, 10)
    assert views.period_bounds("Any time", today) == (None, None)
    assert views.period_bounds("Today", today) == (
        datetime(2026, 11, 10, tzinfo=UTC),
        datetime(2026, 11, 11, tzinfo=UTC),
    )
    assert views.period_bounds("Last 7 days", today)[0] == datetime(2026, 11, 4, tzinfo=UTC)
    assert views.period_bounds("Custom range", today, (date(2026, 11, 3), date(2026, 11, 1))) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 11, 4, tzinfo=UTC),
    )
    assert views.period_bounds("Custom range", today, ()) == (None, None)
    with pytest.raises(ValueError, match="Unknown period"):
        views.period_bounds("Forever", today)


def test_page_info_text_and_clamping() -> None:
    info = views.page_info(1, 50, 1234)
    assert info.text == "Showing 51–100 of 1,234"
    assert (info.has_previous, info.has_next, info.pages) == (True, True, 25)
    last = views.page_info(99, 50, 1234)
    assert (last.page, last.text, last.has_next) == (24, "Showing 1,201–1,234 of 1,234", False)
    assert views.page_info(0, 25, 0).text == "No sessions"


# --------------------------------------------------------------------------- rows and totals
def test_table_rows_exact_values(engine: Engine) -> None:
    page = list_sessions(engine, views.build_filter(ALICE, sort="created_at"))
    rows = views.table_rows(page.rows, label=lambda m: model_view(m, PRICES).label)
    assert [r["id"] for r in rows] == ["a2", "a1", "a3"]
    a2, a1, a3 = rows
    assert a1["Title"] == "Board prep"
    assert a1["State"] == "Active"
    assert (a1["Turns"], a1["Input tokens"], a1["Output tokens"]) == (3, 100, 50)
    assert a1["Cost"] == "$0.00"
    assert a1["Models"] == ["Offline demo model"]
    assert a1["Avg latency"] == 2000.0
    assert (a1["TTFT p50"], a1["TTFT p95"]) == (200.0, 290.0)
    assert a1["Started"] == T0 - timedelta(days=5)
    assert a2["Cost"] == "$0.25"
    assert a2["Models"] == ["Amazon Nova Lite"]
    assert a3["Cost"] == "unknown"
    assert a3["Errors"] == 1
    assert a3["Avg latency"] is None
    assert "User" not in a1
    with_user = views.table_rows(page.rows, label=str, user_label=lambda r: r.user_email or r.user_id)
    assert with_user[0]["User"] == "alice@example.com"
    assert views.table_columns(False)[0] == "Title" and "User" not in views.table_columns(False)
    assert "User" in views.table_columns(True)


def test_totals_metrics_sum_the_filtered_set(engine: Engine) -> None:
    page = list_sessions(engine, views.build_filter(ALICE, page_size=1))
    assert len(page.rows) == 1
    metrics = {m.label: m.value for m in views.totals_metrics(page.totals)}
    assert metrics == {
        "Sessions": "3",
        "Turns": "9",
        "Input tokens": "1.1k",
        "Output tokens": "455",
        "Cost": "≥ $0.25",
        "Errors": "1",
    }


def test_costs_never_show_zero_for_unknown() -> None:
    totals = SessionTotals(1, 1, 1, 1, 0.0, 1, 0)
    assert views.totals_cost_text(totals) == "unknown"
    assert views.totals_cost_text(SessionTotals(1, 1, 1, 1, 0.0, 0, 0)) == "$0.00"
    assert views.totals_cost_text(SessionTotals(2, 1, 1, 1, 0.5, 1, 0)) == "≥ $0.50"


def test_free_note_only_for_free_model_rows(engine: Engine) -> None:
    alice = list_sessions(engine, views.build_filter(ALICE)).rows
    bob = list_sessions(engine, views.build_filter(BOB)).rows
    assert views.free_note(alice, PRICES) == "$0.00: offline demo model is free"
    assert views.free_note(bob, PRICES) is None


def test_user_directory_lists_emails(engine: Engine) -> None:
    users = views.user_directory(engine)
    assert [(u.user_id, u.label) for u in users] == [("alice", "alice@example.com"), ("bob", "bob@example.com")]


def test_people_are_shown_on_one_line_without_control_characters(tmp_path: Path) -> None:
    email = "eve\x07@example.com\n\t# admin"
    for eng in sqlite_file_engine(tmp_path / "people.db"):
        insert_sessions(eng, [dict(id="e1", user_id="eve", user_email=email, title="Plan", updated_at=T0)])
        assert [(u.user_id, u.label) for u in views.user_directory(eng)] == [("eve", "eve@example.com # admin")]
        rows = views.table_rows(
            list_sessions(eng, views.build_filter(ADMIN, user=None)).rows,
            label=str,
            user_label=lambda r: r.user_email or r.user_id,
        )
        assert [r["User"] for r in rows] == ["eve@example.com # admin"]
    meta = SessionMeta(
        id="s", user_id="eve", title="t", state="active", created_at=T0, updated_at=T0, model="offline",
        user_email=email,
    )  # fmt: skip
    banner = detail.detail_access(ADMIN, meta).banner
    assert banner == "Viewing eve@example.com # admin's session (read-only)"


def test_a_session_whose_stored_conversation_is_gone_is_listed_as_damaged_not_active(
    tmp_path: Path, make_s3_store: Callable[..., Any]
) -> None:
    """Deleted from the bucket behind the app's back, then reindexed: the table said "Active",
    and opening the row said the conversation is missing."""
    for eng in sqlite_file_engine(tmp_path / "s3index.db"):
        store = make_s3_store(eng)
        kept = store.create_session("alice", model="offline", title="Kept")
        gone = store.create_session("alice", model="offline", title="Gone")
        make_client().delete_object(Bucket=BUCKET, Key=object_key("alice", gone.id))
        assert make_s3_store(eng).reindex() == 1
        page = list_sessions(eng, views.build_filter(ALICE, sort="title"))
        states = {r["Title"]: r["State"] for r in views.table_rows(page.rows, label=str)}
        assert states == {"Gone": "Damaged", "Kept": "Active"}
        assert store.get_meta(kept.id, "alice").damaged is None


def test_a_short_word_search_that_stopped_early_says_where_and_what_to_do() -> None:
    whole = SessionTotals(3, 4, 5, 6, 0.0, 0, 0)
    assert views.search_bound_note(whole, "q3") is None  # the whole list was searched: nothing to say
    bounded = SessionTotals(1, 2, 3, 4, 0.0, 0, 0, searched=10_000)
    note = views.search_bound_note(bounded, "  Q3\x00  ok ")
    assert note == (
        "Only the first 10,000 sessions of this list were searched: “q3 ok” is too short to look up in "
        "the whole history. Add a word of three letters or more to search every session."
    )
