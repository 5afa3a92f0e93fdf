"""The loop bridge: events reach a synchronous reader in order, in bursts, and always end."""

from __future__ import annotations

import asyncio
import queue
import threading
import time

import pytest

from assistant.chat import bridge as bridge_module
from assistant.chat.bridge import BURST_SECONDS, EventSink, LoopBridge


class CountingQueue(queue.Queue):  # type: ignore[type-arg]
    """A reader's queue that counts the hand-offs (each one wakes the reader's thread)."""

    puts = 0

    def put(self, item, block=True, timeout=None):  # type: ignore[no-untyped-def]
        CountingQueue.puts += 1
        super().put(item, block, timeout)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> type[CountingQueue]:
    CountingQueue.puts = 0
    monkeypatch.setattr(bridge_module.queue, "Queue", CountingQueue)
    return CountingQueue


def test_a_fast_answer_wakes_the_reader_twice_with_every_event_in_order(
    counted: type[CountingQueue], monkeypatch: pytest.MonkeyPatch
) -> None:
    # "Fast" is relative to the burst: a loaded CI machine can take longer than 15 ms for 200 loop
    # turns, and the answer then fairly takes a third wake-up. A long burst keeps the test about
    # the bursting, not about the machine's speed.
    monkeypatch.setattr(bridge_module, "BURST_SECONDS", 30.0)

    async def produce(events: EventSink[int]) -> None:
        for i in range(200):
            events.put_nowait(i)
            await asyncio.sleep(0)  # the agent yields to the loop between tokens
        events.put_nowait(None)

    got = list(LoopBridge("test-loop").stream(produce, on_abandon=lambda: None))
    assert got == list(range(200))
    assert counted.puts == 2  # the first words at once, then everything else together


def test_a_slow_answer_streams_its_first_words_before_it_ends() -> None:
    first_seen = threading.Event()

    async def produce(events: EventSink[str]) -> None:
        events.put_nowait("Hello")
        for _ in range(100):  # the model keeps thinking for up to a second
            if first_seen.is_set():
                break
            await asyncio.sleep(0.01)
        events.put_nowait("world")
        events.put_nowait(None)

    stream = LoopBridge("test-loop").stream(produce, on_abandon=lambda: None)
    start = time.perf_counter()
    assert next(stream) == "Hello"
    waited = time.perf_counter() - start
    first_seen.set()
    assert waited < BURST_SECONDS + 0.5  # not held back until the answer ends (a second)
    assert list(stream) == ["world"]


def test_a_producer_that_dies_without_its_last_event_still_ends_the_stream() -> None:
    async def produce(events: EventSink[str]) -> None:
        events.put_nowait("partial")
        raise RuntimeError("boom")

    done: list[list[str]] = []
    reader = threading.Thread(
        target=lambda: done.append(list(LoopBridge("test-loop").stream(produce, on_abandon=lambda: None))),
        daemon=True,
    )
    reader.start()
    reader.join(timeout=5)
    assert done == [["partial"]]


def test_closing_the_stream_early_abandons_the_answer() -> None:
    abandoned = threading.Event()

    async def produce(events: EventSink[int]) -> None:
        for i in range(1000):
            events.put_nowait(i)
            await asyncio.sleep(0.001)
        events.put_nowait(None)

    stream = LoopBridge("test-loop").stream(produce, on_abandon=abandoned.set)
    assert next(stream) == 0
    stream.close()
    assert abandoned.is_set()
