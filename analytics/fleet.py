"""Forecast-based offers for many assets at once: one model per asset kind.

An asset uses the forecaster when its readings span at least :data:`MIN_FORECAST_DAYS`
days; below that, the seasonal-naive offer builder (:mod:`analytics.offers`) serves it, since
the lag features need whole weeks of history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.forecast import HOUR, WEEK_H, FleetForecaster, hourly_free, seasonal_naive
from analytics.forecast_offers import offers_from_forecast
from analytics.policy import SharingPolicy
from analytics.series import MAX_GAP_S

#: Least history, in days, for the forecaster (one calibration week plus one to learn from).
MIN_FORECAST_DAYS = 14
#: History the forecaster reads: four weeks of lags plus the calibration week.
FORECAST_LOOKBACK_S = 35 * 86400.0
#: The offers' method: the forecaster's offer bound, calibrated per asset for precision
#: (:meth:`analytics.forecast.FleetForecaster.predict_offer`), not its P10.
METHOD = "forecast_bound"


@dataclass(frozen=True)
class FleetAsset:
    """One asset's free quantity over its history, for :func:`fleet_offers`."""

    times: np.ndarray
    free: np.ndarray
    capacity: float
    policy: SharingPolicy


def long_enough(times: np.ndarray, now: float) -> bool:
    """Whether readings reach back :data:`MIN_FORECAST_DAYS` days before ``now``."""
    return len(times) > 0 and now - float(np.min(times)) >= MIN_FORECAST_DAYS * 86400.0


def fleet_offers(assets: list[FleetAsset], now: float,
                 lookback_s: float = FORECAST_LOOKBACK_S,
                 max_gap_s: float = MAX_GAP_S, max_rows: int = 200_000) -> list[np.ndarray]:
    """Offers (:data:`analytics.offers.OFFER_COLUMNS`) for each asset, from one
    :class:`FleetForecaster` fitted on all of them (they should share a kind).

    The forecast starts at the first whole hour after ``now``.
    """
    if not assets:
        return []
    origin_t = np.ceil(now / HOUR) * HOUR
    n_hist = int(lookback_s // HOUR)
    t0 = origin_t - n_hist * HOUR
    X = np.stack([hourly_free(a.times, a.free, t0, n_hist, max_gap_s) / a.capacity
                  for a in assets])
    lower = FleetForecaster(t0=t0, max_rows=max_rows).fit(X).predict_offer(X)
    # An hour of the week without data in the last four weeks is unknown: never promised.
    ahead = np.arange(n_hist, n_hist + WEEK_H)
    seen = np.array([np.isfinite(seasonal_naive(y, n_hist, ahead)) for y in X])
    lower = np.where(seen, lower, 0.0)
    return [offers_from_forecast(lo * a.capacity, origin_t, a.capacity, a.policy, now)
            for a, lo in zip(assets, lower, strict=True)]


__all__ = ["FORECAST_LOOKBACK_S", "METHOD", "MIN_FORECAST_DAYS", "WEEK_H", "FleetAsset",
           "fleet_offers", "long_enough"]
