"""One background event loop per service, and the bridge from it to synchronous callers.

Agents run on the loop; Streamlit scripts and the CLI are synchronous. :meth:`LoopBridge.stream`
runs a producer coroutine on the loop and hands its events over in batches (one cross-thread
wake-up per batch, not per token). Closing the returned iterator early calls ``on_abandon``
(the page was interrupted, the user pressed Stop).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Coroutine, Generator
from typing import Any, TypeVar

E = TypeVar("E")


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
        produce: Callable[[asyncio.Queue[E | None]], Coroutine[Any, Any, None]],
        *,
        on_abandon: Callable[[], None],
    ) -> Generator[E, None, None]:
        """Run ``produce(events)`` on the loop and yield what it puts in ``events`` until it puts None.

        Args:
            produce: Coroutine factory; it must put None last (also when it fails).
            on_abandon: Called when the caller closes the iterator before the end.

        Returns:
            The events, in order.
        """
        out: queue.Queue[list[E | None]] = queue.Queue()

        async def pump() -> None:
            events: asyncio.Queue[E | None] = asyncio.Queue()
            task = asyncio.ensure_future(produce(events))
            while True:
                batch = [await events.get()]
                while not events.empty():
                    batch.append(events.get_nowait())
                out.put(batch)
                if batch[-1] is None:
                    break
            await task

        asyncio.run_coroutine_threadsafe(pump(), self.loop())
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
