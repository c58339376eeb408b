"""Call functions later, on one thread: messages whose handling must wait for the catalog."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Later:
    """A single daemon thread running calls at their due time; ``stop`` drops what is left."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()  # ties keep submission order, never compare callables
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def call(self, delay_s: float, fn: Callable[[], None]) -> None:
        with self._cond:
            if self._stopped:
                return
            heapq.heappush(self._heap, (self.clock() + delay_s, next(self._order), fn))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ingest-later",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()

    def __len__(self) -> int:
        with self._cond:
            return len(self._heap)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > self.clock()):
                    self._cond.wait(self._heap[0][0] - self.clock() if self._heap else None)
                if self._stopped:
                    return
                _, _, fn = heapq.heappop(self._heap)
            try:
                fn()
            except Exception:
                log.exception("a delayed call failed")
