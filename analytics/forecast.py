"""Hourly free-capacity forecasts with quantiles: gradient boosting and the seasonal-naive baseline.

Definitions (also in docs/analytics.md)
    An asset's *hourly free fraction* is its free quantity, time-weighted over the hour by the
    readings' step function (:class:`analytics.series.Steps`), divided by its capacity; NaN for
    an hour without data. A forecast made at an *origin* (a whole hour; the history is every
    hour before it) covers the next ``horizon_h`` hours (default 168 = 7 days).

    The *seasonal-naive* forecast of an hour is the latest value at the same hour of the week
    before the origin (one week back, or two if that hour has no data, ...).

    The *anchor* (:func:`anchor`) is the seasonal-naive value held within
    :data:`ANCHOR_BAND` of the median of the same hour 1, 2 and 3 weeks back. The *current
    deviation* (:func:`current_deviation`) is the latest hour's value minus its anchor, within
    :data:`CURRENT_WINDOW_H` hours before the origin.

    :class:`FleetForecaster` takes as its median the anchor plus the share of the current
    deviation that persists at each hour ahead (:func:`persistence`, :func:`level_median`:
    intraday, a day running above or below its usual pattern goes on doing so), and learns the
    lower quantiles of the residual over that median with :class:`QuantileForecaster` on
    :func:`features`: hour of day, day of week, hours ahead of the origin, the value at the
    same hour 1..4 weeks back and their mean, the recent level (mean over the 24 hours before
    the origin of value minus its value a week before), the current deviation and the anchor.
    One model serves every asset of a kind, since features and target are fractions of
    capacity. P10 is the free fraction we are 90 % sure of. The *offer bound* is the same
    lowest quantile calibrated instead to :data:`OFFER_PRECISION` of its unit-hours truly
    free (:mod:`analytics.calibration`): what offers promise.

The series, baselines and features are in :mod:`analytics.forecast_features`, the quantile
model in :mod:`analytics.quantile_model`; both are imported from here by their users.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from analytics.calibration import (
    asset_precision_shifts,
    asset_shifts,
    conformal_shift,
    precision_shift,
)
from analytics.forecast_features import (
    AHEAD,
    ANCHOR_BAND,
    CURRENT,
    CURRENT_WINDOW_H,
    FEATURES,
    HOUR,
    LAG_WEEKS,
    WEEK_H,
    anchor,
    current_deviation,
    daily_naive,
    features,
    hourly_free,
    level_median,
    persistence,
    seasonal_naive,
    training_rows,
)
from analytics.quantile_model import QuantileForecaster

#: Margins tried when learning the drift from a calibration week to the next.
MARGINS = tuple(np.round(np.arange(0.1, 2.51, 0.05), 2))
#: The margin when the history holds no second week to learn it from.
FALLBACK_MARGIN = 0.4
#: Least series with calibration hours for a learned drift margin: on fewer, one week pair
#: measures noise, not drift (the plant's single series: margins 0.1-2.5 at origins two days
#: apart), so they are calibrated on both out-of-sample weeks at margin 1 instead.
MIN_DRIFT_SERIES = 10
#: Precision the offer bound is calibrated to on the calibration hours (:func:`analytics.
#: calibration.precision_shift`): the platform's 97 % floor plus a point for the drift to the
#: next week. The owner's reserve comes on top of it.
OFFER_PRECISION = 0.98


class TooLittleHistory(ValueError):
    """The readings do not reach back far enough to train a forecaster (lags, training
    hours and the calibration week): callers fall back to seasonal-naive offers."""


@dataclass(eq=False, repr=False)  # as QuantileForecaster
class FleetForecaster(BaseEstimator):
    """Quantiles of many assets' hourly free fractions: the :func:`anchor` (robust weekly
    naive) plus the persisting share of the current deviation as the median
    (:func:`level_median`), and one :class:`QuantileForecaster` of the residual for the other
    quantiles, calibrated per asset (:mod:`analytics.calibration`).

    On the Birmingham car parks no learned or adjusted median beat the weekly-naive value
    (gradient boosting on the value or the residual, recent level shifts, multi-week means,
    smoothing: 0.5-27 % worse; see docs/analytics.md), so the median is the anchor itself and
    learning goes where it pays: how far below the anchor the free fraction may fall.

    ``fit(X)`` takes one row per asset and one column per hour of history: column ``j`` is
    the hour starting at ``t0 + j h`` and the forecast origin is the hour after the last
    column. It trains the residual model on the forecasting problems whose targets lie before
    ``origin - calibration_h`` (:func:`training_rows`), then forecasts the calibration hours
    from ``origin - calibration_h`` as a true out-of-sample test and shifts each lower quantile
    so that the share of actual values at or above it matches its level there (split-conformal).
    ``predict(X)`` forecasts the ``horizon_h`` hours after the same origin, for the rows of
    ``X`` (the assets fitted on, or others of the kind with the same hours);
    ``predict_offer(X)`` the *offer bound* of the same hours, the lowest quantile calibrated
    instead to ``offer_precision`` of its unit-hours truly free (what offers promise).

    Parameters
    ----------
    t0 : float, default=0.0
        Start of column 0 of ``X``, epoch seconds (a whole UTC hour): it places hour of day
        and day of week. It describes the data, like a column list, so it is a parameter.
    horizon_h : int, default=168
    quantiles : tuple of float, default=(0.1, 0.5)
        Increasing levels; 0.5 is the anchor, the others are learned.
    calibration_h : int, default=168
    margin : float or None, default=None
        Lower quantiles are calibrated to ``level * margin`` on the calibration week, a margin
        for the drift between that week and the next (above 1 where the next weeks run
        steadier or higher than the calibration week). None learns it: the residual model is
        trained a week earlier, and the margin is the largest in :data:`MARGINS` whose shifts
        on the week before the calibration week held at the level in the calibration week
        (:data:`FALLBACK_MARGIN` when the history is too short for that). A fleet of fewer
        than :data:`MIN_DRIFT_SERIES` series is calibrated at margin 1 on both out-of-sample
        weeks instead (``two_weeks_``).
    offer_precision : float, default=OFFER_PRECISION
        Precision (share of offered unit-hours truly free) the offer bound is calibrated to,
        per asset like the lower quantiles, on the same calibration hours.
    per_asset : bool, default=True
        Each asset's own split-conformal shift on its calibration week (the fleet's where it
        has fewer than :data:`analytics.calibration.MIN_ASSET_RESIDUALS` hours), computed in
        ``predict`` from the rows given; else the fleet's shift for every row.
    max_series : int, default=500
        Series learned from (a random sample beyond that): a fleet shares one model, and the
        fit time must not grow with the fleet.
    max_rows : int, default=200_000
        Training rows kept (a random sample beyond that), which bounds the fit time on big
        fleets.
    random_state : int, default=0

    Attributes
    ----------
    model_ : QuantileForecaster
        The residual model of the quantiles other than 0.5.
    shift_ : ndarray of shape (len(quantiles),)
        The fleet's calibration shift of each quantile (0 for the median and above).
    margin_ : ndarray of shape (len(quantiles),)
        The margin used per quantile (learned, or ``margin``).
    two_weeks_ : bool
        Whether calibration uses the two weeks before the origin (few series) or the last.
    offer_shift_ : float
        The fleet's precision shift of the lowest quantile (the offer bound's).
    persistence_ : ndarray of shape (horizon_h,)
        Share of the current deviation kept in the median, per hour ahead.
    n_features_in_ : int
        Hours of history, which fixes the origin.
    """

    t0: float = 0.0
    horizon_h: int = WEEK_H
    quantiles: tuple[float, ...] = (0.1, 0.5)
    calibration_h: int = WEEK_H
    margin: float | None = None
    offer_precision: float = OFFER_PRECISION
    per_asset: bool = True
    max_series: int = 500
    max_rows: int = 200_000
    random_state: int = 0

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # an hour without data is NaN
        return tags

    def _learned(self) -> tuple[float, ...]:
        return tuple(q for q in self.quantiles if q != 0.5)

    def _quantiles(self, X: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Anchor plus residual quantiles (before calibration), columns as ``quantiles``."""
        learned = iter(self.model_.predict_quantiles(X).T) if self._learned() else iter(())
        return np.column_stack([base if q == 0.5 else base + next(learned)
                                for q in self.quantiles])

    def _check_params(self) -> None:
        q = np.asarray(self.quantiles, dtype=float)
        if q.ndim != 1 or q.size == 0 or np.any((q <= 0) | (q >= 1)) or np.any(np.diff(q) <= 0):
            raise ValueError(f"quantiles must be increasing levels in (0, 1): got {self.quantiles}")
        for name in ("horizon_h", "calibration_h", "max_series", "max_rows"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be an integer >= 1: got {value}")
        if self.margin is not None and not 0 < self.margin <= max(MARGINS):
            raise ValueError(f"margin must be in (0, {max(MARGINS)}]: got {self.margin}")
        if not 0 < self.offer_precision < 1:
            raise ValueError(f"offer_precision must be in (0, 1): got {self.offer_precision}")
        if not np.isfinite(self.t0):
            raise ValueError(f"t0 must be finite: got {self.t0}")

    def fit(self, X: np.ndarray, y: None = None) -> FleetForecaster:
        """Train on ``X`` (hourly free fractions, one row per asset, NaN without data).

        Parameters
        ----------
        X : array-like of shape (n_assets, n_hours)
        y : None
            Ignored: the targets are later hours of ``X`` itself.

        Returns
        -------
        self : FleetForecaster

        Raises
        ------
        ValueError
            If a parameter is out of range, or the history holds fewer than 50 hours with an
            anchor before the calibration week.
        """
        self._check_params()
        X = validate_data(self, X, dtype=float, ensure_all_finite="allow-nan")
        t0, origin = float(self.t0), X.shape[1]
        cut = origin - self.calibration_h
        rng = np.random.default_rng(self.random_state)
        series = X[rng.choice(len(X), self.max_series, replace=False)] \
            if len(X) > self.max_series else X
        # A learned margin needs a second out-of-sample week before the calibration week.
        earlier = cut - self.calibration_h
        F, target = self._training_set(series, t0, earlier if self.margin is None else cut)
        if target.size < 50 and self.margin is None:
            earlier = None
            F, target = self._training_set(series, t0, cut)
        if target.size < 50:
            raise TooLittleHistory(
                f"too little history to train a forecaster: {target.size} hours")
        if target.size > self.max_rows:
            keep = rng.choice(target.size, self.max_rows, replace=False)
            F, target = F[keep], target[keep]
        self.model_ = QuantileForecaster(self._learned() or (0.1,), random_state=self.random_state,
                                         bounds=(-1.0, 1.0)).fit(F, target)
        self.two_weeks_ = False
        actual, lower = self._calibration_forecasts(series, t0, cut)
        if self.margin is not None:
            self.margin_ = np.full(len(self.quantiles), float(self.margin))
        elif earlier is None:
            self.margin_ = np.full(len(self.quantiles), FALLBACK_MARGIN)
        elif sum(a.size > 0 for a in actual) < MIN_DRIFT_SERIES:
            self.margin_, self.two_weeks_ = np.ones(len(self.quantiles)), True
            actual, lower = self._calibration_forecasts(series, t0, cut)
        else:
            self.margin_ = self._drift_margins(
                _residuals(*self._calibration_forecasts(series[:, :cut], t0, earlier)),
                _residuals(actual, lower))
        pooled = np.concatenate(_residuals(actual, lower))
        self.offer_shift_ = precision_shift(np.concatenate(actual),
                                            np.concatenate(lower)[:, 0], self.offer_precision)
        # Only the lower quantiles are promises; the median stays as it is.
        self.shift_ = np.array([conformal_shift(pooled[:, i], q * m) if q < 0.5 else 0.0
                                for i, (q, m) in enumerate(zip(self.quantiles, self.margin_,
                                                               strict=True))])
        return self

    def _training_set(self, series: np.ndarray, t0: float, end: int
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Features and residual targets (over the level median, whose persistence is learned
        here) of the past problems with targets before ``end``."""
        rows = [training_rows(y, t0, end, self.horizon_h) for y in series]
        F = np.concatenate([r[0] for r in rows])
        target = np.concatenate([r[1] for r in rows])
        has_anchor = np.isfinite(F[:, -1])
        F, target = F[has_anchor], target[has_anchor]
        self.persistence_ = persistence(F, target - F[:, -1], self.horizon_h)
        return F, target - level_median(F, self.persistence_)

    def _drift_margins(self, earlier: list[np.ndarray], later: list[np.ndarray]) -> np.ndarray:
        """Per quantile, the largest margin in :data:`MARGINS` whose per-asset shifts on the
        earlier week still hold at the level in the later one: the drift from a calibration
        week to the next, measured a week back."""
        out = np.ones(len(self.quantiles))
        for i, q in enumerate(self.quantiles):
            if q >= 0.5:
                continue
            out[i] = MARGINS[0]
            pooled = np.concatenate(earlier)[:, i]
            for m in MARGINS:
                s = asset_shifts([r[:, i] for r in earlier], q * m, conformal_shift(pooled, q * m))
                hit = np.concatenate([r[:, i] >= si for r, si in zip(later, s, strict=True)])
                if hit.size and hit.mean() >= 1.0 - q:
                    out[i] = m
        return out

    def _calibration_forecasts(self, series: np.ndarray, t0: float, cut: int
                               ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per series, the actual values (n_i,) and the uncalibrated quantiles (n_i, n_q) of
        its calibration hours: from ``cut`` to the end of ``series``, forecast from ``cut``
        (out of sample), and with ``two_weeks_`` also the week before, forecast from its
        start. Hours without data or anchor are left out."""
        if not self.two_weeks_:
            return self._forecasts_from(series, t0, cut)
        week = self._forecasts_from(series[:, :cut], t0, cut - self.calibration_h)
        last = self._forecasts_from(series, t0, cut)
        return ([np.concatenate(p) for p in zip(week[0], last[0], strict=True)],
                [np.concatenate(p) for p in zip(week[1], last[1], strict=True)])

    def _forecasts_from(self, series: np.ndarray, t0: float, cut: int
                        ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Actual values and uncalibrated quantiles from ``cut`` to the end of ``series``."""
        cal_idx = np.arange(cut, series.shape[1])
        feats, actual = [], []
        for s in series:
            idx = cal_idx[np.isfinite(s[cal_idx])]
            F = features(s, t0, cut, idx)
            ok = np.isfinite(F[:, -1])
            feats.append(F[ok])
            actual.append(s[idx][ok])
        sizes = np.cumsum([a.size for a in actual])[:-1]
        F = np.concatenate(feats)
        if not F.size:
            return actual, [np.zeros((a.size, len(self.quantiles))) for a in actual]
        return actual, np.split(self._quantiles(F, level_median(F, self.persistence_)), sizes)

    def _shifts(self, X: np.ndarray, t0: float) -> tuple[np.ndarray, np.ndarray]:
        """Calibration shift per row of ``X`` and quantile, and of the offer bound: each
        asset's own split-conformal (and precision) shift on its calibration hours where it
        has enough of them, else the fleet's (:mod:`analytics.calibration`); the fleet's for
        every row unless ``per_asset``."""
        shifts = np.tile(self.shift_, (len(X), 1))
        offer = np.full(len(X), self.offer_shift_)
        if not self.per_asset:
            return shifts, offer
        actual, lower = self._calibration_forecasts(X, t0, X.shape[1] - self.calibration_h)
        resid = _residuals(actual, lower)
        for i, q in enumerate(self.quantiles):
            if q < 0.5:
                shifts[:, i] = asset_shifts([r[:, i] for r in resid], q * self.margin_[i],
                                            float(self.shift_[i]))
        offer = asset_precision_shifts(actual, [q[:, 0] for q in lower], self.offer_precision,
                                       self.offer_shift_)
        return shifts, offer

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Quantile forecasts for the ``horizon_h`` hours after the last column of ``X``
        (:meth:`predict_all`)."""
        return self.predict_all(X)[0]

    def predict_offer(self, X: np.ndarray) -> np.ndarray:
        """The offer bound of the ``horizon_h`` hours after the last column of ``X``, shape
        (n_assets, horizon_h) (:meth:`predict_all`)."""
        return self.predict_all(X)[1]

    def predict_all(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Quantile forecasts and the offer bound for the ``horizon_h`` hours after the last
        column of ``X``, in one pass.

        The offer bound is the lowest quantile before calibration plus the asset's precision
        shift, clipped to [0, 1] and held at the median.

        An hour without an anchor (no data at that hour of the week in the last four weeks)
        falls back to the daily naive value, else the series' mean, else 0.

        Parameters
        ----------
        X : array-like of shape (n_assets, n_features_in_)
            Hourly free fractions over the same hours as in ``fit``.

        Returns
        -------
        quantiles : ndarray of shape (n_assets, horizon_h, len(quantiles))
            Free fractions in [0, 1], non-crossing.
        offer : ndarray of shape (n_assets, horizon_h)
            Free fractions in [0, 1], at most the median.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=float, ensure_all_finite="allow-nan", reset=False)
        t0, origin = float(self.t0), X.shape[1]
        idx = np.arange(origin, origin + self.horizon_h)
        F = np.concatenate([features(y, t0, origin, idx) for y in X])
        base = level_median(F, self.persistence_)
        if np.isnan(base).any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a series without any data
                fallback = np.concatenate([
                    np.where(np.isfinite(d := daily_naive(y, origin, idx)), d,
                             np.nan_to_num(np.nanmean(y)))
                    for y in X])
            base = np.where(np.isnan(base), fallback, base)
        shifts, offer_shifts = (np.repeat(s, self.horizon_h, axis=0) for s in self._shifts(X, t0))
        raw = self._quantiles(F, base)
        pred = np.clip(raw + shifts, 0.0, 1.0)
        # Non-crossing around the median, which stays as it is: a calibrated lower quantile
        # above it is held at it (and an upper one below it, at it).
        mid = int(np.searchsorted(np.asarray(self.quantiles), 0.5))
        for i in range(mid - 1, -1, -1):
            pred[:, i] = np.minimum(pred[:, i], pred[:, i + 1])
        for i in range(mid + 1, pred.shape[1]):
            pred[:, i] = np.maximum(pred[:, i], pred[:, i - 1])
        offer = np.clip(raw[:, 0] + offer_shifts, 0.0, 1.0)
        if 0.5 in self.quantiles:
            offer = np.minimum(offer, pred[:, self.quantiles.index(0.5)])
        return pred.reshape(len(X), self.horizon_h, -1), offer.reshape(len(X), self.horizon_h)


def _residuals(actual: list[np.ndarray], quantiles: list[np.ndarray]) -> list[np.ndarray]:
    """Per series, actual minus each quantile, shape (n_i, n_q)."""
    return [a[:, None] - q for a, q in zip(actual, quantiles, strict=True)]


__all__ = [
    "AHEAD",
    "ANCHOR_BAND",
    "CURRENT",
    "CURRENT_WINDOW_H",
    "FALLBACK_MARGIN",
    "FEATURES",
    "HOUR",
    "LAG_WEEKS",
    "MARGINS",
    "MIN_DRIFT_SERIES",
    "OFFER_PRECISION",
    "WEEK_H",
    "FleetForecaster",
    "QuantileForecaster",
    "TooLittleHistory",
    "anchor",
    "current_deviation",
    "daily_naive",
    "features",
    "hourly_free",
    "level_median",
    "persistence",
    "seasonal_naive",
    "training_rows",
]
