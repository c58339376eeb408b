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
from idleshare.materials import MATERIAL_KINDS


@dataclass(frozen=True)
class Analysis:
    """What the analytics found for one asset at one moment."""

    windows: list[IdleWindow]
    #: Shape (j, 4): :data:`analytics.offers.OFFER_COLUMNS`.
    offers: np.ndarray
    #: How the offers were made: ``seasonal_naive`` or ``forecast_bound``.
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
    if kind in MATERIAL_KINDS:  # material to collect: by-product offers, not idle windows
        return Analysis(windows=windows, offers=np.empty((0, 4)))
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


#: Quantiles of past free quantity shown beside each forecast slot: P10 and the median (P50).
SLOT_QUANTILES = (0.1, 0.5)


def slot_quantiles(
    readings: Sequence[tuple[float, float]] | np.ndarray,
    kind: str,
    capacity: float,
    slots: np.ndarray,
    lookback_s: float,
    levels: Sequence[float] = SLOT_QUANTILES,
    period_s: float = 86400.0,
    max_gap_s: float = MAX_GAP_S,
) -> np.ndarray:
    """Time-weighted quantiles of the free quantity each slot had in the past periods.

    For a slot ``[s, e)`` (an offer of :func:`analyse`) the past values are the free quantity
    the readings held over ``[s - k·period_s, e - k·period_s)`` for each whole period
    ``k >= 1`` in ``lookback_s`` (the periods the seasonal-naive offers search), each value
    weighted by the seconds it held. This describes the history behind an offer; it changes
    no offer (an offer's quantity is its latest window's least free less the reserve, which
    may lie above or below these quantiles).

    Returns
    -------
    quantiles : ndarray of shape (len(slots), len(levels))
        In the asset's unit; NaN where no past slot has data.
    """
    bounds = np.asarray(slots, dtype=float)[:, :2]  # [start, end, ...] rows
    out = np.full((bounds.shape[0], len(levels)), np.nan)
    pairs = np.asarray(readings, dtype=float).reshape(-1, 2)
    if not pairs.size or not bounds.size:
        return out
    times, values = as_series(pairs[:, 0], pairs[:, 1])
    steps = Steps.from_readings(times, free_quantity(kind, values, capacity), max_gap_s)
    order = np.argsort(steps.values, kind="stable")
    starts, ends, free = steps.starts[order], steps.ends[order], steps.values[order]
    shifts = period_s * np.arange(1, max(int(lookback_s // period_s), 0) + 1)[:, None]
    for row, (s, e) in enumerate(bounds):
        # Seconds each step held inside the same slot of each past period, shape (n,).
        held = np.clip(np.minimum(ends, e - shifts) - np.maximum(starts, s - shifts),
                       0.0, None).sum(axis=0)
        total = held.sum()
        if total > 0:
            at = np.searchsorted(np.cumsum(held), np.asarray(levels) * total, side="left")
            out[row] = free[np.minimum(at, free.size - 1)]
    return out
