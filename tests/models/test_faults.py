"""FaultInjectingModel: fails the first N calls with realistic errors, then behaves normally."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, EventStreamError, ReadTimeoutError
from strands import Agent
from strands.types.exceptions import ModelThrottledException

from assistant.models import FaultInjectingModel, FaultSpec, FaultSpecError, OfflineModel, parse_fault_spec
from assistant.models.errors import error_category
from tests.models.tools_fixture import ALL_TOOLS

MESSAGES: Any = [{"role": "user", "content": [{"text": "hello"}]}]


def make_agent(model: FaultInjectingModel) -> Agent:
    # retry_strategy=None: the UI's Retry is what we test, not strands' own backoff.
    return Agent(model=model, tools=ALL_TOOLS, callback_handler=None, retry_strategy=None)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("throttle", FaultSpec("throttle", 1, 0.0)),
        ("throttle*2", FaultSpec("throttle", 2, 0.0)),
        ("timeout", FaultSpec("timeout", 1, 1.0)),
        ("timeout:2", FaultSpec("timeout", 1, 2.0)),
        ("timeout:0.5*3", FaultSpec("timeout", 3, 0.5)),
        ("midstream", FaultSpec("midstream", 1, 3.0)),
        ("slow", FaultSpec("slow", None, 0.3)),
        ("slow*2", FaultSpec("slow", 2, 0.3)),
        (" Access_Denied ", FaultSpec("access_denied", 1, 0.0)),
    ],
)
def test_parse_fault_spec(spec: str, expected: FaultSpec) -> None:
    assert parse_fault_spec(spec) == expected


@pytest.mark.parametrize("spec", ["", "boom", "throttle*", "timeout:x", "throttle**2"])
def test_parse_fault_spec_errors(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        parse_fault_spec(spec)


async def test_throttle_fails_n_times_then_succeeds() -> None:
    model = FaultInjectingModel(OfflineModel(), "throttle*2")
    agent = make_agent(model)

    for _ in range(2):
        with pytest.raises(ModelThrottledException) as info:
            await agent.invoke_async("What meetings do I have this week?")
        assert error_category(info.value)[0] == "throttled"
        agent.messages.clear()

    result = await agent.invoke_async("What meetings do I have this week?")
    assert "Acme QBR" in str(result)
    assert model.failures == 2
    assert model.remaining_faults == 0


async def test_times_argument_overrides_spec() -> None:
    model = FaultInjectingModel(OfflineModel(), "network", times=0)
    events = [event async for event in model.stream(MESSAGES)]
    assert "messageStop" in events[-2]


@pytest.mark.parametrize(
    ("spec", "error_type", "category"),
    [
        ("throttle", ModelThrottledException, "throttled"),
        ("timeout:0", ReadTimeoutError, "timeout"),
        ("access_denied", ClientError, "access_denied"),
        ("network", EndpointConnectionError, "network"),
        ("unavailable", ClientError, "unavailable"),
    ],
)
async def test_error_modes(spec: str, error_type: type[Exception], category: str) -> None:
    model = FaultInjectingModel(OfflineModel(), spec)
    with pytest.raises(error_type) as info:
        async for _ in model.stream(MESSAGES):
            pass
    assert error_category(info.value)[0] == category
    events = [event async for event in model.stream(MESSAGES)]
    assert events[-1].get("metadata")


async def test_timeout_waits_before_failing() -> None:
    model = FaultInjectingModel(OfflineModel(), "timeout:0.2")
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        async for _ in model.stream(MESSAGES):
            pass
    assert time.monotonic() - started >= 0.2


async def test_midstream_streams_some_text_then_fails() -> None:
    model = FaultInjectingModel(OfflineModel(), "midstream:2")
    texts: list[str] = []
    with pytest.raises(EventStreamError) as info:
        async for event in model.stream(MESSAGES):
            delta = event.get("contentBlockDelta", {}).get("delta", {})
            if "text" in delta:
                texts.append(delta["text"])
    assert len(texts) == 2
    assert error_category(info.value)[0] == "unavailable"


async def test_midstream_through_agent_then_retry() -> None:
    model = FaultInjectingModel(OfflineModel(), "midstream")
    agent = make_agent(model)
    chunks: list[str] = []
    with pytest.raises(EventStreamError):
        async for event in agent.stream_async("What meetings do I have this week?"):
            if "data" in event:
                chunks.append(event["data"])
    assert chunks
    agent.messages.clear()
    assert "Acme QBR" in str(await agent.invoke_async("What meetings do I have this week?"))


async def test_slow_delays_every_event() -> None:
    model = FaultInjectingModel(OfflineModel(), "slow:0.01")
    started = time.monotonic()
    events = [event async for event in model.stream(MESSAGES)]
    assert time.monotonic() - started >= 0.01 * len(events)
    assert model.remaining_faults is None


def test_config_delegates() -> None:
    inner = OfflineModel()
    model = FaultInjectingModel(inner, "throttle")
    model.update_config(words_per_chunk=7)
    assert inner.get_config()["words_per_chunk"] == 7
    assert model.get_config() is inner.get_config()
