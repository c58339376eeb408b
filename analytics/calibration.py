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

    The *offer bound* is calibrated for what offers promise, not for coverage: its
    *precision* over hours with actual values ``a`` is ``sum(min(b, a)) / sum(b)``, the share
    of the bound's unit-hours that were truly free. The precision shift
    (:func:`precision_shift`) is the largest shift of the uncalibrated lower quantile whose
    bound (clipped to [0, 1]) reaches the wanted precision on the same recent hours. A missed
    hour costs only its shortfall, so on the evaluation's data sets this bound at 98 % lies
    well above their P10 (heavy-tailed noise could put it below).

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


def precision(actual: np.ndarray, bound: np.ndarray) -> float:
    """Share of the bound's unit-hours that were truly free: ``sum(min(b, a)) / sum(b)``
    over hours with both (1 when the bound promises nothing)."""
    ok = np.isfinite(actual) & np.isfinite(bound)
    promised = float(bound[ok].sum())
    return float(np.minimum(bound[ok], actual[ok]).sum()) / promised if promised > 0 else 1.0


def precision_shift(actual: np.ndarray, lower: np.ndarray, wanted: float,
                    steps: int = 20) -> float:
    """The largest shift ``s`` in [-1, 1] (to 2⁻¹⁹) with ``precision(actual, clip(lower + s,
    0, 1)) >= wanted``, by bisection; 0 without hours. Precision mostly falls as the bound
    rises (a higher unit is truly free less often), so bisection finds the edge (one of
    them where it does not)."""
    ok = np.isfinite(actual) & np.isfinite(lower)
    a, q = np.asarray(actual, dtype=float)[ok], np.asarray(lower, dtype=float)[ok]
    if a.size == 0:
        return 0.0
    lo, hi = -1.0, 1.0
    for _ in range(steps):
        mid = (lo + hi) / 2
        if precision(a, np.clip(q + mid, 0.0, 1.0)) >= wanted:
            lo = mid
        else:
            hi = mid
    return lo


def asset_precision_shifts(actual: list[np.ndarray], lower: list[np.ndarray], wanted: float,
                           group_shift: float, min_residuals: int = MIN_ASSET_RESIDUALS
                           ) -> np.ndarray:
    """One :func:`precision_shift` per asset where it has ``min_residuals`` hours, else
    ``group_shift`` (its group's: the shift of all the group's hours pooled)."""
    return np.array([precision_shift(a, q, wanted) if np.isfinite(a).sum() >= min_residuals
                     else group_shift for a, q in zip(actual, lower, strict=True)],
                    dtype=float)
