"""When a container will be full: its fill rate since it was last emptied, and the time it
reaches a level, with a lower and an upper estimate.

Definitions (also in docs/analytics.md)
    An *emptying* is a fall of the fill between two readings by more than ``drop_share`` of
    the capacity (a collection; noise and settling are far smaller). The *current cycle* is
    the readings from the last emptying on (all readings if none is seen).

    The *fill rate* is the Theil-Sen slope of the current cycle's fill over time (the median
    of the slopes between all pairs of readings: a few wild readings do not move it), with
    the slopes' ``confidence`` interval (Sen 1968) as its lower and upper rates; the lower
    rate is never below 0 (material does not leave a container between collections). The
    level now is the fitted line at the last reading's time; its lower estimate that less the
    ``confidence`` quantile of the cycle's absolute residuals.

    With fewer than ``min_points`` readings in the current cycle (it was just emptied) the
    rate is the median of the past cycles' rates and its bounds their least and greatest;
    the level now is the last reading. Without either, there is no forecast.

    A level ``L`` is reached at ``at + (L - level) / rate``: the earliest estimate with the
    upper rate, the latest with the lower one (never, at a rate of 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy.stats import theilslopes

#: A fall of more than this share of capacity between two readings is an emptying.
DROP_SHARE = 0.25
#: Readings a cycle needs for a rate of its own.
MIN_POINTS = 4
#: Two-sided confidence of the rate's bounds and of the level's lower estimate.
CONFIDENCE = 0.9
#: Theil-Sen compares all pairs of readings: a longer cycle is thinned to this many.
MAX_FIT_POINTS = 600
HOUR = 3600.0


@dataclass(frozen=True)
class FillForecast:
    """A container's fill at ``at`` (the last reading's time) and how fast it rises."""

    at: float
    #: Fitted fill at ``at`` and its lower estimate, in the asset's unit.
    level: float
    level_lower: float
    #: Fill rate per hour, and its lower and upper estimates (lower >= 0).
    rate_per_h: float
    rate_lower_per_h: float
    rate_upper_per_h: float
    #: Time of the current cycle's first reading.
    cycle_start: float
    #: Time of the reading that showed the last emptying; None when none was seen.
    emptied_at: float | None
    capacity: float

    def lower_level_at(self, t: float) -> float:
        """The least fill expected at ``t >= at``: the lower level rising at the lower rate,
        within [0, capacity]."""
        level = self.level_lower + self.rate_lower_per_h * max(t - self.at, 0.0) / HOUR
        return float(min(max(level, 0.0), self.capacity))

    def reaches(self, level: float, estimate: str = "central") -> float | None:
        """When the fill reaches ``level``: ``central`` (the rate), ``earliest`` (the upper
        rate) or ``latest`` (the lower rate); ``at`` if it is there already; None: never at
        that rate."""
        rate = {"central": self.rate_per_h, "earliest": self.rate_upper_per_h,
                "latest": self.rate_lower_per_h}[estimate]
        start = self.level_lower if estimate == "latest" else self.level
        if start >= level:
            return self.at
        if rate <= 0:
            return None
        return self.at + (level - start) / rate * HOUR


def emptyings(fill: np.ndarray, capacity: float, drop_share: float = DROP_SHARE) -> np.ndarray:
    """Indices of the readings that follow an emptying (each starts a cycle)."""
    return np.flatnonzero(np.diff(fill) < -drop_share * capacity) + 1


def _slopes(times: np.ndarray, fill: np.ndarray, confidence: float
            ) -> tuple[float, float, float, float, np.ndarray]:
    """Theil-Sen slope per hour, its bounds, the line's value at the last time, and the
    residuals."""
    if times.size > MAX_FIT_POINTS:
        keep = np.unique(np.linspace(0, times.size - 1, MAX_FIT_POINTS).round().astype(int))
        times, fill = times[keep], fill[keep]
    hours = (times - times[-1]) / HOUR  # the intercept is then the level at the last reading
    fit = theilslopes(fill, hours, alpha=confidence)
    residuals = fill - (fit.intercept + fit.slope * hours)
    return float(fit.slope), float(fit.low_slope), float(fit.high_slope), float(
        fit.intercept), residuals


def forecast_fill(
    times: Sequence[float] | np.ndarray,
    fill: Sequence[float] | np.ndarray,
    capacity: float,
    *,
    drop_share: float = DROP_SHARE,
    min_points: int = MIN_POINTS,
    confidence: float = CONFIDENCE,
) -> FillForecast | None:
    """The fill forecast of a container from its fill readings (rules above); None without
    enough readings.

    Raises
    ------
    ValueError
        If ``times`` and ``fill`` differ in length, capacity is not positive, or
        ``confidence`` is not in (0, 1).
    """
    t = np.asarray(times, dtype=float)
    y = np.asarray(fill, dtype=float)
    if t.shape != y.shape or t.ndim != 1:
        raise ValueError(f"times and fill must be 1-d of one length: got {t.shape}, {y.shape}")
    if not capacity > 0:
        raise ValueError(f"capacity must be > 0: got {capacity}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1): got {confidence}")
    ok = np.isfinite(t) & np.isfinite(y)
    order = np.argsort(t[ok], kind="stable")
    t, y = t[ok][order], y[ok][order]
    if t.size == 0:
        return None
    starts = emptyings(y, capacity, drop_share)
    bounds = [0, *starts.tolist(), t.size]
    first = bounds[-2]
    if t.size - first >= min_points:
        rate, low, high, level, residuals = _slopes(t[first:], y[first:], confidence)
        lower = max(level - float(np.quantile(np.abs(residuals), confidence)), 0.0)
    else:
        past = [_slopes(t[a:b], y[a:b], confidence)[0]
                for a, b in pairwise(bounds[:-1]) if b - a >= min_points]
        if not past:
            return None
        rate, low, high = float(np.median(past)), min(past), max(past)
        level = lower = float(y[-1])
    return FillForecast(at=float(t[-1]), level=level, level_lower=lower, rate_per_h=rate,
                        rate_lower_per_h=max(low, 0.0), rate_upper_per_h=max(high, 0.0),
                        cycle_start=float(t[first]),
                        emptied_at=float(t[first]) if starts.size else None,
                        capacity=float(capacity))
