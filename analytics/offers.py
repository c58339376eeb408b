"""Offers from idle windows: a seasonal-naive forecast ("tomorrow looks like today")."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_array

from analytics.series import contained, merge_intervals

#: Columns of :func:`seasonal_naive_offers`.
OFFER_COLUMNS = ("start", "end", "quantity", "confidence")

#: Offers whose start and end agree to this many decimals (1 ms) are the same slot.
TIME_DECIMALS = 3


def floor_quantity(q: np.ndarray) -> np.ndarray:
    """Round quantities down to 3 decimals, never offering more than is free.

    The inner rounding to 1e-9 absorbs binary noise such as ``0.9 * 10 = 8.999...``.
    """
    return np.floor(np.round(np.asarray(q, dtype=float) * 1000.0, 6)) / 1000.0


def seasonal_naive_offers(
    windows: np.ndarray,
    coverage: np.ndarray,
    now: float,
    period_s: float = 86400.0,
    lead_time_s: float = 0.0,
    reserve_fraction: float = 0.1,
    min_quantity: float = 1.0,
    lookback_periods: int = 7,
) -> np.ndarray:
    """Project past idle windows forward by whole periods and grade them by their history.

    Each window ``[start, end]`` becomes the offer ``[start + k·period_s, end + k·period_s]``
    for the smallest ``k >= 1`` with ``start + k·period_s >= now + lead_time_s``. Its quantity
    is the window's least free quantity less the owner's reserve, rounded down to 3 decimals;
    offers under ``min_quantity`` are dropped. Its confidence is Laplace's rule of succession
    ``(hits + 1) / (n + 2)`` over the window itself (one hit) and the same slot in each of the
    ``lookback_periods`` earlier periods that data fully covers (a hit when the slot lay
    entirely inside an idle window). Where projected offers overlap, only the one from the
    most recent window is kept, so no capacity is promised twice.

    A function, not an estimator: the grading reads the asset's own history once and nothing
    carries over to other data.

    Parameters
    ----------
    windows : array-like of shape (m, >=3)
        Idle windows ``[start, end, min_free, ...]`` with ``min_free`` in the asset's unit;
        further columns are ignored. Windows must not overlap.
    coverage : array-like of shape (c, 2)
        ``[start, end)`` intervals with data (for instance
        :meth:`analytics.series.Steps.covered_intervals`).
    now : float
        Current time, epoch seconds.
    period_s : float, default=86400
        Season length in seconds (> 0).
    lead_time_s : float, default=0
        Offers start no earlier than ``now + lead_time_s`` (>= 0).
    reserve_fraction : float, default=0.1
        Share of the free quantity the owner keeps back, in [0, 1).
    min_quantity : float, default=1
        Smallest quantity worth offering, in the asset's unit (>= 0).
    lookback_periods : int, default=7
        How many earlier periods to search for the same slot (>= 0).

    Returns
    -------
    offers : ndarray of shape (j, 4)
        Columns :data:`OFFER_COLUMNS`, non-overlapping, sorted by start.

    Raises
    ------
    ValueError
        If a parameter is out of range, ``now`` is not finite, or the tables are malformed.
    """
    _check_params(period_s, lead_time_s, reserve_fraction, min_quantity, lookback_periods)
    if not np.isfinite(now):
        raise ValueError(f"now must be finite: got {now}")
    w = check_array(windows, dtype=float, ensure_min_samples=0, ensure_min_features=0)
    if w.shape[0] and w.shape[1] < 3:
        raise ValueError(f"windows must have >= 3 columns [start, end, min_free]: got {w.shape[1]}")
    w = w[:, :3].reshape(-1, 3)
    if np.any(w[:, 1] < w[:, 0]):
        raise ValueError("every window must end at or after its start")
    w = w[np.argsort(w[:, 0], kind="stable")]
    if np.any(w[1:, 0] < w[:-1, 1]):
        raise ValueError("windows must not overlap")
    cov = check_array(coverage, dtype=float, ensure_min_samples=0, ensure_min_features=0)
    if cov.shape[0] and cov.shape[1] != 2:
        raise ValueError(f"coverage must have 2 columns [start, end]: got {cov.shape[1]}")
    confidence = _confidence(w, merge_intervals(cov.reshape(-1, 2)), period_s,
                             int(lookback_periods))

    # Most recent window first, so merging equal slots keeps the latest evidence.
    order = np.argsort(-w[:, 0], kind="stable")
    w, confidence = w[order], confidence[order]
    target = now + lead_time_s
    k = np.floor((target - w[:, 0]) / period_s)
    # Settle float rounding of the division against the definition itself.
    k = np.maximum(np.where(w[:, 0] + k * period_s >= target, k, k + 1), 1)
    shift = k * period_s
    quantity = floor_quantity(w[:, 2] * (1.0 - reserve_fraction))
    offers = np.column_stack((w[:, 0] + shift, w[:, 1] + shift, quantity, confidence))
    # Where projected slots overlap, the most recent window wins: the same capacity must
    # never be promised twice. Decided before the quantity filter, so a small recent
    # window is not overruled by an older, larger one.
    kept: list[int] = []
    for i, (s, e) in enumerate(np.round(offers[:, :2], TIME_DECIMALS)):
        if all(e <= offers[j, 0] or s >= offers[j, 1] for j in kept):
            kept.append(i)
    offers = offers[kept]
    offers = offers[offers[:, 2] >= min_quantity]
    return offers[np.lexsort((offers[:, 1], offers[:, 0]))]


def _confidence(w: np.ndarray, coverage: np.ndarray, period_s: float,
                lookback_periods: int) -> np.ndarray:
    """``(hits + 1) / (n + 2)`` per window (sorted, disjoint ``[start, end, ...]`` rows)."""
    shifts = period_s * np.arange(1, lookback_periods + 1)
    slot_start = w[:, :1] - shifts  # (m, K): the same slot k' periods back
    slot_end = w[:, 1:2] - shifts
    seen = contained(coverage, slot_start, slot_end)
    idle = seen & contained(w[:, :2], slot_start, slot_end)
    n_periods = 1 + seen.sum(axis=1)
    hits = 1 + idle.sum(axis=1)
    return np.asarray((hits + 1.0) / (n_periods + 2.0), dtype=float)


def _check_params(period_s: float, lead_time_s: float, reserve_fraction: float,
                  min_quantity: float, lookback_periods: int) -> None:
    if not period_s > 0:
        raise ValueError(f"period_s must be > 0: got {period_s}")
    if not lead_time_s >= 0:
        raise ValueError(f"lead_time_s must be >= 0: got {lead_time_s}")
    if not 0 <= reserve_fraction < 1:
        raise ValueError(f"reserve_fraction must be in [0, 1): got {reserve_fraction}")
    if not min_quantity >= 0:
        raise ValueError(f"min_quantity must be >= 0: got {min_quantity}")
    if int(lookback_periods) != lookback_periods or lookback_periods < 0:
        raise ValueError(f"lookback_periods must be an integer >= 0: got {lookback_periods}")
