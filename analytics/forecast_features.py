"""Forecasting problems of hourly free fractions: the series, the baselines, the anchor, the
current deviation and the features (definitions in :mod:`analytics.forecast`)."""

from __future__ import annotations

import warnings

import numpy as np

from analytics.series import MAX_GAP_S, Steps

HOUR = 3600.0
WEEK_H = 168
#: Weeks back used as lag features.
LAG_WEEKS = (1, 2, 3, 4)
FEATURES = ("hour", "weekday", "ahead", *(f"lag_{k}w" for k in LAG_WEEKS), "lag_mean", "level",
            "current", "anchor")
AHEAD, CURRENT = FEATURES.index("ahead"), FEATURES.index("current")
#: The current level is the latest deviation from the anchor in this many hours before the
#: origin (a day back: an origin before today's first reading still sees yesterday's level).
CURRENT_WINDOW_H = 24
#: How far the anchor may stray from the median of the same hour 1-3 weeks back.
ANCHOR_BAND = 0.15


def hourly_free(times: np.ndarray, free: np.ndarray, start: float, n_hours: int,
                max_gap_s: float = MAX_GAP_S) -> np.ndarray:
    """Time-weighted mean free quantity per hour ``[start + i h, start + (i+1) h)``.

    Returns NaN for an hour with no data. ``start`` should be a whole UTC hour.
    """
    out = np.full(n_hours, np.nan)
    if len(times) == 0 or n_hours <= 0:
        return out
    steps = Steps.from_readings(times, free, max_gap_s)
    covered, integral = steps.cumulative(start + HOUR * np.arange(n_hours + 1))
    seconds, weighted = np.diff(covered), np.diff(integral)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(seconds > 0, weighted / seconds, np.nan)


def _lag(y: np.ndarray, idx: np.ndarray, back: int | np.ndarray, origin: int) -> np.ndarray:
    j = idx - back
    ok = (j >= 0) & (j < origin)
    return np.where(ok, y[np.clip(j, 0, y.size - 1)], np.nan)


