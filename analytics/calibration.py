"""Split-conformal calibration of lower quantiles on recent residuals, per asset or fleet.

Definitions (also in docs/analytics.md)
    A lower quantile forecast ``q`` of level ``a`` (P10: ``a = 0.1``) is *calibrated* when
    the actual value is at or above it in a share ``1 - a`` of hours. Given ``n`` recent
    out-of-sample residuals ``r = actual - q`` (the calibration week), the split-conformal
    shift is the ``k``-th smallest residual with ``k = floor(a × (n + 1))``; adding it to
    ``q`` gives a bound that the next value, exchangeable with those ``n``, is at or above with
    probability at least ``1 - a`` (and at most ``1 - a + 1 / (n + 1)``). With ``k < 1`` the
    sample is too small for the level and the least residual is used.

    An asset with at least :data:`MIN_ASSET_RESIDUALS` residuals gets its own shift; one with
    fewer takes its group's (the fleet of its kind). Own shifts follow each asset's own
    noise, so a steady asset's bound is not held down by a noisy neighbour's.

Why numpy and not MAPIE or crepes: the forecaster's lower quantile is already a quantile
regression, and what remains is one order statistic per asset; conformalised quantile
regression in MAPIE (``MapieQuantileRegressor``) or crepes would refit or wrap the model per
group and expects i.i.d. rows, not per-series horizons. The statistic is the same, the code
is three lines and it is tested on series with known noise (``tests/analytics/
test_calibration.py``).
"""

from __future__ import annotations

import numpy as np

#: Least residuals for an asset's own shift; fewer take the group's.
MIN_ASSET_RESIDUALS = 48


def conformal_shift(residuals: np.ndarray, level: float) -> float:
    """Split-conformal shift of a lower quantile of ``level`` (see the module docstring);
    0 without residuals."""
    r = np.sort(np.asarray(residuals, dtype=float)[np.isfinite(residuals)])
    if r.size == 0:
        return 0.0
    k = int(np.floor(level * (r.size + 1)))
    return float(r[max(k, 1) - 1])


def asset_shifts(residuals: list[np.ndarray], level: float, group_shift: float,
                 min_residuals: int = MIN_ASSET_RESIDUALS) -> np.ndarray:
    """One shift per asset: its own if it has ``min_residuals`` residuals, else
    ``group_shift`` (its group's, :func:`conformal_shift` of the group's residuals)."""
    return np.array([conformal_shift(r, level) if np.isfinite(r).sum() >= min_residuals
                     else group_shift for r in residuals], dtype=float)
