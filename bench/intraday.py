"""Intraday origins: forecasts made during the day, which know the current level.

Definitions (also in docs/analytics.md)
    A data set's *active hours* are the UTC hours of day with data on at least half of the
    days from its first origin on (the car parks report 08:00-16:00; the plant and the bike
    fleet every hour). *Intraday origins* are every ``step_h`` hours of those, each day from
    the first origin while the 7-day horizon ends by the data's end. At each origin the
    forecaster's median (:func:`analytics.forecast.level_median`: anchor plus the persisting
    share of the current deviation, the share learned on the fleet's past problems exactly as
    :class:`~analytics.forecast.FleetForecaster` learns it) is compared with weekly seasonal
    naive over the hours with data in the next ``short_h`` hours and in the next 7 days.

    *In hindsight* (``mae_short_hindsight``): the same median with, per hour of day of the
    origin and hour ahead, the persisting share that fits the test hours themselves best
    (:func:`lad_slope` on them, unclipped). No forecaster of this form
    -- the anchor plus a share of the current deviation -- can do better on these hours.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from analytics.forecast import (
    AHEAD,
    CURRENT,
    WEEK_H,
    features,
    level_median,
    persistence,
    seasonal_naive,
    training_rows,
)
from bench.evaluate import ForecastData

HOUR = 3600.0


@dataclass(frozen=True)
class IntradayFigures:
    origins: int
    short_h: int
    mae_short: float
    mae_short_weekly_naive: float
    mae_week: float
    mae_week_weekly_naive: float
    seconds: float
    #: The next ``short_h`` hours' MAE with the persistence fitted on them (module docstring).
    mae_short_hindsight: float = float("nan")

    @property
    def improvement_short(self) -> float:
        return 1.0 - self.mae_short / self.mae_short_weekly_naive

    @property
    def improvement_short_hindsight(self) -> float:
        return 1.0 - self.mae_short_hindsight / self.mae_short_weekly_naive

    @property
    def improvement_week(self) -> float:
        return 1.0 - self.mae_week / self.mae_week_weekly_naive


def lad_slope(x: np.ndarray, y: np.ndarray) -> float:
    """The slope ``b`` minimising ``sum |y - b x|`` (the median is judged by absolute error):
    the median of ``y / x`` weighted by ``|x|`` (0 without a nonzero ``x``)."""
    nonzero = np.abs(x) > 1e-12
    ratio, weight = y[nonzero] / x[nonzero], np.abs(x[nonzero])
    if ratio.size == 0:
        return 0.0
    order = np.argsort(ratio)
    cum = np.cumsum(weight[order])
    return float(ratio[order][np.searchsorted(cum, cum[-1] / 2)])


def active_hours(data: ForecastData) -> list[int]:
    """UTC hours of day with data on at least half of the days from the first origin."""
    series = np.stack(data.series)[:, data.first:data.n]
    days = series.shape[1] // 24
    seen = np.isfinite(series[:, :days * 24]).any(axis=0).reshape(days, 24)
    first_hour = int(data.t0 // HOUR % 24)
    return sorted((first_hour + h) % 24 for h in np.flatnonzero(seen.mean(axis=0) >= 0.5))


def intraday_origins(data: ForecastData, step_h: int = 2, day_step: int = 1) -> list[int]:
    """Every ``step_h`` hours of the active hours, each ``day_step``-th day from the first
    origin while the 7-day horizon ends by the data's end (module docstring)."""
    first_hour = int(data.t0 // HOUR % 24)
    offsets = [(h - first_hour) % 24 for h in active_hours(data)[::step_h]]
    return [d + o for d in range(data.first, data.n - WEEK_H - 23, 24 * day_step)
            for o in offsets]


def intraday_backtest(data: ForecastData, step_h: int = 2, short_h: int = 8,
                      day_step: int = 1) -> IntradayFigures:
    """MAE of the median against weekly naive from intraday origins (module docstring)."""
    began = time.perf_counter()
    origins = intraday_origins(data, step_h, day_step)
    err = {"short": [], "short_naive": [], "week": [], "week_naive": []}
    # Per (hour of day of the origin, hour ahead): current deviations and residuals over the
    # anchor of the near hours, for the persistence fitted in hindsight.
    near_problems: dict[tuple[int, int], list[np.ndarray]] = {}
    for o in origins:
        # As the forecaster: the persisting share is learned before its calibration week.
        rows = [training_rows(y, data.t0, o - WEEK_H) for y in data.series]
        F = np.concatenate([r[0] for r in rows])
        target = np.concatenate([r[1] for r in rows])
        phi = persistence(F, target - F[:, -1], WEEK_H)
        idx = np.arange(o, o + WEEK_H)
        for y in data.series:
            actual, naive = y[idx], seasonal_naive(y, o, idx)
            F = features(y, data.t0, o, idx)
            median = level_median(F, phi)
            ok = np.isfinite(actual) & np.isfinite(naive) & np.isfinite(median)
            near = ok & (idx < o + short_h)
            for a in np.flatnonzero(near):
                near_problems.setdefault(((o - data.first) % 24, int(F[a, AHEAD])), []).append(
                    np.array([np.nan_to_num(F[a, CURRENT]), actual[a] - F[a, -1]]))
            err["short"].append(np.abs(median - actual)[near])
            err["short_naive"].append(np.abs(naive - actual)[near])
            err["week"].append(np.abs(median - actual)[ok])
            err["week_naive"].append(np.abs(naive - actual)[ok])
    mean = {k: float(np.concatenate(v).mean()) for k, v in err.items()}
    hindsight = []
    for rows in near_problems.values():
        d, r = np.array(rows).T
        hindsight.append(np.abs(r - lad_slope(d, r) * d))
    return IntradayFigures(origins=len(origins), short_h=short_h, mae_short=mean["short"],
                           mae_short_weekly_naive=mean["short_naive"], mae_week=mean["week"],
                           mae_week_weekly_naive=mean["week_naive"],
                           seconds=time.perf_counter() - began,
                           mae_short_hindsight=float(np.concatenate(hindsight).mean()))
