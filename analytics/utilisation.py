"""Utilisation per time bucket, time-weighted over the readings' step function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analytics.series import MAX_GAP_S, Steps, free_quantity
from idleshare.assets import KINDS
from idleshare.assets import kind as asset_kind


@dataclass(frozen=True)
class UtilisationDefinition:
    """What "utilised" means for one asset kind."""

    kind: str
    description: str
    #: ``(free quantity, capacity) -> utilisation`` in [0, 1], on arrays.
    value_fn: Callable[[np.ndarray, float], np.ndarray]


def _used(free: np.ndarray, capacity: float) -> np.ndarray:
    return 1.0 - free / capacity


def _filled(free: np.ndarray, capacity: float) -> np.ndarray:
    # A container's free quantity is its fill, and its utilisation is how full it is.
    return free / capacity


_FILLED = {"container"}

UTILISATION: tuple[UtilisationDefinition, ...] = tuple(
    UtilisationDefinition(k.name, "fill / capacity", _filled)
    if k.name in _FILLED
    else UtilisationDefinition(k.name, "1 - free / capacity", _used)
    for k in KINDS
)

UTILISATION_BY_KIND: dict[str, UtilisationDefinition] = {u.kind: u for u in UTILISATION}


def utilisation_series(
    times: np.ndarray,
    values: np.ndarray,
    capacity: float,
    kind: str,
    start: float,
    end: float,
    bucket_s: float = 3600.0,
    max_gap_s: float = MAX_GAP_S,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time-weighted utilisation of an asset per bucket.

    Parameters
    ----------
    times, values : array-like of shape (n,)
        Readings of the asset's primary metric. Only these are used: the value holding at
        ``start`` comes from the last reading given before it, if any.
    capacity : float
        The asset's capacity, > 0.
    kind : str
        Asset kind; selects the utilisation definition in :data:`UTILISATION`.
    start, end : float
        Time range, epoch seconds. Buckets are every multiple of ``bucket_s`` (UTC epoch
        seconds) from the one containing ``start`` to the last one starting before ``end``.
    bucket_s : float, default=3600
        Bucket length in seconds (the API uses 3600 or 86400).
    max_gap_s : float, default=21600
        Longer gaps between readings are unknown time.

    Returns
    -------
    bucket_starts : ndarray of shape (m,)
        Start of each whole bucket.
    utilisation : ndarray of shape (m,)
        Mean utilisation over the part of the bucket with data; NaN where there is none.
    coverage : ndarray of shape (m,)
        Share of the bucket with data, in [0, 1].

    Raises
    ------
    ValueError
        If ``capacity`` or ``bucket_s`` is not positive, or the readings are invalid.
    idleshare.errors.ConfigError
        If ``kind`` is unknown.
    """
    asset_kind(kind)  # refuse an unknown kind before anything else
    if not capacity > 0:
        raise ValueError(f"capacity must be > 0: got {capacity}")
    if not bucket_s > 0:
        raise ValueError(f"bucket_s must be > 0: got {bucket_s}")
    first = np.floor(start / bucket_s) * bucket_s
    n_buckets = max(int(np.ceil((end - first) / bucket_s)), 0)
    edges = first + bucket_s * np.arange(n_buckets + 1)
    if n_buckets == 0:
        return edges[:0], np.zeros(0), np.zeros(0)

    steps = Steps.from_readings(times, values, max_gap_s)
    used = UTILISATION_BY_KIND[kind].value_fn(free_quantity(kind, steps.values, capacity), capacity)
    covered, integral = Steps(steps.starts, steps.ends, used).cumulative(edges)
    seconds, weighted = np.diff(covered), np.diff(integral)
    with np.errstate(invalid="ignore", divide="ignore"):
        utilisation = np.where(seconds > 0, weighted / seconds, np.nan)
    return edges[:-1], utilisation, seconds / bucket_s
