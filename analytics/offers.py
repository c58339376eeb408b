"""Offers from idle windows: a seasonal-naive forecast ("tomorrow looks like today")."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array, check_is_fitted

from analytics.series import contained, merge_intervals

#: Columns of :meth:`SeasonalNaiveOfferBuilder.predict`.
OFFER_COLUMNS = ("start", "end", "quantity", "confidence")

#: Offers whose start and end agree to this many decimals (1 ms) are the same slot.
TIME_DECIMALS = 3


def floor_quantity(q: np.ndarray) -> np.ndarray:
    """Round quantities down to 3 decimals, never offering more than is free.

    The inner rounding to 1e-9 absorbs binary noise such as ``0.9 * 10 = 8.999...``.
    """
    return np.floor(np.round(np.asarray(q, dtype=float) * 1000.0, 6)) / 1000.0


class SeasonalNaiveOfferBuilder(BaseEstimator):
    """Project past idle windows forward by whole periods and grade them by their history.

    Each window ``[start, end]`` becomes the offer ``[start + k·period_s, end + k·period_s]``
    for the smallest ``k >= 1`` with ``start + k·period_s >= now + lead_time_s``. Its quantity
    is the window's least free quantity less the owner's reserve, rounded down to 3 decimals;
    offers under ``min_quantity`` are dropped. Its confidence is Laplace's rule of succession
    ``(hits + 1) / (n + 2)`` over the window itself (one hit) and the same slot in each of the
    ``lookback_periods`` earlier periods that data fully covers (a hit when the slot lay
    entirely inside an idle window). Where projected offers overlap, only the one from the
    most recent window is kept, so no capacity is promised twice.

    scikit-learn's ``check_estimator`` does not apply: ``fit`` takes two interval tables and
    ``predict`` a time, not sample matrices. The tests run the API checks that do apply.

    Parameters
    ----------
    period_s : float, default=86400
        Season length in seconds (> 0).
    lead_time_s : float, default=0
        Offers start no earlier than ``now + lead_time_s`` (>= 0).
    reserve_fraction : float, default=0.1
        Share of the free quantity the owner keeps back, in [0, 1).
    min_quantity : float, default=1
        Smallest quantity worth offering, in the asset's unit (>= 0).
    lookback_periods : int, default=7
        How many earlier periods to search for the same slot (>= 0).

    Attributes
    ----------
    windows_ : ndarray of shape (m, 3)
        The fitted windows ``[start, end, min_free]``, sorted by start.
    coverage_ : ndarray of shape (c, 2)
        Merged ``[start, end)`` intervals with data.
    n_periods_ : ndarray of shape (m,)
        Periods observed per window: itself plus the fully covered earlier slots.
    hits_ : ndarray of shape (m,)
        Of those, how many were idle throughout the slot.
    confidence_ : ndarray of shape (m,)
        ``(hits_ + 1) / (n_periods_ + 2)``.
    """

    def __init__(
        self,
        period_s: float = 86400.0,
        lead_time_s: float = 0.0,
        reserve_fraction: float = 0.1,
        min_quantity: float = 1.0,
        lookback_periods: int = 7,
    ) -> None:
        self.period_s = period_s
        self.lead_time_s = lead_time_s
        self.reserve_fraction = reserve_fraction
        self.min_quantity = min_quantity
        self.lookback_periods = lookback_periods

    def fit(self, windows: np.ndarray, coverage: np.ndarray) -> SeasonalNaiveOfferBuilder:
        """Learn each window's history.

        Parameters
        ----------
        windows : array-like of shape (m, >=3)
            Idle windows ``[start, end, min_free, ...]`` with ``min_free`` in the asset's unit;
            further columns (such as those of :meth:`IdleWindowDetector.find_windows` after
            scaling by capacity) are ignored. Windows must not overlap.
        coverage : array-like of shape (c, 2)
            ``[start, end)`` intervals with data (for instance
            :meth:`analytics.series.Steps.covered_intervals`).

        Returns
        -------
        self : SeasonalNaiveOfferBuilder
        """
        self._check_params()
        w = check_array(windows, dtype=float, ensure_min_samples=0, ensure_min_features=0)
        if w.shape[0] and w.shape[1] < 3:
            raise ValueError(
                f"windows must have >= 3 columns [start, end, min_free]: got {w.shape[1]}"
            )
        w = w[:, :3].reshape(-1, 3)
        if np.any(w[:, 1] < w[:, 0]):
            raise ValueError("every window must end at or after its start")
        w = w[np.argsort(w[:, 0], kind="stable")]
        if np.any(w[1:, 0] < w[:-1, 1]):
            raise ValueError("windows must not overlap")
        cov = check_array(coverage, dtype=float, ensure_min_samples=0, ensure_min_features=0)
        if cov.shape[0] and cov.shape[1] != 2:
            raise ValueError(f"coverage must have 2 columns [start, end]: got {cov.shape[1]}")

        self.windows_ = w
        self.coverage_ = merge_intervals(cov.reshape(-1, 2))
        shifts = self.period_s * np.arange(1, int(self.lookback_periods) + 1)
        slot_start = w[:, :1] - shifts  # (m, K): the same slot k' periods back
        slot_end = w[:, 1:2] - shifts
        seen = contained(self.coverage_, slot_start, slot_end)
        idle = seen & contained(w[:, :2], slot_start, slot_end)
        self.n_periods_ = 1 + seen.sum(axis=1)
        self.hits_ = 1 + idle.sum(axis=1)
        self.confidence_ = (self.hits_ + 1.0) / (self.n_periods_ + 2.0)
        return self

    def predict(self, now: float) -> np.ndarray:
        """Offers for the slots after ``now``.

        Parameters
        ----------
        now : float
            Current time, epoch seconds.

        Returns
        -------
        offers : ndarray of shape (j, 4)
            Columns :data:`OFFER_COLUMNS`, non-overlapping, sorted by start.
        """
        check_is_fitted(self)
        if not np.isfinite(now):
            raise ValueError(f"now must be finite: got {now}")
        # Most recent window first, so merging equal slots keeps the latest evidence.
        order = np.argsort(-self.windows_[:, 0], kind="stable")
        w, confidence = self.windows_[order], self.confidence_[order]
        target = now + self.lead_time_s
        k = np.floor((target - w[:, 0]) / self.period_s)
        # Settle float rounding of the division against the definition itself.
        k = np.maximum(np.where(w[:, 0] + k * self.period_s >= target, k, k + 1), 1)
        shift = k * self.period_s
        quantity = floor_quantity(w[:, 2] * (1.0 - self.reserve_fraction))
        offers = np.column_stack((w[:, 0] + shift, w[:, 1] + shift, quantity, confidence))
        # Where projected slots overlap, the most recent window wins: the same capacity must
        # never be promised twice. Decided before the quantity filter, so a small recent
        # window is not overruled by an older, larger one.
        kept: list[int] = []
        for i, (s, e) in enumerate(np.round(offers[:, :2], TIME_DECIMALS)):
            if all(e <= offers[j, 0] or s >= offers[j, 1] for j in kept):
                kept.append(i)
        offers = offers[kept]
        offers = offers[offers[:, 2] >= self.min_quantity]
        return offers[np.lexsort((offers[:, 1], offers[:, 0]))]

    def _check_params(self) -> None:
        if not self.period_s > 0:
            raise ValueError(f"period_s must be > 0: got {self.period_s}")
        if not self.lead_time_s >= 0:
            raise ValueError(f"lead_time_s must be >= 0: got {self.lead_time_s}")
        if not 0 <= self.reserve_fraction < 1:
            raise ValueError(f"reserve_fraction must be in [0, 1): got {self.reserve_fraction}")
        if not self.min_quantity >= 0:
            raise ValueError(f"min_quantity must be >= 0: got {self.min_quantity}")
        if int(self.lookback_periods) != self.lookback_periods or self.lookback_periods < 0:
            raise ValueError(
                f"lookback_periods must be an integer >= 0: got {self.lookback_periods}"
            )
