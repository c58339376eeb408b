"""One asset's analysis, from its readings to idle windows and offers; no storage here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analytics.blackout import cut_offers
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
    offers = policy.seasonal_naive_offers(table, coverage, now, lookback_s)
    offers = cut_offers(offers, policy.blackout_hours, policy.timezone, policy.min_window_s)
    return Analysis(windows=windows, offers=offers)
