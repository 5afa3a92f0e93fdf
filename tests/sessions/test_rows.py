"""Rows of the session index (``sessions/rows.py``): titles, search text, ledger totals and the send window's bounds.

Statements run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from assistant import db
from assistant.sessions.base import UsageRecord
from assistant.sessions.executor import SaExecutor
from assistant.sessions.rows import (
    MAX_TITLE_CHARS,
    clean_title,
    new_session_id,
    set_title,
    set_title_text,
    turn_search_text,
    usage_totals,
    window_params,
)
from assistant.sessions.s3_objects import validate_session_id
from tests.fixtures.db import insert_sessions
from tests.fixtures.stores import MakeStore

NOW = datetime(2026, 5, 1, 23, 59, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "title"),
    [
        ("  Board\n prep\t\x00notes ", "Board prep notes"),
        ("Q3 \x1b[31mred\x1b[0m review", "Q3 red review"),
        ("\u200b\u200b", ""),  # nothing visible: no title
        ("", ""),
    ],
)
def test_a_title_is_one_clean_line(given: str, title: str) -> None:
    assert clean_title(given) == title


def test_a_long_title_is_cut_with_an_ellipsis_at_the_limit() -> None:
    cut = clean_title("word " * 100)
    assert len(cut) == MAX_TITLE_CHARS and cut.endswith("word…")
    assert clean_title("x" * MAX_TITLE_CHARS) == "x" * MAX_TITLE_CHARS


def test_session_ids_are_new_each_time_and_name_an_object() -> None:
    ids = {new_session_id() for _ in range(100)}
    assert len(ids) == 100 and all(validate_session_id(i) == i for i in ids)


def test_a_turns_search_text_is_what_the_exchange_shows_lower_cased() -> None:
    messages = [
        {"role": "user", "content": [{"text": "Where is the **Q3** deck?"}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "find", "input": {"q": "SECRET"}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "TOOL OUTPUT"}]}}]},
        {"role": "assistant", "content": [{"text": "In \\[Shared\\]\x00 drive"}, {"text": "## Done"}]},
        {"role": "system", "content": [{"text": "Hidden"}]},
    ]
    text = turn_search_text(messages)
    assert " ".join(text.split()) == "where is the q3 deck? in [shared] drive done"
    assert "\x00" not in text  # Postgres refuses it
    assert not any(hidden in text for hidden in ("secret", "tool output", "hidden"))


def _usage(cost: float | None, error: str | None = None) -> UsageRecord:
    return UsageRecord(
        "c", "s", "u", 0, "bedrock", "m", NOW, input_tokens=3, output_tokens=4, cost_usd=cost, error=error
    )


def test_ledger_totals_say_when_a_cost_is_unknown_and_count_errors() -> None:
    assert usage_totals([_usage(0.5), _usage(None, "Throttled"), _usage(0.25)]) == {
        "input_tokens": 9,
        "output_tokens": 12,
        "cost_usd": 0.75,
        "cost_unknown": True,
        "errors": 1,
    }
    assert usage_totals([]) == {
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_usd": 0,
        "cost_unknown": False,
        "errors": 0,
    }


def test_the_send_window_counts_the_utc_day_and_the_rate_window() -> None:
    params = window_params("u1", NOW, timedelta(minutes=1))
    assert (params["start"], params["end"]) == (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 2, tzinfo=UTC))
    assert params["since"] == NOW - timedelta(minutes=1) and params["uid"] == "u1"


def _title_rows(engine: Engine, session_id: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        title = conn.execute(select(db.sessions.c.title).where(db.sessions.c.id == session_id)).scalar_one()
        texts = conn.execute(
            select(db.session_text.c.text).where(
                db.session_text.c.session_id == session_id, db.session_text.c.turn_idx == db.TITLE_TURN_IDX
            )
        ).scalars()
        return [(title, text) for text in texts]


def test_a_new_title_is_searchable_as_its_own_row_made_if_missing(query_engine: Engine) -> None:
    insert_sessions(query_engine, [{"id": "s1", "user_id": "u1", "title": "Untitled"}])
    with query_engine.begin() as conn:
        set_title(SaExecutor(conn), "s1", "  Board\nPrep ")
    assert _title_rows(query_engine, "s1") == [("Board Prep", "board prep")]
    with query_engine.begin() as conn:
        conn.execute(db.session_text.delete())
        set_title_text(conn, "s1", "Renamed")  # no title row yet: one is made
    assert _title_rows(query_engine, "s1") == [("Board Prep", "renamed")]


def test_a_title_with_nothing_visible_changes_nothing(query_engine: Engine) -> None:
    insert_sessions(query_engine, [{"id": "s1", "user_id": "u1", "title": "Board prep"}])
    with query_engine.begin() as conn:
        set_title(SaExecutor(conn), "s1", "\u200b \x00")
    assert _title_rows(query_engine, "s1") == [("Board prep", "board prep")]


@pytest.mark.parametrize("state", ["done", "Completed", "", None])
def test_a_state_no_session_has_is_refused_and_changes_nothing(make_store: MakeStore, state: object) -> None:
    """``set_state(id, user, "done")`` was written as it came: the session turned read-only, with a
    state no page, filter or query knows (the sessions table showed it as "Done")."""
    store = make_store()
    meta = store.create_session("u1", model="offline")
    with pytest.raises(ValueError, match="active, completed, expired"):
        store.set_state(meta.id, "u1", state)  # type: ignore[arg-type]
    after = store.get_meta(meta.id, "u1")
    assert (after.state, after.version, after.read_only) == ("active", meta.version, False)
    assert make_store().load(meta.id, "u1").meta.state == "active", "nothing stored either"
    assert store.set_state(meta.id, "u1", "completed").read_only