def features(y: np.ndarray, t0: float, origin: int, idx: np.ndarray) -> np.ndarray:
    """Feature rows (:data:`FEATURES`) for target hours ``idx`` seen from ``origin``.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Hourly free fractions; hour ``i`` starts at ``t0 + i h``. Only ``y[:origin]`` is read.
    t0 : float
        Start of hour 0, epoch seconds (a whole UTC hour).
    origin : int
        First forecast hour; the history is every hour before it.
    idx : ndarray of int
        Target hours, each in ``[origin, origin + 168]``.
    """
    idx = np.asarray(idx, dtype=int)
    hours = (t0 // HOUR + idx).astype(np.int64)
    lags = np.column_stack([_lag(y, idx, k * WEEK_H, origin) for k in LAG_WEEKS])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: mean of nothing
        lag_mean = np.nanmean(lags, axis=1)
        recent = np.arange(max(origin - 24, 0), origin)
        level = float(np.nanmean(y[recent] - _lag(y, recent, WEEK_H, origin))) if recent.size \
            else np.nan
    return np.column_stack((hours % 24, (hours // 24 + 3) % 7, idx - origin, lags, lag_mean,
                            np.full(idx.size, level), np.full(idx.size, current_deviation(
                                y, origin)), anchor(y, origin, idx)))


def current_deviation(y: np.ndarray, origin: int) -> float:
    """How far the latest hour with data in the :data:`CURRENT_WINDOW_H` hours before
    ``origin`` ran above its anchor (value minus anchor); NaN if none."""
    recent = np.arange(max(origin - CURRENT_WINDOW_H, 0), origin)
    dev = y[recent] - anchor(y, origin, recent)
    known = np.flatnonzero(np.isfinite(dev))
    return float(dev[known[-1]]) if known.size else float("nan")


def persistence(F: np.ndarray, residual: np.ndarray, horizon_h: int) -> np.ndarray:
    """How much of the current deviation (feature ``current``) persists ``a`` hours ahead, per
    ``a`` in ``[0, horizon_h)``: the least-squares slope of the residual over the anchor on it
    through the origin, clipped to [0, 1] (0 where no problem had a current level)."""
    d, ahead = F[:, CURRENT], F[:, AHEAD].astype(int)
    ok = np.isfinite(d) & np.isfinite(residual) & (ahead >= 0) & (ahead < horizon_h)
    num = np.bincount(ahead[ok], weights=d[ok] * residual[ok], minlength=horizon_h)
    den = np.bincount(ahead[ok], weights=d[ok] ** 2, minlength=horizon_h)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(np.where(den > 0, num / den, 0.0), 0.0, 1.0)[:horizon_h]


def level_median(F: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """The median: the anchor plus the persisting share ``phi`` of the current deviation."""
    ahead = np.clip(F[:, AHEAD].astype(int), 0, phi.size - 1)
    return F[:, -1] + phi[ahead] * np.nan_to_num(F[:, CURRENT])


def training_rows(y: np.ndarray, t0: float, origin: int, horizon_h: int = WEEK_H,
                  step_h: int = 24, max_origins: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Past forecasting problems of one series: features and actual values for targets before
    ``origin``, from earlier origins every ``step_h`` hours (at most ``max_origins``)."""
    xs, ys = [], []
    for o in range(origin - step_h, max(origin - step_h * max_origins, WEEK_H) - 1, -step_h):
        idx = np.arange(o, min(o + horizon_h, origin))
        idx = idx[np.isfinite(y[idx])]
        if idx.size:
            xs.append(features(y, t0, o, idx))
            ys.append(y[idx])
    if not xs:
        return np.zeros((0, len(FEATURES))), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ys)


def seasonal_naive(y: np.ndarray, origin: int, idx: np.ndarray, max_weeks: int = 4) -> np.ndarray:
    """The latest value at the same hour of the week before ``origin`` (NaN if none)."""
    out = np.full(np.shape(idx), np.nan)
    for k in range(max_weeks, 0, -1):  # nearest week last, so it wins
        lag = _lag(y, np.asarray(idx), k * WEEK_H, origin)
        out = np.where(np.isfinite(lag), lag, out)
    return out


def anchor(y: np.ndarray, origin: int, idx: np.ndarray) -> np.ndarray:
    """Robust weekly naive: :func:`seasonal_naive`, held within :data:`ANCHOR_BAND` of the
    median of the same hour 1, 2 and 3 weeks back (one odd week is not repeated in full).
    NaN where no week has data."""
    idx = np.asarray(idx, dtype=int)
    week = seasonal_naive(y, origin, idx)
    lags = np.sort(np.column_stack([_lag(y, idx, k * WEEK_H, origin) for k in (1, 2, 3)]),
                   axis=1)  # NaN sorts last
    med = _median_of_sorted_three(lags)
    return np.where(np.isfinite(med), np.clip(week, med - ANCHOR_BAND, med + ANCHOR_BAND), week)


def _median_of_sorted_three(s: np.ndarray) -> np.ndarray:
    """Row medians of the finite values of rows sorted with NaN last (np.nanmedian, without
    its per-call cost, which dominated forecasting big fleets)."""
    n = np.isfinite(s).sum(axis=1)
    return np.select([n == 3, n == 2, n == 1], [s[:, 1], (s[:, 0] + s[:, 1]) / 2, s[:, 0]],
                     np.nan)


def daily_naive(y: np.ndarray, origin: int, idx: np.ndarray, max_days: int = 7) -> np.ndarray:
    """Seasonal naive with a period of one day, as :func:`analytics.offers.
    seasonal_naive_offers` assumes: the latest value at the same hour of day before
    ``origin`` (NaN if none in ``max_days``)."""
    idx = np.asarray(idx, dtype=int)
    out = np.full(idx.shape, np.nan)
    for k in range(max_days, 0, -1):  # nearest day last, so it wins
        lag = _lag(y, idx, 24 * ((idx - origin) // 24 + k), origin)
        out = np.where(np.isfinite(lag), lag, out)
    return out
