"""Session types shared by the SQL and S3 backends (``sessions/base.py``): times in UTC, records through JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.sessions.base import (
    SessionMeta,
    ToolStep,
    TurnRecord,
    UsageRecord,
    assume_utc,
    parse_utc,
    to_utc,
)

PLUS_TWO = timezone(timedelta(hours=2))


def test_naive_times_are_utc_and_aware_ones_keep_their_instant() -> None:
    naive = datetime(2026, 5, 1, 9, 0)
    assert assume_utc(naive) == to_utc(naive) == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    paris = datetime(2026, 5, 1, 11, 0, tzinfo=PLUS_TWO)
    assert assume_utc(paris) is paris  # kept as given
    converted = to_utc(paris)
    assert converted.tzinfo is UTC and converted.hour == 9


@pytest.mark.parametrize(
    "stored",
    [
        "2026-05-01 09:00:00",  # SQLite's text, naive UTC
        "2026-05-01T09:00:00.000000",
        "2026-05-01T11:00:00+02:00",
        datetime(2026, 5, 1, 9, 0),
        datetime(2026, 5, 1, 11, 0, tzinfo=PLUS_TWO),
    ],
)
def test_a_database_timestamp_reads_as_aware_utc(stored: object) -> None:
    parsed = parse_utc(stored)
    assert parsed == datetime(2026, 5, 1, 9, 0, tzinfo=UTC) and parsed.tzinfo is UTC


def test_a_timestamp_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_utc("yesterday")


texts = st.text(max_size=40)  # control characters, lone surrogates and all
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from([UTC, PLUS_TWO])
)
steps = st.builds(
    ToolStep,
    tool_use_id=texts,
    name=texts,
    input=st.dictionaries(texts, texts | st.integers(), max_size=3),
    status=st.sampled_from(["success", "error", "running"]),
    result=texts,
    duration_ms=st.none() | st.floats(0, 1e6),
)


@given(
    st.builds(
        TurnRecord,
        idx=st.integers(0, 10_000),
        user_text=texts,
        started_at=moments,
        ended_at=moments,
        status=st.sampled_from(["ok", "stopped", "error"]),
        first_message_idx=st.integers(0, 1000),
        end_message_idx=st.integers(0, 1000),
        model=texts,
        cost_usd=st.none() | st.floats(0, 100),
        tool_steps=st.lists(steps, max_size=3).map(tuple),
        feedback=st.sampled_from([None, 1, -1]),
        error=st.none() | texts,
    )
)
def test_a_turn_record_comes_back_the_same_through_a_json_document(turn: TurnRecord) -> None:
    assert TurnRecord.from_dict(json.loads(json.dumps(turn.to_dict()))) == turn


@given(
    st.builds(
        UsageRecord,
        call_id=texts,
        session_id=st.just("s1"),
        user_id=st.just("u1"),
        turn_idx=st.integers(0, 1000),
        provider=texts,
        model_id=texts,
        started_at=moments,
        cost_usd=st.none() | st.floats(0, 100),
        error=st.none() | texts,
        latency_ms=st.none() | st.floats(0, 1e6),
    )
)
def test_a_ledger_row_comes_back_the_same_through_a_json_document(record: UsageRecord) -> None:
    assert UsageRecord.from_dict(json.loads(json.dumps(record.to_dict())), "s1", "u1") == record


def test_a_turn_of_an_older_document_reads_with_defaults_and_an_unknown_cost() -> None:
    turn = TurnRecord.from_dict({"idx": "2", "started_at": "2026-05-01T09:00:00", "ended_at": "2026-05-01T09:00:05"})
    assert (turn.idx, turn.status, turn.user_text, turn.tool_steps, turn.feedback) == (2, "ok", "", (), None)
    assert turn.cost_usd is None, "a cost the document does not hold is unknown, never $0"
    assert turn.started_at.tzinfo is not None
    step = ToolStep.from_dict({"input": None})
    assert (step.tool_use_id, step.status, step.input) == ("", "success", {})


def test_a_turn_without_its_times_is_refused() -> None:
    with pytest.raises(KeyError):
        TurnRecord.from_dict({"idx": 0})


@pytest.mark.parametrize(("state", "read_only"), [("active", False), ("completed", True), ("expired", True)])
def test_only_active_sessions_take_new_turns(state: str, read_only: bool) -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    assert SessionMeta("s1", "u1", "t", state, now, now, "offline").read_only is read_only  # type: ignore[arg-type]
