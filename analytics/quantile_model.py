"""Quantiles by gradient boosting: one quantile-loss model per level, non-crossing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data


# The parameters are dataclass fields: the generated ``__init__`` only stores them, as
# scikit-learn requires; ``BaseEstimator`` keeps its ``repr`` and estimators compare by identity.
@dataclass(eq=False, repr=False)
class QuantileForecaster(RegressorMixin, BaseEstimator):
    """Quantiles of the free fraction from :func:`features`, by gradient boosting.

    One :class:`~sklearn.ensemble.HistGradientBoostingRegressor` with quantile loss per
    quantile; predictions are clipped to ``bounds`` and made non-crossing by sorting.

    Parameters
    ----------
    quantiles : tuple of float, default=(0.1, 0.5)
        Quantile levels in (0, 1), increasing.
    max_iter : int, default=100
        Boosting rounds per quantile.
    learning_rate : float, default=0.1
    max_leaf_nodes : int, default=31
    random_state : int or None, default=0
    bounds : tuple of float, default=(0.0, 1.0)
        Predictions are clipped to this range (free fractions; ``(-1, 1)`` for residuals).

    Attributes
    ----------
    models_ : list of HistGradientBoostingRegressor
        One per quantile.
    n_iter_ : ndarray of int
        Boosting rounds run per quantile.
    n_features_in_ : int
    """

    quantiles: tuple[float, ...] = (0.1, 0.5)
    max_iter: int = 100
    learning_rate: float = 0.1
    max_leaf_nodes: int = 31
    random_state: int | None = 0
    bounds: tuple[float, float] = (0.0, 1.0)

    def fit(self, X: np.ndarray, y: np.ndarray) -> QuantileForecaster:
        """Fit one model per quantile; returns ``self``."""
        q = np.asarray(self.quantiles, dtype=float)
        if q.ndim != 1 or q.size == 0 or np.any((q <= 0) | (q >= 1)) or np.any(np.diff(q) <= 0):
            raise ValueError(f"quantiles must be increasing levels in (0, 1): got {self.quantiles}")
        X, y = validate_data(self, X, y, dtype=float, ensure_all_finite="allow-nan",
                             y_numeric=True)
        # A column with no value at all (a lag longer than the history) cannot be binned; as a
        # constant it is never split on, so predictions ignore it whatever it holds later.
        X = np.where(np.isnan(X).all(axis=0), 0.0, X)
        self.models_ = [
            HistGradientBoostingRegressor(
                loss="quantile", quantile=float(level), max_iter=self.max_iter,
                learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
                random_state=self.random_state, early_stopping=False,
            ).fit(X, y)
            for level in q
        ]
        self.n_iter_ = np.array([m.n_iter_ for m in self.models_])
        return self

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # lags longer than the history are NaN
        return tags

    def predict_quantiles(self, X: np.ndarray) -> np.ndarray:
        """Predicted quantiles, shape (n, len(quantiles)), sorted along each row."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=float, ensure_all_finite="allow-nan", reset=False)
        pred = np.column_stack([m.predict(X) for m in self.models_])
        return np.sort(np.clip(pred, *self.bounds), axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The middle quantile (the median with the defaults), for ``score`` and MAE."""
        return self.predict_quantiles(X)[:, len(self.models_) // 2]
