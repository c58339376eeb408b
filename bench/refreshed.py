"""Idle capture of offers as the service makes them: re-issued at every intraday origin.

Definitions (also in docs/analytics.md)
    :func:`bench.evaluate.backtest` judges the offers made at midnight origins every 48 h over
    the whole 7 days after each: the conservative basis. The service re-issues offers at every
    analysis pass with the current level. Here the forecaster is refitted at every intraday
    origin (:func:`bench.intraday.intraday_origins`: every 2 h of the active hours, every
    day), its offers are made from its offer bound with the default policy, and each hour is
    judged with the offer live at its start: the one issued at the latest origin before it,
    under the churn rule hour by hour (:func:`analytics.churn.meaningful_change` on the hour:
    a stored quantity stays while the new one, still offered, is within
    :data:`analytics.churn.QUANTITY_SHARE` of it). Hours judged: from the first origin to the
    last one's next day. Precision and capture are defined as in :mod:`bench.evaluate`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from analytics.churn import QUANTITY_SHARE
from analytics.forecast import WEEK_H, FleetForecaster
from analytics.forecast_offers import hourly_offered, offers_from_forecast
from analytics.policy import SharingPolicy
from bench.evaluate import HOUR, ForecastData
from bench.intraday import intraday_origins


@dataclass(frozen=True)
class RefreshedFigures:
    origins: int
    offer_precision: float
    idle_capture: float
    idle_capture_shareable: float
    seconds: float


def refreshed_backtest(data: ForecastData, day_step: int = 1,
                       policy: SharingPolicy | None = None) -> RefreshedFigures:
    """Capture and precision of offers re-issued at intraday origins (module docstring)."""
    began = time.perf_counter()
    policy = policy or SharingPolicy.from_dict({})
    origins = intraday_origins(data, day_step=day_step)
    series = np.stack(data.series)
    caps = np.asarray(data.capacities)
    stored = np.zeros_like(series)  # the live offer's quantity per asset and hour
    live = np.zeros_like(series)  # the quantity live at each hour's start
    for k, o in enumerate(origins):
        history = series[:, :o]
        bound = FleetForecaster(t0=data.t0).fit(history).predict_offer(history)
        start = data.t0 + o * HOUR
        end = min(o + WEEK_H, data.n)
        known = np.isfinite(series[:, o:end])  # hours without data offer nothing
        new = np.stack([hourly_offered(offers_from_forecast(np.where(ok, b[:end - o] * c, 0.0),
                                                            start, c, policy, start),
                                       start, end - o)
                        for b, c, ok in zip(bound, caps, known, strict=True)])
        old = stored[:, o:end]
        keep = (new > 0) & (old > 0) & (np.abs(new - old) < QUANTITY_SHARE * old)
        stored[:, o:end] = np.where(keep, old, new)
        stored[:, end:] = 0.0  # beyond the new horizon nothing is offered any more
        until = origins[k + 1] if k + 1 < len(origins) else min(o + 24, data.n)
        live[:, o:until] = stored[:, o:until]
    judged = slice(origins[0], min(origins[-1] + 24, data.n))
    free = np.nan_to_num(series[:, judged]) * caps[:, None]
    offered = live[:, judged]
    truly = float(np.minimum(offered, free).sum())
    keep_share = 1.0 - policy.reserve_fraction
    return RefreshedFigures(
        origins=len(origins), offer_precision=truly / float(offered.sum()),
        idle_capture=truly / float(free.sum()),
        idle_capture_shareable=truly / (float(free.sum()) * keep_share),
        seconds=time.perf_counter() - began)
