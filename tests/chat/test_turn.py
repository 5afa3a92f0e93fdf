"""A finished turn as one store write, and a failed one as what the user is told (``chat/turn.py``)."""

from __future__ import annotations

import queue
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from strands import Agent
from strands.types.exceptions import ModelThrottledException, StorageError

from assistant.chat.display import DEFAULT_TITLE, STOPPED_DURING_TOOL
from assistant.chat.recorder import TurnRecorder, _Call
from assistant.chat.turn import (
    CONFLICT_LOST_MESSAGE,
    CUT_OFF_MESSAGE,
    EMPTY_ANSWER_MESSAGE,
    INTERRUPTED_BY_PAGE,
    STOPPED_BY_USER,
    STORAGE_MESSAGE,
    AnswerCutOffError,
    EmptyAnswerError,
    build_commit,
    classify_failure,
)
from assistant.sessions.base import (
    SessionConflictError,
    SessionMeta,
    SessionNotFoundError,
    StorageUnavailableError,
    TurnCommit,
    UsageRecord,
)
from tests.fixtures.scripted_model import ScriptedModel

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
QUESTION = {"role": "user", "content": [{"text": "What is on today?"}]}
ANSWER = {"role": "assistant", "content": [{"text": "Two meetings."}], "metadata": {"usage": {"inputTokens": 9}}}


def _meta(**changes: Any) -> SessionMeta:
    fields: dict[str, Any] = {"title": DEFAULT_TITLE, "message_count": 0, "turn_count": 0, **changes}
    return SessionMeta("s1", "u1", state="active", created_at=NOW, updated_at=NOW, model="offline", **fields)


def _usage(cost: float | None, tokens: int = 10) -> UsageRecord:
    return UsageRecord(
        call_id=f"c{tokens}-{cost}",
        session_id="s1",
        user_id="u1",
        turn_idx=0,
        provider="offline",
        model_id="offline",
        started_at=NOW,
        input_tokens=tokens,
        output_tokens=tokens * 2,
        cost_usd=cost,
    )


def _commit(
    messages: list[dict[str, Any]], *, stop_reason: str = "end_turn", meta: SessionMeta | None = None, **kw: Any
) -> TurnCommit:
    agent = Agent(model=ScriptedModel([]), tools=[], callback_handler=None)
    agent.messages.extend(messages)  # type: ignore[arg-type]
    rec = TurnRecorder(events=queue.SimpleQueue())
    rec.messages.extend(messages)
    rec.calls.append(_Call(started=0.0, started_at=NOW, ended=1.0, message_stop=True, streamed=True))
    rec.calls += kw.pop("calls", [])
    kw.setdefault("usage", [_usage(0.001), _usage(0.002, 20)])
    return build_commit(
        agent,
        meta or _meta(),
        "What is on today?",
        rec,
        model="offline",
        started_at=NOW,
        ended_at=NOW + timedelta(seconds=2),
        stop_reason=stop_reason,
        **kw,
    )


def test_a_first_answer_is_stored_with_its_totals_a_title_and_no_metadata() -> None:
    commit = _commit([QUESTION, ANSWER])
    assert [m["role"] for m in commit.messages] == ["user", "assistant"]
    assert all("metadata" not in m for m in commit.messages)  # usage goes to the ledger
    turn = commit.turn
    assert (turn.status, turn.error, turn.idx, turn.first_message_idx, turn.end_message_idx) == ("ok", None, 0, 0, 2)
    assert (turn.input_tokens, turn.output_tokens, turn.model_calls) == (30, 60, 2)
    assert turn.cost_usd == pytest.approx(0.003)
    assert commit.title == "What is on today?"
    assert commit.agent_snapshot  # what resumes the session


def test_a_later_turn_or_a_renamed_session_keeps_its_title() -> None:
    assert _commit([QUESTION, ANSWER], meta=_meta(turn_count=1, message_count=2)).title is None
    assert _commit([QUESTION, ANSWER], meta=_meta(title="Board prep")).title is None


def test_one_unpriced_call_makes_the_turns_cost_unknown_not_zero() -> None:
    assert _commit([QUESTION, ANSWER], usage=[_usage(0.001), _usage(None)]).turn.cost_usd is None


def test_the_question_is_stored_as_strands_kept_it() -> None:
    redacted = {"role": "user", "content": [{"text": "[input redacted by guardrail]"}]}
    commit = _commit([redacted, ANSWER])
    assert commit.turn.user_text == "[input redacted by guardrail]" and commit.title == "[input redacted by guardrail]"


@pytest.mark.parametrize(("by_user", "note"), [(True, STOPPED_BY_USER), (False, INTERRUPTED_BY_PAGE)])
def test_a_stop_during_a_tool_is_stored_stopped_with_a_closed_history(by_user: bool, note: str) -> None:
    asked = {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "x", "input": {}}}]}
    result = {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "r"}]}}]}
    commit = _commit([QUESTION, asked, result], stop_reason="cancelled", stopped_by_user=by_user)
    assert (commit.turn.status, commit.turn.error) == ("stopped", note)
    assert commit.messages[-1] == {"role": "assistant", "content": [{"text": STOPPED_DURING_TOOL}]}


def test_an_answer_cut_by_the_step_limit_is_stored_stopped() -> None:
    turn = _commit([QUESTION, ANSWER], stop_reason="limit_turns").turn
    assert turn.status == "stopped" and turn.error is not None and "step limit" in turn.error


def test_an_empty_or_unfinished_answer_is_refused_not_stored() -> None:
    empty = {"role": "assistant", "content": []}
    with pytest.raises(EmptyAnswerError):
        _commit([QUESTION, empty], calls=[_Call(started=1.0, started_at=NOW, ended=2.0, message_stop=True)])
    with pytest.raises(AnswerCutOffError):  # text came, no block was closed
        _commit(
            [QUESTION, empty], calls=[_Call(started=1.0, started_at=NOW, ended=2.0, message_stop=True, streamed=True)]
        )
    with pytest.raises(AnswerCutOffError):  # the stream ended without messageStop
        _commit([QUESTION, ANSWER], calls=[_Call(started=1.0, started_at=NOW, ended=2.0)])


@pytest.mark.parametrize(
    ("exc", "told"),
    [
        (SessionConflictError("v2"), ("conflict", CONFLICT_LOST_MESSAGE, True)),
        (EmptyAnswerError("x"), ("model_error", EMPTY_ANSWER_MESSAGE, True)),
        (AnswerCutOffError("x"), ("model_error", CUT_OFF_MESSAGE, True)),
        (StorageUnavailableError("db down"), ("storage", STORAGE_MESSAGE, True)),
        (StorageError("snapshot"), ("storage", STORAGE_MESSAGE, True)),
        (SessionNotFoundError("Session not found."), ("session", "Session not found.", False)),
    ],
)
def test_each_failure_is_told_as_what_the_user_can_do(exc: Exception, told: tuple[str, str, bool]) -> None:
    assert classify_failure(exc) == told


def test_model_failures_are_told_by_the_models_classification() -> None:
    category, message, retryable = classify_failure(ModelThrottledException("Too many requests"))
    assert category == "throttled" and retryable and message
