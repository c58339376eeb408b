"""Readings as a step function with gaps: the one place that decides which value holds when.

Each reading's value holds from its timestamp until the next reading's; the last reading covers
no time, and a reading followed by a gap longer than ``max_gap_s`` covers no time either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from idleshare.assets import kind as asset_kind

#: Default longest gap between two readings across which the earlier value still holds.
MAX_GAP_S = 6 * 3600.0


def as_series(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate readings and return them oldest first with one value per timestamp.

    Parameters
    ----------
    times : array-like of shape (n,)
        Reading times, seconds since the Unix epoch, in any order.
    values : array-like of shape (n,)
        Reading values.

    Returns
    -------
    times, values : ndarray of shape (m,)
        Sorted by time; of duplicate timestamps the later one in the input wins, as in a store
        where writing the same key again overwrites the value.

    Raises
    ------
    ValueError
        If the arrays are not 1-D, differ in length or hold NaN or infinity.
    """
    t = np.asarray(times, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.ndim != 1 or v.ndim != 1 or t.shape != v.shape:
        raise ValueError(f"times and values must be 1-D of equal length: got {t.shape}, {v.shape}")
    if not (np.isfinite(t).all() and np.isfinite(v).all()):
        raise ValueError("times and values must be finite")
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    # Keep the last of each run of equal timestamps.
    last = np.append(t[1:] != t[:-1], True) if t.size else np.zeros(0, dtype=bool)
    return t[last], v[last]


def free_quantity(kind: str, values: np.ndarray, capacity: float) -> np.ndarray:
    """Free quantity of each reading of an asset's primary metric, in the asset's unit.

    Uses :meth:`idleshare.assets.AssetKind.free`, so the clamping to ``[0, capacity]`` is the
    asset model's, not a copy of it.
    """
    k = asset_kind(kind)
    v = np.asarray(values, dtype=float)
    return np.fromiter((k.free(float(x), capacity) for x in v), dtype=float, count=v.size)


@dataclass(frozen=True)
class Steps:
    """A step function: reading ``i`` holds ``values[i]`` over ``[starts[i], ends[i])``.

    ``ends[i] == starts[i]`` for a reading that covers no time (the last one, or one followed by
    a gap). Intervals are sorted and do not overlap.
    """

    starts: np.ndarray
    ends: np.ndarray
    values: np.ndarray

    @classmethod
    def from_readings(
        cls, times: np.ndarray, values: np.ndarray, max_gap_s: float = MAX_GAP_S
    ) -> Steps:
        """Build the step function of readings (see :func:`as_series` for the input rules)."""
        if not max_gap_s > 0:
            raise ValueError(f"max_gap_s must be > 0: got {max_gap_s}")
        t, v = as_series(times, values)
        nxt = np.append(t[1:], t[-1:])  # the last reading ends where it starts
        ends = np.where(nxt - t <= max_gap_s, nxt, t)
        return cls(starts=t, ends=ends, values=v)

    def cumulative(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Seconds with data and integral of the value, both from the first reading up to ``x``.

        Differences of these at bucket edges give time-weighted sums per bucket exactly, in
        O((n + m) log n) instead of intersecting every bucket with every interval.
        """
        x = np.asarray(x, dtype=float)
        if self.starts.size == 0:
            return np.zeros_like(x), np.zeros_like(x)
        length = self.ends - self.starts
        cov_before = np.concatenate(([0.0], np.cumsum(length)))
        int_before = np.concatenate(([0.0], np.cumsum(length * self.values)))
        i = np.searchsorted(self.starts, x, side="right") - 1
        j = np.clip(i, 0, None)
        inside = np.where(i >= 0, np.clip(x - self.starts[j], 0.0, length[j]), 0.0)
        covered = np.where(i >= 0, cov_before[j] + inside, 0.0)
        integral = np.where(i >= 0, int_before[j] + inside * self.values[j], 0.0)
        return covered, integral

    def covered_intervals(self) -> np.ndarray:
        """The time with data as merged ``[start, end)`` intervals, shape (k, 2)."""
        return merge_intervals(np.column_stack((self.starts, self.ends)))


def merge_intervals(intervals: np.ndarray) -> np.ndarray:
    """Sort ``[start, end)`` intervals and merge those that overlap or touch; drop empty ones.

    Parameters
    ----------
    intervals : array-like of shape (k, 2)

    Returns
    -------
    merged : ndarray of shape (j, 2)
        Sorted, disjoint and not touching, so a containment test needs one search.
    """
    iv = np.asarray(intervals, dtype=float).reshape(-1, 2)
    iv = iv[iv[:, 1] > iv[:, 0]]
    if iv.size == 0:
        return np.zeros((0, 2))
    iv = iv[np.argsort(iv[:, 0], kind="stable")]
    reach = np.maximum.accumulate(iv[:, 1])
    # An interval starts a new block unless it begins at or before the block's furthest end.
    new = np.append(True, iv[1:, 0] > reach[:-1])
    first = np.flatnonzero(new)
    return np.column_stack((iv[first, 0], np.maximum.reduceat(iv[:, 1], first)))


def contained(intervals: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Whether each ``[start, end]`` lies inside one of sorted, disjoint ``intervals``."""
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    if len(intervals) == 0:
        return np.zeros(start.shape, dtype=bool)
    i = np.searchsorted(intervals[:, 0], start, side="right") - 1
    j = np.clip(i, 0, None)
    return (i >= 0) & (end <= intervals[j, 1])
