"""A plain, loop-by-loop reading of the idle-window and offer rules (README "Definitions"),
written independently of analytics/ so end-to-end tests can check its answers."""

from __future__ import annotations

import math
from dataclasses import dataclass

DAY = 86400.0


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    min_free: float
    ongoing: bool


@dataclass(frozen=True)
class Offer:
    start: float
    end: float
    quantity: float
    confidence: float


def windows(times: list[float], free: list[float], capacity: float, min_free_fraction: float,
            min_duration_s: float) -> list[Window]:
    """Runs of readings with free >= threshold; no hysteresis, no gaps in the test data."""
    out: list[Window] = []
    start = None
    lowest = math.inf
    for t, f in zip(times, free, strict=True):
        if f >= min_free_fraction * capacity:
            if start is None:
                start, lowest = t, f
            lowest = min(lowest, f)
        elif start is not None:
            if t - start >= min_duration_s:
                out.append(Window(start, t, lowest, False))
            start = None
    if start is not None and times[-1] - start >= min_duration_s:
        out.append(Window(start, times[-1], lowest, True))
    return out


def _slot_idle(times: list[float], free: list[float], threshold: float, s: float,
               e: float) -> bool | None:
    """Was [s, e) idle throughout? None when the data do not cover it."""
    if s < times[0] or e > times[-1]:
        return None
    held = [f for t, f, nxt in zip(times, free, [*times[1:], math.inf], strict=True)
            if t < e and nxt > s]
    return all(f >= threshold for f in held)


def offers(times: list[float], free: list[float], capacity: float, now: float,
           min_free_fraction: float = 0.5, min_duration_s: float = 3600.0,
           reserve_fraction: float = 0.1) -> list[Offer]:
    """Each window moved whole days ahead to start at or after ``now``; where moved windows
    overlap the latest window wins; confidence (hits + 1) / (n + 2) over the window and the
    same slot on earlier days."""
    candidates: list[Offer] = []
    threshold = min_free_fraction * capacity
    for w in windows(times, free, capacity, min_free_fraction, min_duration_s):
        k = max(1, math.ceil((now - w.start) / DAY))
        n = hits = 1
        back = 1
        while (idle := _slot_idle(times, free, threshold, w.start - back * DAY,
                                  w.end - back * DAY)) is not None:
            n += 1
            hits += int(idle)
            back += 1
        quantity = math.floor(w.min_free * (1 - reserve_fraction) * 1000) / 1000
        candidates.append(
            Offer(w.start + k * DAY, w.end + k * DAY, quantity, (hits + 1) / (n + 2))
        )
    kept: list[Offer] = []
    for o in reversed(candidates):  # latest window first
        if all(o.end <= k.start or o.start >= k.end for k in kept):
            kept.append(o)
    return sorted((o for o in kept if o.quantity >= 1.0), key=lambda o: o.start)
