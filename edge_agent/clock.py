"""The agent's clock: real time on a site, or a simulated clock that replays the past faster.

A simulated clock starts in the past and runs ``speed`` times faster than real time, but never
ahead of the wall clock: once it catches up it tracks real time at 1×, so no reading is ever
stamped in the future.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from idleshare.errors import ConfigError

_OFFSET = re.compile(r"^-(\d+(?:\.\d+)?)([smhdw])$")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


class Clock(Protocol):
    """Time in seconds since the Unix epoch, as the agent's sources see it."""

    @property
    def start(self) -> float:
        """Clock time when the clock was made (replay sources align to it)."""
        ...

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of clock time."""
        ...


def parse_start(value: str, wall: float) -> float:
    """``"now"``, an ISO 8601 time (UTC unless it says otherwise) or an offset like ``"-1d"``."""
    text = value.strip()
    if text == "now":
        return wall
    m = _OFFSET.match(text)
    if m:
        return wall - float(m.group(1)) * _UNIT_S[m.group(2)]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"start must be 'now', an ISO time or an offset like '-1d', '-6h', "
                          f"'-30m': got {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class RealClock:
    """The wall clock."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self.start = wall()

    def now(self) -> float:
        return self._wall()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0.0))


class SimClock:
    """``start + elapsed × speed``, capped at the wall clock and never going backwards."""

    def __init__(
        self,
        start: float,
        speed: float,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ConfigError(f"speed must be > 0: got {speed!r}")
        self._wall, self._monotonic = wall, monotonic
        self.start = min(start, wall())
        self.speed = speed
        self._t0 = monotonic()
        self._last = self.start
        self._lock = threading.Lock()

    def now(self) -> float:
        simulated = self.start + (self._monotonic() - self._t0) * self.speed
        with self._lock:
            # The wall clock may step back (NTP); clock time must not.
            self._last = max(self._last, min(simulated, self._wall()))
            return self._last

    def caught_up(self) -> bool:
        return self.now() >= self._wall() - 1e-3

    def sleep(self, seconds: float) -> None:
        target = self.now() + seconds
        while (left := target - self.now()) > 0:
            # Behind the wall clock a clock second lasts 1/speed real seconds; after, one.
            time.sleep(min(left if self.caught_up() else left / self.speed, 1.0))


def make_clock(start: str, speed: float) -> Clock:
    """The clock a ``[clock]`` section asks for."""
    wall = time.time()
    if start.strip() == "now" and speed == 1.0:
        return RealClock()
    return SimClock(parse_start(start, wall), speed)
