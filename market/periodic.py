"""A daemon thread running one pass every ``interval_s`` (alerts, webhook dispatch)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class PeriodicThread:
    """Calls ``run_pass`` every ``interval_s``; a failing pass is logged, the next tries again."""

    def __init__(self, run_pass: Callable[[], object], interval_s: float, *, name: str,
                 log: logging.Logger, failure: str) -> None:
        self.interval_s = interval_s
        self._run_pass, self._log, self._failure = run_pass, log, failure
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self._run_pass()
            except Exception:
                self._log.exception(self._failure)
