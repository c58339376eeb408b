"""Idle windows: maximal runs of readings with enough free capacity, with hysteresis and gaps.

Plain functions, not an estimator: nothing is learned from data, the thresholds are the
owner's policy. The rules are spelled out in :mod:`analytics`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils.validation import check_array

from analytics.series import MAX_GAP_S, as_series

#: Columns of :func:`find_windows`.
WINDOW_COLUMNS = ("start", "end", "min_free_fraction", "mean_free_fraction", "ongoing")


def check_thresholds(min_free_fraction: float, min_duration_s: float, hysteresis: float,
                     max_gap_s: float) -> None:
    """Raise ``ValueError`` naming the first threshold out of range."""
    if not 0 < min_free_fraction <= 1:
        raise ValueError(f"min_free_fraction must be in (0, 1]: got {min_free_fraction}")
    if not 0 <= hysteresis <= min_free_fraction:
        raise ValueError(f"hysteresis must be in [0, min_free_fraction={min_free_fraction}]: "
                         f"got {hysteresis}")
    if not min_duration_s >= 0:
        raise ValueError(f"min_duration_s must be >= 0: got {min_duration_s}")
    if not max_gap_s > 0:
        raise ValueError(f"max_gap_s must be > 0: got {max_gap_s}")


def find_windows(
    X: np.ndarray,
    min_free_fraction: float = 0.5,
    min_duration_s: float = 3600.0,
    hysteresis: float = 0.0,
    max_gap_s: float = MAX_GAP_S,
) -> np.ndarray:
    """Idle windows of readings of free capacity.

    A reading *enters* idle when its free fraction is at least ``min_free_fraction``; once idle,
    readings *stay* idle while their free fraction is at least
    ``min_free_fraction - hysteresis``. A window starts at the entering reading and ends at the
    first reading that leaves, at the last reading before a gap longer than ``max_gap_s``, or
    at the last reading (then it is ongoing). Windows shorter than ``min_duration_s`` are
    dropped.

    Parameters
    ----------
    X : array-like of shape (n, 2)
        Columns ``[time, free_fraction]``, times strictly increasing.
    min_free_fraction : float, default=0.5
        Enter threshold, share of capacity in (0, 1].
    min_duration_s : float, default=3600
        Shortest window kept, seconds (>= 0).
    hysteresis : float, default=0
        How far below the enter threshold an idle run may dip and continue, in [0,
        min_free_fraction].
    max_gap_s : float, default=21600
        Longest gap between readings across which a value still holds, seconds (> 0).

    Returns
    -------
    windows : ndarray of shape (k, 5)
        Columns :data:`WINDOW_COLUMNS`: start, end, least free fraction among the readings
        from the entering one up to but excluding the leaving one, time-weighted mean free
        fraction over ``[start, end)``, and 1.0 if ongoing else 0.0. Sorted by start.

    Raises
    ------
    ValueError
        If a threshold is out of range or ``X`` is not as described.
    """
    check_thresholds(min_free_fraction, min_duration_s, hysteresis, max_gap_s)
    t, f = _check_X(X)
    return _windows(t, f, f, min_free_fraction, min_duration_s, hysteresis, max_gap_s)


def idle_readings(
    X: np.ndarray,
    min_free_fraction: float = 0.5,
    hysteresis: float = 0.0,
    max_gap_s: float = MAX_GAP_S,
) -> np.ndarray:
    """Whether each reading is inside an idle run (before the duration filter).

    Parameters are as for :func:`find_windows`; returns a bool array of shape (n,).
    """
    check_thresholds(min_free_fraction, 0.0, hysteresis, max_gap_s)
    t, f = _check_X(X)
    return _idle(t, f, min_free_fraction, min_free_fraction - hysteresis, max_gap_s)


def _windows(t: np.ndarray, f: np.ndarray, values: np.ndarray, min_free_fraction: float,
             min_duration_s: float, hysteresis: float, max_gap_s: float) -> np.ndarray:
    # Thresholds apply to the free fractions f; min and mean summarise ``values``, so a
    # caller can have them in the asset's units without a lossy round trip via fractions.
    n = t.size
    if n == 0:
        return np.zeros((0, len(WINDOW_COLUMNS)))
    idle = _idle(t, f, min_free_fraction, min_free_fraction - hysteresis, max_gap_s)
    gap_after = np.append(np.diff(t) > max_gap_s, True)
    # Run boundaries: an idle reading starts a run unless its predecessor is idle and joined.
    first = idle & ~np.append(False, idle[:-1] & ~gap_after[:-1])
    last = idle & ~np.append(idle[1:] & ~gap_after[:-1], False)
    a, b = np.flatnonzero(first), np.flatnonzero(last)
    # A run closed by a leaving reading ends there; otherwise at its own last reading.
    closed = ~gap_after[b]
    end_idx = np.where(closed, b + 1, b)
    start, end = t[a], t[end_idx]
    ongoing = b == n - 1

    # Each reading holds until the next one, except before a gap; the sums run over the
    # readings a .. end_idx - 1, whose intervals tile [start, end) exactly.
    hold = np.where(gap_after, 0.0, np.append(np.diff(t), 0.0))
    cum = np.concatenate(([0.0], np.cumsum(hold * values)))
    duration = end - start
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(duration > 0, (cum[end_idx] - cum[a]) / duration, values[a])
    # Least over readings a .. b; the sentinel lets the last run's slice end at n.
    bounds = np.column_stack((a, b + 1)).ravel()
    least = np.minimum.reduceat(np.append(values, np.inf), bounds)[::2] if a.size else mean

    keep = duration >= min_duration_s
    return np.column_stack(
        (start, end, least, mean, ongoing.astype(float))
    )[keep].reshape(-1, len(WINDOW_COLUMNS))


def _idle(t: np.ndarray, f: np.ndarray, enter_at: float, stay_at: float,
          max_gap_s: float) -> np.ndarray:
    # Hysteresis as "last event wins": entering sets 1, leaving or a gap resets to 0, and
    # readings in the dead band (-1) carry the state of the last event before them.
    n = t.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    after_gap = np.append(False, np.diff(t) > max_gap_s)
    enter = f >= enter_at
    stay = f >= stay_at
    event = np.where(enter, 1, np.where(~stay | after_gap, 0, -1))
    event[0] = max(event[0], 0)  # nothing before the first reading to carry
    last_event = np.maximum.accumulate(np.where(event >= 0, np.arange(n), 0))
    return np.asarray(event[last_event] == 1)


def _check_X(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = check_array(X, dtype=float, ensure_min_samples=0)
    if X.shape[1] != 2:
        raise ValueError(f"X must have 2 columns [time, free_fraction]: got {X.shape[1]}")
    t, f = X[:, 0], X[:, 1]
    if np.any(np.diff(t) <= 0):
        raise ValueError("times (column 0 of X) must be strictly increasing")
    return t, f


@dataclass(frozen=True)
class IdleWindow:
    """An idle window in the asset's units: free quantities, not fractions."""

    start: float
    end: float
    min_free: float
    mean_free: float
    ongoing: bool


