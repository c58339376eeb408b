"""The scikit-learn API checks that apply to estimators with fixed-schema inputs.

``check_estimator`` as a whole does not apply (see the class docstrings): its data-driven checks
feed random matrices of any width, while these estimators take ``[time, free_fraction]`` rows
with increasing times, or interval tables and a time. The checks below need no data.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.utils import estimator_checks as checks

from analytics.idle_windows import IdleWindowDetector
from analytics.offers import SeasonalNaiveOfferBuilder

ESTIMATORS = [IdleWindowDetector(), SeasonalNaiveOfferBuilder()]
API_CHECKS = [
    checks.check_no_attributes_set_in_init,
    checks.check_parameters_default_constructible,
    checks.check_get_params_invariance,
    checks.check_set_params,
    checks.check_estimator_repr,
    checks.check_estimator_cloneable,
    checks.check_do_not_raise_errors_in_init_or_set_params,
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("check", API_CHECKS, ids=lambda c: c.__name__)
def test_scikit_learn_api_check_passes(estimator: BaseEstimator,
                                       check: Callable[[str, BaseEstimator], None]) -> None:
    check(type(estimator).__name__, estimator)


def test_fit_returns_self_and_leaves_parameters_untouched() -> None:
    detector = IdleWindowDetector(min_free_fraction=0.7, hysteresis=0.2)
    before = detector.get_params()
    assert detector.fit(np.array([[0.0, 1.0]])) is detector
    assert detector.get_params() == before
    builder = SeasonalNaiveOfferBuilder(lookback_periods=3)
    assert builder.fit(np.zeros((0, 3)), np.zeros((0, 2))) is builder
    assert builder.get_params()["lookback_periods"] == 3


def test_a_clone_is_unfitted_with_the_same_parameters() -> None:
    fitted = IdleWindowDetector(min_duration_s=60.0).fit(np.array([[0.0, 1.0]]))
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "enter_threshold_")
