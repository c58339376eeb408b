"""Split-conformal lower bounds hold at the level asked for, and no more; offer bounds at the
precision asked for (known noise)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.calibration import (
    asset_precision_shifts,
    asset_shifts,
    conformal_shift,
    precision,
    precision_shift,
)
from analytics.forecast import WEEK_H, FleetForecaster


@pytest.mark.parametrize("noise", ["normal", "laplace", "uniform"])
def test_a_conformal_shift_covers_new_draws_at_the_level(noise: str) -> None:
    rng = np.random.default_rng(1)
    draw = getattr(rng, noise)
    shifts = [conformal_shift(draw(size=168), 0.1) for _ in range(400)]
    fresh = draw(size=(400, 500))
    coverage = float(np.mean(fresh >= np.array(shifts)[:, None]))
    assert abs(coverage - 0.9) <= 0.02


def test_each_asset_takes_its_own_shift_once_it_has_enough_residuals() -> None:
    wide, narrow, few = np.linspace(-10, 10, 199), np.linspace(-1, 1, 199), np.array([5.0])
    s = asset_shifts([wide, narrow, few], 0.1, group_shift=-3.0)
    assert s[0] == pytest.approx(-8.0, abs=0.2) and s[1] == pytest.approx(-0.8, abs=0.02)
    assert s[2] == -3.0


def test_calibrated_p10_covers_90_percent_of_next_week_on_series_with_known_noise() -> None:
    X, sigma = known_noise_fleet(30, seed=7)
    history, future = X[:, :-WEEK_H], X[:, -WEEK_H:]
    model = FleetForecaster(t0=0.0, margin=1.0).fit(history)
    p10 = model.predict(history)[:, :, 0]
    coverage = float(np.mean(future >= p10))
    assert abs(coverage - 0.9) <= 0.02
    # Per asset, the bound follows the asset's own noise: tighter where it is smaller.
    gap = np.mean(future - p10, axis=1)
    assert np.corrcoef(gap, sigma)[0, 1] > 0.8


@pytest.mark.parametrize("noise", ["normal", "laplace", "uniform"])
def test_a_precision_shift_makes_new_draws_truly_free_at_the_wanted_share(noise: str) -> None:
    rng = np.random.default_rng(2)
    draw = getattr(rng, noise)
    actual = lambda size: np.clip(0.5 + 0.1 * draw(size=size), 0, 1)  # noqa: E731
    lower = np.full(168, 0.3)
    shifts = np.array([precision_shift(actual(168), lower, 0.98) for _ in range(300)])
    bounds = np.clip(0.3 + shifts, 0, 1)[:, None]
    fresh = actual((300, 500))
    realised = np.minimum(bounds, fresh).sum() / (bounds * np.ones_like(fresh)).sum()
    assert abs(realised - 0.98) <= 0.005


def test_a_higher_wanted_precision_gives_a_lower_bound_and_small_assets_the_groups() -> None:
    rng = np.random.default_rng(3)
    actual, lower = rng.uniform(0.2, 0.8, 168), np.full(168, 0.5)
    assert precision_shift(actual, lower, 0.99) < precision_shift(actual, lower, 0.95)
    shifts = asset_precision_shifts([actual, actual[:5]], [lower, lower[:5]], 0.98,
                                    group_shift=-0.25)
    assert shifts[0] == pytest.approx(precision_shift(actual, lower, 0.98))
    assert shifts[1] == -0.25
    assert precision(np.array([1.0, 0.0]), np.array([0.5, 0.5])) == 0.5


def known_noise_fleet(n: int, seed: int, weeks: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Series with a daily and weekly pattern plus Gaussian noise of their own size (2-10 %),
    and those sizes."""
    rng = np.random.default_rng(seed)
    hours = np.arange(weeks * WEEK_H)
    sigma = rng.uniform(0.02, 0.10, n)
    pattern = 0.5 + 0.25 * np.sin(2 * np.pi * hours / 24) + 0.1 * ((hours // 24) % 7 >= 5)
    return np.clip(pattern + sigma[:, None] * rng.standard_normal((n, hours.size)), 0, 1), sigma


def test_the_offer_bound_is_truly_free_at_the_wanted_precision_the_next_week() -> None:
    X, _ = known_noise_fleet(30, seed=8)
    history, future = X[:, :-WEEK_H], X[:, -WEEK_H:]
    quantiles, offer = FleetForecaster(t0=0.0, margin=1.0).fit(history).predict_all(history)
    assert abs(precision(future.ravel(), offer.ravel()) - 0.98) <= 0.01
    # It promises more than the P10 and never more than the median.
    assert offer.mean() > quantiles[:, :, 0].mean()
    assert np.all(offer <= quantiles[:, :, 1])


def test_a_lone_series_is_calibrated_on_both_weeks_at_margin_one() -> None:
    # One series' week pair measures noise, not drift; 12 lone series, each fitted alone.
    hits = []
    for seed in range(12):
        X, _ = known_noise_fleet(1, seed=20 + seed, weeks=8)
        model = FleetForecaster(t0=0.0).fit(X[:, :-WEEK_H])
        assert model.two_weeks_ and model.margin_[0] == 1.0
        hits.append(X[:, -WEEK_H:] >= model.predict(X[:, :-WEEK_H])[:, :, 0])
    assert abs(float(np.mean(hits)) - 0.9) <= 0.03
