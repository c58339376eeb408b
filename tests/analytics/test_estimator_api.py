"""scikit-learn's own estimator checks on every estimator in analytics.

Idle windows and seasonal-naive offers learn nothing and are plain functions
(:func:`analytics.idle_windows.find_windows`, :func:`analytics.offers.seasonal_naive_offers`),
so they have no checks here. Each estimator runs all of ``check_estimator``; the checks listed
in :data:`DO_NOT_APPLY` are expected to fail for the reason given, and the test fails if one
of them starts to pass (then it applies and leaves the list) or any other check fails.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimator

from analytics.forecast import WEEK_H, FleetForecaster, QuantileForecaster
from analytics.states import MachineStateModel

T0 = 1_700_006_400.0  # a UTC midnight

# The forecaster needs weeks of hourly history: the checks' random matrices of 3-10 columns
# hold no week, so fitting raises "too little history" in every check that fits.
_NEEDS_WEEKS = "fits on the check's random data; needs weeks of hourly history (columns)"
_FLEET_FITTING_CHECKS = (
    "check_fit_score_takes_y", "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
    "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit", "check_estimators_dtypes", "check_dtype_object",
    "check_pipeline_consistency", "check_estimators_pickle", "check_f_contiguous_array_estimator",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
    "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in",
    "check_fit2d_predict1d",
)

#: The conventions every estimator here keeps, checked without fitting: __init__ only stores,
#: parameters round-trip, clone works, and predict before fit raises NotFittedError.
API_CHECKS = {
    "check_no_attributes_set_in_init", "check_parameters_default_constructible",
    "check_get_params_invariance", "check_set_params", "check_estimator_cloneable",
    "check_estimator_repr", "check_do_not_raise_errors_in_init_or_set_params",
    "check_estimators_unfitted",
}

ESTIMATORS: list[BaseEstimator] = [
    # Unbounded for the checks: their targets are standardised, while the product clips
    # predictions to free fractions (bounds (0, 1)) or residuals ((-1, 1)).
    QuantileForecaster(max_iter=20, bounds=(-np.inf, np.inf)),
    MachineStateModel(),
    FleetForecaster(),
]
DO_NOT_APPLY: dict[str, dict[str, str]] = {
    "QuantileForecaster": {},
    "MachineStateModel": {
        "check_clustering": "feeds standardised blobs, negative half the time; power draw "
                            "is never negative and is refused (positive_only tag)",
    },
    # Every check that fits: the fitting behaviour they cover is tested below on real-shaped
    # history instead (returns self, parameters untouched, idempotent, pickle, n_features).
    "FleetForecaster": dict.fromkeys(_FLEET_FITTING_CHECKS, _NEEDS_WEEKS),
}


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_scikit_learn_estimator_checks_pass_except_those_that_do_not_apply(
        estimator: BaseEstimator) -> None:
    expected = DO_NOT_APPLY[type(estimator).__name__]
    results = check_estimator(estimator, on_fail=None, on_skip=None,
                              expected_failed_checks=expected)
    failed = sorted({r["check_name"] for r in results if r["status"] == "failed"})
    assert failed == []
    not_failing = sorted({r["check_name"] for r in results
                          if r["check_name"] in expected and r["status"] != "xfail"})
    assert not_failing == [], "these checks apply now: remove them from DO_NOT_APPLY"
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    assert passed >= API_CHECKS


def history(n_assets: int = 3, weeks: int = 4, seed: int = 0) -> np.ndarray:
    """Hourly free fractions with a daily pattern and noise, one row per asset."""
    rng = np.random.default_rng(seed)
    hours = np.arange(weeks * WEEK_H)
    base = 0.5 + 0.3 * np.sin(hours % 24 / 24 * 2 * np.pi)
    return np.clip(base + rng.normal(0, 0.05, (n_assets, hours.size)), 0, 1)


def test_the_fleet_forecaster_fits_returning_itself_with_parameters_and_input_untouched(
) -> None:
    X = history()
    X[0, 100] = np.nan  # an hour without data
    before = X.copy()
    forecaster = FleetForecaster(t0=T0, max_rows=5000)
    params = forecaster.get_params()
    assert forecaster.fit(X) is forecaster
    assert forecaster.get_params() == params
    np.testing.assert_array_equal(X, before)
    assert forecaster.n_features_in_ == 4 * WEEK_H
    assert {"model_", "shift_"} <= set(vars(forecaster))


def test_the_fleet_forecaster_refits_and_unpickles_to_the_same_forecasts() -> None:
    X = history()
    forecaster = FleetForecaster(t0=T0).fit(X)
    first = forecaster.predict(X)
    assert first.shape == (3, WEEK_H, 2)
    np.testing.assert_array_equal(clone(forecaster).fit(X).predict(X), first)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(forecaster)).predict(X), first)


def test_the_fleet_forecaster_refuses_unfitted_use_other_hours_and_bad_parameters() -> None:
    X = history()
    with pytest.raises(NotFittedError):
        FleetForecaster().predict(X)
    forecaster = FleetForecaster(t0=T0).fit(X)
    with pytest.raises(ValueError, match="features"):
        forecaster.predict(X[:, :-1])
    for params, match in [({"quantiles": (0.5, 0.1)}, "quantiles"), ({"margin": 0.0}, "margin"),
                          ({"horizon_h": 0}, "horizon_h"), ({"t0": np.nan}, "t0")]:
        with pytest.raises(ValueError, match=match):
            FleetForecaster(**params).fit(X)
    with pytest.raises(ValueError, match="too little history"):
        FleetForecaster(t0=T0).fit(X[:, :2 * WEEK_H])


def test_a_clone_is_unfitted_with_the_same_parameters() -> None:
    fitted = MachineStateModel(n_states=2).fit(np.array([[0.0], [0.1], [50.0], [51.0]]))
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "mixture_")
