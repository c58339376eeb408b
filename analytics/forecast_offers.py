"""Offers from an hourly free-capacity forecast and the owner's sharing policy.

Definitions (also in docs/analytics.md)
    The *offerable* quantity of forecast hour ``h`` is the lower-quantile forecast of free
    quantity (P10: what we are 90 % sure is free) less the owner's reserve
    (``× (1 - reserve_fraction)``), rounded down to 3 decimals. It is zero in hours starting
    before ``now + lead_time_s``, in hours touching a blackout hour (wall-clock hours in
    the policy's time zone) and in hours touching the owner's planned use
    (:mod:`analytics.calendars`). Consecutive hours with at least ``min_quantity`` offerable form
    runs; a run is cut into offers wherever an hour's quantity leaves the band
    ``BAND × capacity`` (2 %) around the offer's least hour so far, and each offer promises its
    least hour's quantity for its whole window. Offers shorter than ``min_window_s`` are
    dropped. Confidence is the forecast quantile's coverage level (0.9 for P10).
"""

from __future__ import annotations

import numpy as np

from analytics.blackout import blocked as in_blackout
from analytics.calendars import hours_planned, planned_intervals
from analytics.offers import floor_quantity
from analytics.policy import SharingPolicy

HOUR = 3600.0
#: Width of the band around an offer's least hour, share of capacity (:func:`offers_from_hours`):
#: 2 % captures 82 % of the car parks' shareable idle unit-hours, 10 % only 72 % (each offer
#: promises its least hour, so a wide band gives away what lies above it).
BAND = 0.02


def offerable(lower_free: np.ndarray, start: float, policy: SharingPolicy,
              now: float) -> np.ndarray:
    """Offerable quantity per forecast hour (see the module docstring).

    Parameters
    ----------
    lower_free : ndarray of shape (n,)
        Lower-quantile forecast of free quantity per hour, in the asset's unit.
    start : float
        Start of the first forecast hour, epoch seconds.
    """
    lower = np.nan_to_num(np.asarray(lower_free, dtype=float), nan=0.0)
    hour_start = start + HOUR * np.arange(lower.size)
    q = floor_quantity(np.clip(lower, 0.0, None) * (1.0 - policy.reserve_fraction))
    blocked = hour_start < now + policy.lead_time_s
    blocked |= in_blackout(hour_start, HOUR, policy.blackout_hours, policy.timezone)
    if policy.planned_use:
        planned = planned_intervals(policy.planned_use, start, start + HOUR * lower.size, now)
        blocked |= hours_planned(planned, start, lower.size)
    return np.where(blocked, 0.0, q)


def offers_from_hours(quantity: np.ndarray, start: float, capacity: float,
                      policy: SharingPolicy, confidence: float = 0.9,
                      tolerance: float = BAND) -> np.ndarray:
    """Offers ``[start, end, quantity, confidence]`` from per-hour offerable quantities.

    Returns
    -------
    ndarray of shape (k, 4)
        Columns :data:`analytics.offers.OFFER_COLUMNS`, non-overlapping, sorted by start.
    """
    q = np.asarray(quantity, dtype=float)
    band = tolerance * capacity
    out: list[tuple[float, float, float, float]] = []
    a, low = -1, 0.0

    def close(end: int) -> None:
        if a >= 0 and (end - a) * HOUR >= policy.min_window_s:
            out.append((start + a * HOUR, start + end * HOUR, low, confidence))

    for i, x in enumerate(q.tolist()):
        if x < policy.min_quantity or x < 0:
            close(i)
            a = -1
        elif a < 0:
            a, low = i, x
        elif abs(x - low) > band:
            close(i)
            a, low = i, x
        else:
            low = min(low, x)
    close(q.size)
    return np.array(out, dtype=float).reshape(-1, 4)


def offers_from_forecast(lower_free: np.ndarray, start: float, capacity: float,
                         policy: SharingPolicy, now: float, confidence: float = 0.9) -> np.ndarray:
    """:func:`offerable` then :func:`offers_from_hours`."""
    return offers_from_hours(offerable(lower_free, start, policy, now), start, capacity, policy,
                             confidence)


def hourly_offered(offers: np.ndarray, start: float, n_hours: int) -> np.ndarray:
    """Quantity offered in each hour ``[start + i h, start + (i+1) h)`` (offers on whole
    hours from ``start``, as :func:`offers_from_hours` makes them)."""
    out = np.zeros(n_hours)
    for s, e, q, _ in np.asarray(offers, dtype=float).reshape(-1, 4).tolist():
        out[round((s - start) / HOUR):round((e - start) / HOUR)] += q
    return out
