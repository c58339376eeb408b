"""Recurring legs and their free-payload forecasts, with known answers."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator

import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimator
from threadpoolctl import threadpool_limits

from analytics.legs import (
    LegPayloadForecaster,
    forecast_legs,
    group_legs,
    training_rows,
    upcoming,
)
from analytics.trips import Trip
from edge_agent.sources.truck_sim import TruckSim
from tests.analytics.freight import (
    KNOWN_LEGS,
    MONDAY,
    NAMED_PLACES,
    TIMEZONE,
    WEEK_S,
    inferred_trips,
    known_plans,
)


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    # The fits here are small: on a busy machine several OpenMP threads spin against each
    # other (measured 17x slower), one is as fast.
    with threadpool_limits(1):
        yield


def _summary(legs: list) -> set[tuple[str, str | None, str | None, tuple[int, ...]]]:
    return {(leg.asset_id, leg.origin.name, leg.destination.name, leg.weekdays) for leg in legs}


def test_a_simulated_week_gives_exactly_the_known_legs() -> None:
    legs = group_legs(inferred_trips(known_plans()), TIMEZONE, min_trips=1,
                      named_places=NAMED_PLACES)
    assert _summary(legs) == KNOWN_LEGS
    assert sum(len(leg.trips) for leg in legs) == 35
    rtm = next(leg for leg in legs if leg.leg_id.startswith("truck-a:Duisburg>Rotterdam"))
    assert 5.5 <= rtm.earliest_h <= 6.0 <= rtm.latest_h <= 6.6  # leaves at 06:00 local
    assert rtm.run_share == 1.0 and rtm.capacity_t == 24.0
    assert rtm.origin.contains(51.44, 6.75) and not rtm.destination.contains(51.44, 6.75)


def test_grouping_holds_under_gps_noise_and_drops_one_off_trips() -> None:
    # 100 m of GPS noise over two weeks: the same legs, each weekday seen twice.
    legs = group_legs(inferred_trips(known_plans(gps_noise_m=100.0), weeks=2), TIMEZONE,
                      named_places=NAMED_PLACES)
    assert _summary(legs) == KNOWN_LEGS
    # One week only, at least two runs per weekday asked: nothing recurs yet.
    assert group_legs(inferred_trips(known_plans()), TIMEZONE, min_trips=2) == []


def test_upcoming_runs_fall_on_the_legs_weekdays_and_their_windows_hold_the_departures(
) -> None:
    plans = known_plans()
    legs = group_legs(inferred_trips(plans, weeks=2), TIMEZONE, named_places=NAMED_PLACES)
    start, end = MONDAY + 2 * WEEK_S, MONDAY + 3 * WEEK_S
    truth = [(p.truck_id, t) for p in plans for t in TruckSim(p).trips(start, end)]
    runs = [(leg, run) for leg in legs for run in upcoming(leg, start, end)]
    assert len(runs) == len(truth) == 35
    inside = 0
    for truck, true in truth:
        ((earliest, latest, median),) = [
            run for leg, run in runs if leg.asset_id == truck
            and leg.origin.contains(true.origin.lat, true.origin.lon)
            and leg.destination.contains(true.destination.lat, true.destination.lon)
            and abs(run[2] - true.departure) < 12 * 3600]
        assert earliest <= median <= latest and latest - earliest >= 3600
        assert earliest - 1800 <= true.departure <= latest + 1800
        inside += earliest <= true.departure <= latest
    assert inside >= 30  # of 35: the window is what two weeks showed


def _trip(asset: str, departure: float, free_fraction: float, capacity: float = 20.0) -> Trip:
    load = round((1 - free_fraction) * capacity, 3)
    return Trip(asset, departure, departure + 7200, 51.0, 6.0, 51.5, 6.5, 70.0, 64.0, capacity,
                load, load, load * 70.0, ((departure, load),))


def _synthetic_legs(n_legs: int, days: int, seed: int = 0) -> tuple[list[Trip], dict]:
    """Daily legs at 06:00 UTC whose free fraction is 0.3-0.7 plus normal noise (sd 0.1)."""
    rng = np.random.default_rng(seed)
    level = dict(enumerate(rng.uniform(0.3, 0.7, n_legs)))
    trips = [_trip(f"truck-{k}", MONDAY - 3600 + d * 86400.0 + 6 * 3600,
                   float(np.clip(level[k] + rng.normal(0, 0.1), 0, 1)))
             for d in range(days) for k in range(n_legs)]
    return trips, level


def test_the_lower_bound_holds_near_its_target_on_a_series_with_known_noise() -> None:
    trips, level = _synthetic_legs(n_legs=30, days=63)
    cut = MONDAY - 3600 + 56 * 86400.0  # eight weeks to learn from, the ninth forecast
    legs = group_legs([t for t in trips if t.departure < cut], "UTC")
    assert len(legs) == 30 and all(leg.weekdays == tuple(range(7)) for leg in legs)
    model = LegPayloadForecaster().fit(*training_rows(legs))
    forecasts = forecast_legs(legs, model, cut, cut + 7 * 86400.0)
    assert len(forecasts) == 30 * 7
    actual = {(t.asset_id, round(t.departure)): t.free_t for t in trips if t.departure >= cut}
    hits = [actual[(f.asset_id, round(f.departure_earliest + 1800))] >= f.free_t_lower
            for f in forecasts]
    assert 0.85 <= np.mean(hits) <= 0.98  # target 90 %
    # The true P10 is level - 1.28 sd: the forecast is near it, below the median.
    true_p10 = np.array([level[int(f.asset_id.split("-")[1])] - 1.2816 * 0.1 for f in forecasts])
    lower = np.array([f.free_t_lower / f.capacity_t for f in forecasts])
    assert abs(np.median(lower - true_p10)) < 0.05
    for f in forecasts:
        assert f.free_t_lower <= f.free_t_median
        assert f.free_t_lower == math.floor(f.free_t_lower * 10 + 1e-9) / 10
        assert f.confidence == pytest.approx(0.9 * f.run_share) and f.unit == "t"
        assert f.arrival_estimate == f.departure_earliest + 1800 + 7200


def test_the_leg_forecaster_passes_the_scikit_learn_estimator_checks() -> None:
    # Unbounded for the checks, whose targets are standardised (the product keeps (0, 1)).
    check_estimator(LegPayloadForecaster(max_iter=20, bounds=(-np.inf, np.inf)))


def test_the_leg_forecaster_calibrates_its_lower_quantile_and_refuses_bad_parameters() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1200, 3))
    y = X[:, 0] * 0.1 + rng.normal(0, 0.1, 1200) + 0.5
    model = LegPayloadForecaster().fit(X[:600], y[:600])
    assert model.shift_.shape == (2,) and model.shift_[0] < 0 and model.shift_[1] == 0.0
    q = model.predict_quantiles(X[600:])  # rows it did not learn from
    assert np.all(q[:, 0] <= q[:, 1]) and 0.85 <= np.mean(y[600:] >= q[:, 0]) <= 0.97
    for params, match in [({"folds": 1}, "folds"), ({"margin": 0.0}, "margin"),
                          ({"quantiles": (0.5, 0.1)}, "quantiles")]:
        with pytest.raises(ValueError, match=match):
            dataclasses.replace(LegPayloadForecaster(), **params).fit(X, y)
