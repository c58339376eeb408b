"""The off-the-shelf forecaster goes through the evaluation's own backtests.

On a subset (6 car parks, origins every 240 h: 3 origins) to stay inside the test-time
budget; ``python -m bench evaluate-peers`` runs every car park and the bench's origins.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, replace

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from analytics.forecast import WEEK_H, FleetForecaster, seasonal_naive
from bench.evaluate import ForecastData, ForecastFigures, backtest, parking_data
from bench.evaluate_peers import (
    SideBySide,
    intraday_origins,
    mstl_forecast,
    peer_backtest,
    peer_intraday,
    side_by_side_lines,
)
from bench.intraday import IntradayFigures, intraday_backtest

STEP_H = 240


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    with threadpool_limits(limits=1):  # as the bench: OpenMP threads spin on 2 shared cores
        yield


@pytest.fixture(scope="module")
def parks() -> ForecastData:
    d = parking_data()
    return replace(d, series=d.series[:6], capacities=d.capacities[:6])


@pytest.fixture(scope="module")
def ours(parks: ForecastData) -> ForecastFigures:
    return backtest(parks, STEP_H)


@pytest.fixture(scope="module")
def peer(parks: ForecastData) -> ForecastFigures:
    return peer_backtest(parks, STEP_H)


@pytest.fixture(scope="module")
def intraday(parks: ForecastData) -> IntradayFigures:
    return intraday_backtest(parks, day_step=10)


def idleshare_forecast(history: np.ndarray, t0: float) -> tuple[np.ndarray, np.ndarray]:
    return FleetForecaster(t0=t0).fit(history).predict_all(history)


def without_time(f: ForecastFigures) -> dict[str, float]:
    return {k: v for k, v in asdict(f).items() if k != "seconds"}


def test_the_peer_backtest_with_idleshares_forecaster_gives_the_evaluations_figures(
    parks: ForecastData, ours: ForecastFigures,
) -> None:
    assert without_time(peer_backtest(parks, STEP_H, forecast=idleshare_forecast)) \
        == without_time(ours)


def test_mstl_is_judged_on_the_same_origins_hours_and_unit_hours_base(
    ours: ForecastFigures, peer: ForecastFigures,
) -> None:
    assert (peer.origins, peer.hours) == (ours.origins, ours.hours) == (3, 1044)
    assert (peer.mae_daily_naive, peer.mae_weekly_naive) == (ours.mae_daily_naive,
                                                             ours.mae_weekly_naive)
    # Capture over all free and over the shareable (less the 10 % reserve): the same bases.
    for f in (ours, peer):
        assert f.idle_capture / f.idle_capture_shareable == pytest.approx(0.9)


def test_mstl_beats_daily_naive_on_car_parks_and_offers_from_a_p10_below_its_median(
    peer: ForecastFigures,
) -> None:
    assert peer.improvement_daily >= 0.25
    assert 0.80 <= peer.p10_coverage < 1.0  # a lower bound, not the median nor zero
    assert peer.offer_precision >= 0.95 and 0.3 <= peer.idle_capture_shareable <= 1.0


def test_mstl_forecasts_every_asset_a_week_of_non_crossing_fractions(
    parks: ForecastData,
) -> None:
    history = np.stack(parks.series)[:, :parks.first]
    pred, bound = mstl_forecast(history, parks.t0)
    assert pred.shape == (6, WEEK_H, 2) and np.array_equal(bound, pred[:, :, 0])
    assert np.all((pred >= 0.0) & (pred <= 1.0)) and np.all(pred[:, :, 0] <= pred[:, :, 1])
    assert (pred[:, :, 1] - pred[:, :, 0]).mean(axis=1).min() > 0.01  # every asset a band


def test_the_intraday_backtest_of_a_peer_uses_the_evaluations_origins_and_hours(
    parks: ForecastData, intraday: IntradayFigures,
) -> None:
    def weekly_naive(history: np.ndarray, t0: float) -> tuple[np.ndarray, np.ndarray]:
        o = history.shape[1]
        idx = np.arange(o, o + WEEK_H)
        week = np.stack([seasonal_naive(y, o, idx) for y in history])
        return np.stack([week, week], axis=-1), week

    theirs = peer_intraday(parks, day_step=10, forecast=weekly_naive)
    assert theirs.origins == len(intraday_origins(parks, day_step=10)) \
        == intraday.origins > 0
    # Weekly naive as the peer: no better and no worse than weekly naive, on the same hours.
    assert theirs.mae_short == theirs.mae_short_weekly_naive
    assert theirs.improvement_week == 0.0


def test_the_side_by_side_block_prints_both_forecasters_figures(
    ours: ForecastFigures, peer: ForecastFigures, intraday: IntradayFigures,
) -> None:
    text = "\n".join(side_by_side_lines("car parks", SideBySide(ours, peer, intraday, intraday,
                                                                10), STEP_H, "car-park hours"))
    assert "idleshare" in text and "MSTL" in text and "one day in 10" in text
    assert f"{ours.mae:.4f}" in text and f"{peer.mae:.4f}" in text
    assert f"{peer.p10_coverage:.2%}" in text and f"{peer.idle_capture_shareable:.2%}" in text