def idle_windows(
    times: np.ndarray,
    free: np.ndarray,
    capacity: float,
    min_free_fraction: float = 0.5,
    min_duration_s: float = 3600.0,
    hysteresis: float = 0.0,
    max_gap_s: float = MAX_GAP_S,
) -> list[IdleWindow]:
    """Idle windows of an asset from its readings' free quantities.

    Parameters
    ----------
    times : array-like of shape (n,)
        Reading times, epoch seconds, in any order (duplicates: the later one wins).
    free : array-like of shape (n,)
        Free quantity of each reading, in the asset's unit
        (see :func:`analytics.series.free_quantity`).
    capacity : float
        The asset's capacity, > 0.
    min_free_fraction, min_duration_s, hysteresis, max_gap_s
        As for :func:`find_windows`.

    Returns
    -------
    list of IdleWindow
        Sorted by start.
    """
    check_thresholds(min_free_fraction, min_duration_s, hysteresis, max_gap_s)
    if not capacity > 0:
        raise ValueError(f"capacity must be > 0: got {capacity}")
    t, q = as_series(times, free)
    rows = _windows(t, q / capacity, q, min_free_fraction, min_duration_s, hysteresis, max_gap_s)
    return [IdleWindow(float(s), float(e), float(lo), float(m), bool(o)) for s, e, lo, m, o in rows]
