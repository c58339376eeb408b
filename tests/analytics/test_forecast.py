"""Hourly aggregation, the baselines and the quantile forecaster on known patterns."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.forecast import (
    ANCHOR_BAND,
    FEATURES,
    WEEK_H,
    FleetForecaster,
    QuantileForecaster,
    anchor,
    current_deviation,
    daily_naive,
    hourly_free,
    seasonal_naive,
)

H = 3600.0
T0 = 1_700_006_400.0  # a UTC midnight (a Wednesday)


def test_hourly_free_is_time_weighted_and_nan_without_data() -> None:
    times = T0 + np.array([0.0, 0.5, 1.0, 1.5]) * H
    got = hourly_free(times, np.array([10.0, 20.0, 30.0, 30.0]), T0, 3)
    assert got[:2].tolist() == [15.0, 30.0] and np.isnan(got[2])


def test_seasonal_naive_takes_the_latest_week_with_data_and_daily_the_latest_day() -> None:
    y = np.full(3 * WEEK_H, np.nan)
    y[5], y[WEEK_H + 5], y[2 * WEEK_H - 19] = 1.0, 2.0, 3.0
    origin = 2 * WEEK_H
    assert seasonal_naive(y, origin, np.array([origin + 5])).tolist() == [2.0]
    y[WEEK_H + 5] = np.nan
    assert seasonal_naive(y, origin, np.array([origin + 5])).tolist() == [1.0]
    assert daily_naive(y, origin, np.array([origin + 5, origin + 29])).tolist() == [3.0, 3.0]


def weekly_pattern(weeks: int, n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    hours = np.arange(weeks * WEEK_H)
    base = 0.5 + 0.3 * np.sin(hours % 24 / 24 * 2 * np.pi) * np.where(hours // 24 % 7 < 5, 1, 0.2)
    return [np.clip(base + rng.normal(0, 0.05, hours.size), 0, 1) for _ in range(n)]


def fitted(series: list[np.ndarray], origin: int, **params: int) -> np.ndarray:
    """Forecasts from ``origin`` by a forecaster fitted on the hours before it."""
    X = np.stack(series)[:, :origin]
    return FleetForecaster(t0=T0, **params).fit(X).predict(X)


def test_the_fleet_forecaster_learns_a_weekly_pattern_with_a_p10_that_holds() -> None:
    series = weekly_pattern(6, 8)
    origin = 5 * WEEK_H
    pred = fitted(series, origin, random_state=0)
    actual = np.array([y[origin:origin + WEEK_H] for y in series])
    naive = np.array([daily_naive(y, origin, np.arange(origin, origin + WEEK_H))
                      for y in series])
    assert pred.shape == (8, WEEK_H, 2)
    assert np.all(pred[:, :, 0] <= pred[:, :, 1])
    assert np.abs(pred[:, :, 1] - actual).mean() < 0.75 * np.abs(naive - actual).mean()
    assert (actual >= pred[:, :, 0]).mean() >= 0.9


def test_the_quantile_forecaster_refuses_bad_levels_and_unfitted_use() -> None:
    X, y = np.random.default_rng(0).random((60, len(FEATURES))), np.zeros(60)
    with pytest.raises(ValueError, match="quantiles"):
        QuantileForecaster(quantiles=(0.5, 0.1)).fit(X, y)
    with pytest.raises(Exception, match="not fitted"):
        QuantileForecaster().predict(X)


def test_the_anchor_repeats_last_week_but_not_further_than_the_band_from_the_median() -> None:
    y = np.full(4 * WEEK_H, np.nan)
    origin, hour = 3 * WEEK_H, 3 * WEEK_H + 10
    y[hour - WEEK_H], y[hour - 2 * WEEK_H], y[hour - 3 * WEEK_H] = 0.55, 0.5, 0.5
    assert anchor(y, origin, np.array([hour])).tolist() == [0.55]
    y[hour - WEEK_H] = 0.95  # one odd week: held at median + band
    assert anchor(y, origin, np.array([hour]))[0] == pytest.approx(0.5 + ANCHOR_BAND)
    assert np.isnan(anchor(y, origin, np.array([hour + 1])))[0]


def test_the_fleet_median_is_the_anchor_plus_the_persisting_current_deviation() -> None:
    series = weekly_pattern(6, 4, seed=1)
    origin = 5 * WEEK_H
    idx = np.arange(origin, origin + WEEK_H)
    X = np.stack(series)[:, :origin]
    model = FleetForecaster(t0=T0).fit(X)
    pred = model.predict(X)
    phi = model.persistence_
    assert phi.shape == (WEEK_H,) and ((phi >= 0) & (phi <= 1)).all()
    expected = np.array([np.clip(anchor(y, origin, idx) + phi * current_deviation(y, origin),
                                 0, 1) for y in series])
    np.testing.assert_allclose(pred[:, :, 1], expected)
    assert (pred[:, :, 0] <= pred[:, :, 1]).all() and (pred[:, :, 0] < pred[:, :, 1]).mean() > 0.5


def test_a_day_running_below_its_pattern_lowers_the_next_hours() -> None:
    # Every day at noon the free fraction drops by a level of its own that holds all afternoon.
    rng = np.random.default_rng(3)
    hours = np.arange(6 * WEEK_H)
    shift = np.repeat(rng.normal(0, 0.15, hours.size // 24), 24)
    y = np.clip(0.6 + np.where(hours % 24 >= 12, shift, 0.0), 0, 1)
    origin = 5 * WEEK_H + 15  # 15:00, three hours into today's shift
    X = np.stack([y, y])[:, :origin]
    model = FleetForecaster(t0=T0, horizon_h=8).fit(X)
    assert model.persistence_[:8].min() > 0.5  # learned: the afternoon keeps its level
    median = model.predict(X)[0, :8, 1]
    naive = anchor(y, origin, np.arange(origin, origin + 8))
    actual = y[origin:origin + 8]
    assert np.abs(median - actual)[:9 - 1].mean() < 0.5 * np.abs(naive - actual).mean()


def test_hours_without_an_anchor_fall_back_to_the_daily_naive_value() -> None:
    series = weekly_pattern(6, 4, seed=2)
    origin = 5 * WEEK_H
    series[0] = series[0].copy()
    series[0][origin - 4 * WEEK_H:origin - 24 + 1:WEEK_H] = np.nan  # hour 0 of each week gone
    series[0][origin - 24] = 0.7  # ... except yesterday's
    pred = fitted(series, origin)
    assert pred[0, 0, 1] == pytest.approx(0.7)
