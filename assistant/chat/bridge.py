"""One background event loop per service, and the bridge from it to synchronous callers.

Agents run on the loop; Streamlit scripts and the CLI are synchronous. :meth:`LoopBridge.stream`
runs a producer coroutine on the loop and hands its events over in bursts: the reader (another
thread) is woken once per burst, not per token. The first event goes over at once (the answer's
first words are not held back); after it, a burst ends ``BURST_SECONDS`` after its first event
or at the producer's last event, whichever comes first. Closing the returned iterator
early calls ``on_abandon`` (the page was interrupted, the user pressed Stop).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Coroutine, Generator, Iterator
from typing import Any, Generic, Protocol, TypeVar

logger = logging.getLogger(__name__)

E = TypeVar("E")
E_contra = TypeVar("E_contra", contravariant=True)

# How long events gather before the reader is woken. Well under what a reader notices (the chat
# page draws text at most every 50 ms), and long enough that a burst of tokens - or a whole
# answer from a fast model - costs the reader one wake-up instead of one per handful of events:
# each cross-thread wake-up is a GIL hand-off that slows the agent on the loop.
BURST_SECONDS = 0.015


class EventSink(Protocol[E_contra]):
    """Where a producer puts its events (``asyncio.Queue`` is one; so is the bridge's burst sink)."""

    def put_nowait(self, item: E_contra | None, /) -> None:
        """Take one event (None: the last one)."""


class _BurstSink(Generic[E]):
    """Gathers a producer's events on the loop and hands them to the reader's queue in bursts."""

    def __init__(self, loop: asyncio.AbstractEventLoop, out: queue.Queue[list[E | None]]) -> None:
        self._loop = loop
        self._out = out
        self._burst: list[E | None] = []
        self._timer: asyncio.TimerHandle | None = None
        self._first = True
        self.finished = False

    def put_nowait(self, item: E | None, /) -> None:
        if self.finished:
            return
        self._burst.append(item)
        if item is None or self._first:  # the first words show at once; the last event ends the stream
            self._first = False
            self.finished = item is None
            self.flush()
        elif self._timer is None:
            self._timer = self._loop.call_later(BURST_SECONDS, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._burst:
            self._out.put(self._burst)
            self._burst = []


class LoopBridge:
    """A daemon thread running one asyncio loop, started on first use.

    Args:
        name: The thread's name (shows in stack dumps and profiles).
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop (started now if it is not)."""
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name=self._name, daemon=True).start()
                self._loop = loop
            return self._loop

    def stream(
        self,
        produce: Callable[[EventSink[E]], Coroutine[Any, Any, None]],
        *,
        on_abandon: Callable[[], None],
    ) -> Generator[E, None, None]:
        """Run ``produce(events)`` on the loop and yield what it puts in ``events`` until it puts None.

        Args:
            produce: Coroutine factory; it puts None last (should it end without, None is put
                for it, so the reader never waits forever).
            on_abandon: Called when the caller closes the iterator before the end.

        Returns:
            The events, in order.
        """
        out: queue.Queue[list[E | None]] = queue.Queue()
        loop = self.loop()

        def start() -> None:
            sink: _BurstSink[E] = _BurstSink(loop, out)
            task = loop.create_task(produce(sink))

            def ended(t: asyncio.Task[None]) -> None:
                if not sink.finished:
                    error = None if t.cancelled() else t.exception()
                    logger.error("error=<%r> | a stream ended without its last event", error)
                    sink.put_nowait(None)

            task.add_done_callback(ended)

        loop.call_soon_threadsafe(start)
        return _drain(out, on_abandon)


def _drain(out: queue.Queue[list[E | None]], on_abandon: Callable[[], None]) -> Generator[E, None, None]:
    finished = False
    try:
        while True:
            for event in out.get():
                if event is None:
                    finished = True
                    return
                yield event
    finally:
        if not finished:
            on_abandon()


def finish_unread(events: Iterator[E], *, name: str = "finish-answer") -> threading.Thread:
    """Read ``events`` to their end on a thread of its own, so the answer behind them is finished
    and stored although nobody reads it now (the page that asked lost its connection, or was
    reloaded or closed: the reader sees the answer when the page is back).

    Args:
        events: What :meth:`LoopBridge.stream` returned, not yet closed.
        name: The thread's name.

    Returns:
        The started (daemon) thread.
    """

    def read() -> None:
        try:
            for _event in events:
                pass
        except Exception:  # the turn itself stores its failure; this only reads
            logger.exception("an answer left unread could not be read to its end")

    thread = threading.Thread(target=read, name=name, daemon=True)
    thread.start()
    return thread
