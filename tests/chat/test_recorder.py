"""What strands reports during a turn, kept for its one commit (``chat/recorder.py``): text, timings, usage rows."""

from __future__ import annotations

import math
import queue
from datetime import UTC, datetime
from typing import Any

import pytest
from strands import Agent

from assistant.chat.display import STOPPED_DURING_TOOL
from assistant.chat.events import ChatEvent, TextDelta
from assistant.chat.recorder import (
    CHARS_PER_TOKEN,
    TurnRecorder,
    _Call,
    close_history,
    estimated_usage,
    on_stream_event,
    time_out_call,
    usage_records,
    user_text,
)
from assistant.config import load_settings
from assistant.factory import get_prices
from assistant.sessions.base import SessionMeta
from tests.fixtures.scripted_model import ScriptedModel

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def _recorder() -> tuple[TurnRecorder, queue.SimpleQueue[ChatEvent | None]]:
    events: queue.SimpleQueue[ChatEvent | None] = queue.SimpleQueue()
    return TurnRecorder(events=events), events


def _texts(events: queue.SimpleQueue[ChatEvent | None]) -> list[str]:
    out = []
    while not events.empty():
        event = events.get()
        assert isinstance(event, TextDelta)
        out.append(event.text)
    return out


def _delta(text: str) -> dict[str, Any]:
    return {"event": {"contentBlockDelta": {"delta": {"text": text}}}, "data": text}


def test_streamed_text_is_forwarded_in_order_and_kept_as_the_answer_so_far() -> None:
    rec, events = _recorder()
    rec.calls.append(_Call(started=0.0, started_at=NOW))
    for piece in ("Your ", "board ", "", "meeting"):
        on_stream_event(_delta(piece), rec)
    on_stream_event({"event": {"messageStop": {"stopReason": "end_turn"}}}, rec)
    assert _texts(events) == ["Your ", "board ", "meeting"]  # an empty delta sends nothing
    call = rec.calls[0]
    assert call.first_token is not None and call.streamed and call.message_stop
    assert rec.text_so_far() == "Your board meeting"


def test_an_emoji_split_across_two_deltas_is_sent_whole() -> None:
    rec, events = _recorder()
    on_stream_event(_delta("Ready \ud83d"), rec)
    on_stream_event(_delta("\ude00 now"), rec)
    assert _texts(events) == ["Ready ", "\U0001f600 now"]
    assert rec.current_text == "Ready \U0001f600 now"


def test_a_half_emoji_whose_other_half_never_comes_is_shown_as_a_replacement_character() -> None:
    rec, events = _recorder()
    on_stream_event(_delta("cut \ud83d"), rec)
    on_stream_event({"event": {"contentBlockStop": {"contentBlockIndex": 0}}}, rec)
    assert _texts(events) == ["cut ", "\ufffd"]
    assert rec.held == ""


def test_empty_deltas_do_not_count_as_a_streamed_answer() -> None:
    # Ollama sends empty text deltas: a call that sent only those finished an empty message
    rec, _events = _recorder()
    rec.calls.append(_Call(started=0.0, started_at=NOW))
    on_stream_event({"event": {"contentBlockDelta": {"delta": {"text": ""}}}}, rec)
    on_stream_event({"event": {"contentBlockDelta": {"delta": {"toolUse": {"input": ""}}}}}, rec)
    assert rec.calls[0].first_token is not None and not rec.calls[0].streamed


def test_the_answer_so_far_joins_finished_messages_and_the_one_being_written() -> None:
    rec, _events = _recorder()
    rec.messages += [
        {"role": "user", "content": [{"text": "Hi"}]},
        {"role": "assistant", "content": [{"text": "Looking."}, {"toolUse": {"toolUseId": "t1"}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": []}}]},
    ]
    rec.current_text = "Found two."
    assert rec.text_so_far() == "Looking.\n\nFound two."


def test_a_cut_short_call_is_estimated_from_what_was_sent_and_streamed() -> None:
    agent = Agent(model=ScriptedModel([]), system_prompt="s" * 40, tools=[], callback_handler=None)
    agent.messages.append(
        {"role": "user", "content": [{"text": "q" * 30}, {"image": {"source": {"bytes": b"x" * 999}}}]}
    )
    usage = estimated_usage(agent, "a" * 9)
    assert usage["output"] == math.ceil(9 / CHARS_PER_TOKEN) == 3
    assert 70 / CHARS_PER_TOKEN <= usage["input"] < 999 / CHARS_PER_TOKEN  # text counted, image bytes not
    assert (usage["cache_read"], usage["cache_write"]) == (0, 0)


def test_a_timed_out_call_is_an_error_with_its_streamed_tokens_estimated() -> None:
    agent = Agent(model=ScriptedModel([]), tools=[], callback_handler=None)
    rec, _events = _recorder()
    rec.calls.append(_Call(started=0.0, started_at=NOW, first_token=0.1))
    rec.current_text = "x" * 40
    time_out_call(agent, rec)
    call = rec.calls[0]
    assert call.error == "TimeoutError: the model did not finish in time"
    assert call.usage["output"] == 10 and call.ended is not None
    finished, _ = _recorder()
    finished.calls.append(_Call(started=0.0, started_at=NOW, message_stop=True))
    time_out_call(agent, finished)
    assert finished.calls[0].error is None  # a call that had finished is not marked


def test_a_stop_during_a_tool_closes_the_history_with_an_assistant_note() -> None:
    agent = Agent(model=ScriptedModel([]), tools=[], callback_handler=None)
    agent.messages.append({"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": []}}]})
    rec, _events = _recorder()
    close_history(agent, rec)
    note = {"role": "assistant", "content": [{"text": STOPPED_DURING_TOOL}]}
    assert agent.messages[-1] == note and rec.messages == [note]
    close_history(agent, rec)  # already closed: nothing more
    assert len(agent.messages) == 2 and len(rec.messages) == 1


def test_user_text_joins_text_blocks_and_skips_the_rest() -> None:
    message = {"role": "user", "content": [{"text": "a"}, {"image": {}}, "junk", {"text": 5}]}
    assert user_text(message) == "a\n5"
    assert user_text({"role": "user"}) == ""


@pytest.mark.parametrize(
    ("model", "cost"),
    [("bedrock:us.amazon.nova-lite-v1:0", 1_000_000 * 0.06e-6 + 2_000 * 0.24e-6), ("offline", 0.0)],
)
def test_each_call_becomes_one_priced_ledger_row_failed_ones_included(model: str, cost: float) -> None:
    prices = get_prices(load_settings())
    meta = SessionMeta("s1", "u1", "Board prep", "active", NOW, NOW, model, turn_count=3)
    rec, _events = _recorder()
    rec.calls.append(
        _Call(started=1.0, started_at=NOW, first_token=1.25, ended=2.0, usage={"input": 1_000_000, "output": 2_000})
    )
    rec.calls.append(_Call(started=2.0, started_at=NOW, ended=2.5, error="ThrottlingException: slow down"))
    ok, failed = usage_records(model, prices, meta, rec)
    assert (ok.session_id, ok.user_id, ok.turn_idx) == ("s1", "u1", 3)
    assert ok.cost_usd == pytest.approx(cost) and (ok.ttft_ms, ok.latency_ms) == (250.0, 1000.0)
    assert failed.error == "ThrottlingException: slow down" and failed.ttft_ms is None and failed.input_tokens == 0
    assert ok.call_id != failed.call_id
    assert usage_records(model, prices, meta, rec)[0].call_id == ok.call_id  # fixed once: never counted twice
