"""Blackout hours: the hours of the owner's local day in which nothing is offered.

Owners think in wall-clock time ("never during the morning shift, 6 to 8"), so the hours are
read in the policy's IANA time zone and follow daylight-saving changes; a blackout hour is one
wall-clock hour, whatever UTC offset it falls at.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from analytics.series import merge_intervals

HOUR = 3600.0


@lru_cache(maxsize=256)
def _day_intervals(hours: tuple[int, ...], tz: str, first_day: int, last_day: int
                   ) -> np.ndarray:
    # Cached: a fleet pass asks the same question for every asset with the same policy.
    zone = ZoneInfo(tz)
    out = []
    day = datetime.fromordinal(first_day)
    while day.toordinal() <= last_day:
        for h in hours:
            # Both folds: the hour repeated when clocks go back is blacked out twice.
            for fold in (0, 1):
                a = day.replace(hour=h, tzinfo=zone, fold=fold).timestamp()
                out.append((a, a + HOUR))
        day += timedelta(days=1)
    return merge_intervals(np.array(out, dtype=float).reshape(-1, 2))


def blackout_intervals(hours: tuple[int, ...], tz: str, start: float, end: float
                       ) -> np.ndarray:
    """The blackout periods, as merged UTC ``[start, end)`` rows, that touch
    ``[start, end)``."""
    if not hours or end <= start:
        return np.empty((0, 2))
    zone = ZoneInfo(tz)
    first = datetime.fromtimestamp(start, zone).toordinal() - 1
    last = datetime.fromtimestamp(end, zone).toordinal() + 1
    spans = _day_intervals(tuple(sorted(hours)), tz, first, last)
    return spans[(spans[:, 1] > start) & (spans[:, 0] < end)]


def blocked(slot_starts: np.ndarray, slot_s: float, hours: tuple[int, ...], tz: str
            ) -> np.ndarray:
    """Whether each slot ``[t, t + slot_s)`` overlaps a blackout hour (a zone with a
    half-hour offset blocks both UTC hours it touches)."""
    t = np.asarray(slot_starts, dtype=float)
    if not hours or t.size == 0:
        return np.zeros(t.shape, dtype=bool)
    spans = blackout_intervals(hours, tz, float(t.min()), float(t.max()) + slot_s)
    # The last blackout starting before the slot's end must end after the slot's start.
    i = np.searchsorted(spans[:, 0], t + slot_s, side="left") - 1
    return (i >= 0) & (spans[np.clip(i, 0, None), 1] > t)


def cut_offers(offers: np.ndarray, hours: tuple[int, ...], tz: str, min_window_s: float
               ) -> np.ndarray:
    """Offer rows ``[start, end, ...]`` with their blackout periods cut out; pieces shorter
    than ``min_window_s`` are dropped."""
    rows = np.asarray(offers, dtype=float)
    out = []
    for row in rows:
        a, b = float(row[0]), float(row[1])
        for s, e in blackout_intervals(hours, tz, a, b).tolist():
            if s > a:
                out.append([a, s, *row[2:]])
            a = max(a, e)
        if b > a:
            out.append([a, b, *row[2:]])
    cut = np.array(out, dtype=float).reshape(-1, rows.shape[1] if rows.ndim == 2 else 4)
    return cut[cut[:, 1] - cut[:, 0] >= min_window_s]
