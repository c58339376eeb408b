"""Plain-loop restatements of the analytics rules, to check the vectorised code against.

They follow the wording in :mod:`analytics` line by line and favour obviousness over speed.
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def windows(t: np.ndarray, f: np.ndarray, enter: float, exit_: float, max_gap_s: float,
            min_duration_s: float) -> list[tuple[float, float, float, float, bool]]:
    """Idle windows as (start, end, min_free, mean_free, ongoing), by a state machine."""
    out: list[tuple[float, float, float, float, bool]] = []
    n = len(t)

    def close(a: int, last: int, end_idx: int, ongoing: bool) -> None:
        start, end = t[a], t[end_idx]
        held = sum(f[j] * (t[j + 1] - t[j]) for j in range(a, end_idx))
        mean = held / (end - start) if end > start else f[a]
        if end - start >= min_duration_s:
            out.append((start, end, min(f[a:last + 1]), mean, ongoing))

    a: int | None = None
    for i in range(n):
        if a is not None and t[i] - t[i - 1] > max_gap_s:
            close(a, i - 1, i - 1, ongoing=False)
            a = None
        if a is None:
            if f[i] >= enter:
                a = i
        elif f[i] < exit_:
            close(a, i - 1, i, ongoing=False)
            a = None
    if a is not None:
        close(a, n - 1, n - 1, ongoing=True)
    return out


def bucket_means(t: np.ndarray, u: np.ndarray, edges: np.ndarray,
                 max_gap_s: float) -> tuple[list[float], list[float]]:
    """Time-weighted mean and coverage per bucket, by clipping every step to every bucket."""
    means, coverage = [], []
    for lo, hi in itertools.pairwise(edges):
        seconds = weighted = 0.0
        for j in range(len(t) - 1):
            if t[j + 1] - t[j] > max_gap_s:
                continue
            overlap = max(0.0, min(hi, t[j + 1]) - max(lo, t[j]))
            seconds += overlap
            weighted += overlap * u[j]
        means.append(weighted / seconds if seconds else math.nan)
        coverage.append(seconds / (hi - lo))
    return means, coverage
