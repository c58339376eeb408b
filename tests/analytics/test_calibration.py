"""Split-conformal lower bounds hold at the level asked for, and no more (known noise)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.calibration import asset_shifts, conformal_shift
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
    # 30 assets: a daily and weekly pattern plus Gaussian noise of their own size (2-10 %).
    rng = np.random.default_rng(7)
    n = 6 * WEEK_H
    hours = np.arange(n)
    sigma = rng.uniform(0.02, 0.10, 30)
    pattern = 0.5 + 0.25 * np.sin(2 * np.pi * hours / 24) + 0.1 * ((hours // 24) % 7 >= 5)
    X = np.clip(pattern + sigma[:, None] * rng.standard_normal((30, n)), 0, 1)
    history, future = X[:, :-WEEK_H], X[:, -WEEK_H:]
    model = FleetForecaster(t0=0.0, margin=1.0).fit(history)
    p10 = model.predict(history)[:, :, 0]
    coverage = float(np.mean(future >= p10))
    assert abs(coverage - 0.9) <= 0.02
    # Per asset, the bound follows the asset's own noise: tighter where it is smaller.
    gap = np.mean(future - p10, axis=1)
    assert np.corrcoef(gap, sigma)[0, 1] > 0.8
