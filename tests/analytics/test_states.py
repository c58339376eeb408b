"""State inference on synthetic data with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimators_unfitted, check_get_params_invariance

from analytics.states import MachineStateModel, occupancy_classifier


def machine_power(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = np.repeat(rng.integers(0, 3, 60), 20)  # states held for 20 samples
    level = np.array([0.5, 8.0, 60.0])[truth]
    return np.clip(level * rng.lognormal(0, 0.1, truth.size), 0, None), truth


def test_machine_states_follow_the_power_draw_from_off_to_running() -> None:
    power, truth = machine_power()
    model = MachineStateModel().fit(power[:, None])
    assert (model.labels_ == truth).mean() > 0.99
    assert np.all(np.diff(model.means_) > 0)  # ordered off < idle < running
    # A change of state shows at the sample where the draw changes.
    changes = np.flatnonzero(np.diff(model.predict(power[:, None])))
    assert set(changes) <= set(np.flatnonzero(np.diff(truth)))


def test_machine_model_refuses_negative_power_and_bad_state_counts() -> None:
    with pytest.raises(ValueError, match="power"):
        MachineStateModel().fit(np.array([[-1.0], [2.0], [3.0]]))
    with pytest.raises(ValueError, match="n_states"):
        MachineStateModel(n_states=0).fit(np.ones((5, 1)))


def test_machine_model_follows_the_estimator_conventions() -> None:
    check_get_params_invariance("MachineStateModel", MachineStateModel())
    check_estimators_unfitted("MachineStateModel", MachineStateModel())


def test_occupancy_is_learned_from_light_and_co2() -> None:
    rng = np.random.default_rng(1)
    occupied = rng.integers(0, 2, 400)
    X = np.column_stack((occupied * 400 + rng.normal(0, 40, 400),
                         450 + occupied * 300 + rng.normal(0, 80, 400)))
    model = occupancy_classifier().fit(X[:200], occupied[:200])
    assert model.score(X[200:], occupied[200:]) > 0.97
