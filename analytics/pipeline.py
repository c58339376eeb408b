"""One asset's analysis, from its readings to idle windows and offers; no storage here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from analytics.blackout import cut_offers
from analytics.calendars import cut_out, planned_intervals
from analytics.idle_windows import IdleWindow
from analytics.policy import SharingPolicy
from analytics.series import MAX_GAP_S, Steps, as_series, free_quantity


@dataclass(frozen=True)
class Analysis:
    """What the analytics found for one asset at one moment."""

    windows: list[IdleWindow]
    #: Shape (j, 4): :data:`analytics.offers.OFFER_COLUMNS`.
    offers: np.ndarray
    #: How the offers were made: ``seasonal_naive`` or ``forecast_p10``.
    method: str = "seasonal_naive"


def analyse(
    readings: Sequence[tuple[float, float]] | np.ndarray,
    kind: str,
    capacity: float,
    policy: SharingPolicy,
    now: float,
    lookback_s: float,
    max_gap_s: float = MAX_GAP_S,
) -> Analysis:
    """Idle windows and offers of one asset.

    Parameters
    ----------
    readings : sequence of (time, value) or ndarray of shape (n, 2)
        The asset's primary metric over the lookback, as ``ReadingStore.query`` returns it.
    kind : str
        Asset kind, which says how a value turns into free quantity.
    capacity : float
        The asset's capacity.
    policy : SharingPolicy
        The owner's thresholds, reserve and minimum quantity.
    now : float
        Current time, epoch seconds; offers start at or after it.
    lookback_s : float
        Length of the history given, which bounds how far back offers search for the same slot.
    max_gap_s : float, default=21600
        Longer gaps between readings are unknown time.
    """
    pairs = np.asarray(readings, dtype=float).reshape(-1, 2)
    times, values = as_series(pairs[:, 0], pairs[:, 1])
    free = free_quantity(kind, values, capacity)
    windows = policy.idle_windows(times, free, capacity, max_gap_s)
    table = np.array([[w.start, w.end, w.min_free] for w in windows]).reshape(-1, 3)
    coverage = Steps.from_readings(times, free, max_gap_s).covered_intervals()
    # Offers look as far ahead as windows are projected: one day past the lead time.
    planned = planned_intervals(policy.planned_use, now - lookback_s,
                                now + policy.lead_time_s + 2 * 86400.0, now)
    if planned.size:
        # Planned downtime is not idle: windows are cut around it before they are projected.
        windows = _cut_windows(windows, planned, policy.min_duration_s)
        table = np.array([[w.start, w.end, w.min_free] for w in windows]).reshape(-1, 3)
    offers = policy.seasonal_naive_offers(table, coverage, now, lookback_s)
    offers = cut_offers(offers, policy.blackout_hours, policy.timezone, policy.min_window_s)
    offers = cut_out(offers, planned, policy.min_window_s)
    return Analysis(windows=windows, offers=offers)


def _cut_windows(windows: list[IdleWindow], planned: np.ndarray,
                 min_duration_s: float) -> list[IdleWindow]:
    """Idle windows with planned use cut out (each piece keeps its window's free figures,
    its least free at most understated); pieces shorter than ``min_duration_s`` dropped."""
    out = []
    for w in windows:
        for s, e in cut_out(np.array([[w.start, w.end]]), planned, min_duration_s).tolist():
            out.append(replace(w, start=s, end=e, ongoing=w.ongoing and e == w.end))
    return out
