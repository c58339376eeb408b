"""The real data sets meet the targets of issues 5 and 15 (these fail below them).

Backtests and the intraday backtest use the origins of ``python -m bench evaluate``, so the
figures held here are the printed ones; the churn replay runs 8 car parks every hour (the
bench all 29), to stay inside the test-time budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from threadpoolctl import threadpool_limits

from bench.evaluate import (
    ForecastData,
    ParkingFigures,
    backtest,
    bike_share_data,
    evaluate_occupancy,
    evaluate_parking,
    evaluate_steel,
    hindsight_bounds,
    parking_data,
    steel_data,
)
from bench.intraday import intraday_backtest
from bench.replay import replay_day

#: Issue 15's targets: idle capture of the shareable unit-hours at offer precision >= 97 %,
#: P10 coverage within 88-92 %, on each data set; the next 1-8 h >= 30 % better than weekly
#: naive on the car parks (out of reach: see the intraday test).
CAPTURE_TARGET, PRECISION_TARGET, COVERAGE_TARGET = 0.85, 0.97, (0.88, 0.92)
SHORT_TARGET = 0.30
#: How close the forecaster's persistence, learned from the past, comes to the one fitted on
#: the test hours in hindsight (points of improvement).
HINDSIGHT_GAP = 0.02


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    # Gradient boosting's OpenMP threads spin on a shared 2-core machine: 10-20x slower.
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def parking() -> ParkingFigures:
    return evaluate_parking(step_h=48)


def test_room_occupancy_is_at_least_97_percent_accurate_on_the_test_file() -> None:
    assert evaluate_occupancy()["accuracy"] >= 0.97


def test_car_park_forecasts_beat_the_daily_and_weekly_seasonal_naive_baselines(
    parking: ParkingFigures,
) -> None:
    assert parking.origins >= 11 and parking.hours > 19000
    assert parking.improvement_daily >= 0.25
    assert parking.improvement_weekly >= 0.03


def test_even_knowing_the_future_weeks_does_not_beat_weekly_naive_by_a_quarter() -> None:
    # Why issue 5's 25 % against the weekly season is left open: averaging the actual weeks
    # before and after each hour (data no forecaster has) gains 17 %, the whole period's
    # profile 8-10 %. If this ever fails, the data changed and the target may be reachable.
    bounds = hindsight_bounds(step_h=96)
    assert 0.0 < bounds["week_profile"] < bounds["neighbour_weeks"] < 0.25


def test_intraday_forecasts_use_the_current_level_as_well_as_hindsight_would_on_car_parks(
) -> None:
    # Issue 15's 30 % over the next 1-8 h is out of reach for a median of the anchor plus a
    # share of the current deviation: even the share fitted on the test hours themselves
    # stays below it. The forecaster's, learned from the past, comes within a few points.
    figures = intraday_backtest(parking_data(), day_step=1)
    assert figures.origins >= 100
    assert figures.improvement_short_hindsight < SHORT_TARGET
    assert figures.improvement_short >= figures.improvement_short_hindsight - HINDSIGHT_GAP
    assert figures.improvement_week >= 0.03


def test_the_p10_is_calibrated_and_offers_are_trusted_on_the_car_parks(
    parking: ParkingFigures,
) -> None:
    low, high = COVERAGE_TARGET
    assert low <= parking.p10_coverage <= high
    assert parking.offer_precision >= PRECISION_TARGET
    assert parking.idle_capture_shareable >= CAPTURE_TARGET


def test_unsupervised_machine_states_agree_with_the_steel_plant_load_labels() -> None:
    figures = evaluate_steel()
    # No target in the issue: this guards the figure in docs/analytics.md from regressing.
    assert figures["accuracy"] >= 0.6 and figures["adjusted_rand_index"] >= 0.3


@pytest.mark.parametrize("data", [steel_data, bike_share_data], ids=["steel_plant", "bike_share"])
def test_machine_and_equipment_pool_forecasts_and_offers_meet_the_same_targets(
    data: Callable[[], ForecastData],
) -> None:
    figures = backtest(data(), step_h=48)
    assert figures.origins >= 40 and figures.hours > 7000
    assert figures.improvement_daily >= 0.25
    assert figures.improvement_weekly >= 0.05
    low, high = COVERAGE_TARGET
    assert low <= figures.p10_coverage <= high
    assert figures.offer_precision >= PRECISION_TARGET
    assert figures.idle_capture_shareable >= CAPTURE_TARGET


def test_offers_change_at_most_four_times_a_day_in_a_replayed_day() -> None:
    churn = replay_day(interval_s=3600.0, assets=8)
    assert churn.passes == 24 and churn.offers > 50
    assert churn.updated_per_offer_day <= 4.0
