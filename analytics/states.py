"""State inference with scikit-learn: machine states from power, zone occupancy from sensors.

Definitions (also in docs/analytics.md)
    *Machine states* are learned without labels: a Gaussian mixture on ``log1p(power)``
    with one component per state; components are ordered by mean power, so state 0 is the
    lowest draw (off), then idle, then running (with ``n_states=3``).
    *Zone occupancy* is learned with labels: standardised sensor readings (light, CO2, ...)
    into a logistic regression.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.linear_model import LogisticRegression
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

#: Names of the states of :class:`MachineStateModel` with three states, by rising power.
MACHINE_STATES = ("off", "idle", "running")


class MachineStateModel(ClusterMixin, BaseEstimator):
    """Unsupervised machine states from power draw.

    Parameters
    ----------
    n_states : int, default=3
        Number of states (mixture components), >= 1.
    random_state : int or None, default=0

    Attributes
    ----------
    mixture_ : GaussianMixture
    order_ : ndarray of int
        Component index of each state, by rising mean power.
    means_ : ndarray of shape (n_states,)
        Mean power of each state, in the input's unit.
    labels_ : ndarray of int
        State of each training sample.
    n_features_in_ : int
    """

    def __init__(self, n_states: int = 3, random_state: int | None = 0) -> None:
        self.n_states = n_states
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: None = None) -> MachineStateModel:
        """Fit the mixture on power draw ``X`` of shape (n, 1), non-negative."""
        if int(self.n_states) != self.n_states or self.n_states < 1:
            raise ValueError(f"n_states must be an integer >= 1: got {self.n_states}")
        X = self._check(X, reset=True)
        self.mixture_ = GaussianMixture(self.n_states, random_state=self.random_state,
                                        n_init=3).fit(np.log1p(X))
        self.order_ = np.argsort(self.mixture_.means_[:, 0])
        self.means_ = np.expm1(self.mixture_.means_[self.order_, 0])
        self.labels_ = self.predict(X)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """State of each sample: 0 .. n_states - 1 by rising power."""
        check_is_fitted(self)
        X = self._check(X)
        rank = np.empty_like(self.order_)
        rank[self.order_] = np.arange(self.order_.size)
        return rank[self.mixture_.predict(np.log1p(X))]

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # log1p of a power draw
        return tags

    def _check(self, X: np.ndarray, reset: bool = False) -> np.ndarray:
        X = validate_data(self, X, dtype=float, reset=reset)
        if np.any(X < 0):
            raise ValueError("Negative values in data: power draw must be >= 0")
        return X


def occupancy_classifier(C: float = 1.0) -> Pipeline:
    """Zone occupancy from environmental sensors: scaler and logistic regression."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))


def running_time(states: np.ndarray, running: int) -> np.ndarray:
    """1.0 where the state is ``running`` (or above), for :mod:`analytics.utilisation`."""
    return (np.asarray(states) >= running).astype(float)
