"""Recurring legs from trips, and the free payload of each upcoming leg with a lower quantile.

Definitions (also in docs/freight.md)
    *Areas*: trip ends (origins and destinations together) within ``radius_km`` of an area's
    centre belong to it (leader clustering in trip order, centres the mean of their members,
    each end then given to its nearest centre). An area is named after the nearest of
    ``named_places`` within ``name_within_km``, if any.

    A *recurring leg* is one vehicle's trips from one area to another whose local departure
    times of day (in ``timezone``) lie within ``time_tolerance_h`` of the next one's (sorted,
    split at larger gaps). It recurs on the weekdays on which it ran at least ``min_trips``
    times; a group without such a weekday is not a leg (a one-off order).

    An *upcoming leg* is each date in the horizon whose weekday the leg recurs on: departure
    window from the earliest to the latest local departure time seen (at least 30 minutes
    either side of the median), arrival estimate the median departure plus the median
    duration.

    *Free fraction* of a trip: its free payload (capacity minus the most carried) / capacity.
    :class:`LegPayloadForecaster` forecasts it from :func:`leg_features` (weekday, departure
    hour, distance, occurrences ahead of the last one seen, the last three values, the last
    value on the same weekday, the mean and the share of empty runs), one model for every
    leg of a fleet. The lower bound offered is P10 x capacity, rounded down to 0.1 t.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import KFold
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from analytics.forecast import QuantileForecaster
from analytics.trips import Trip, haversine_km

LEG_FEATURES = ("weekday", "hour", "distance_km", "ahead", "last_1", "last_2", "last_3",
                "same_weekday", "mean", "empty_share")
#: A trip at or above this free fraction ran empty.
EMPTY_FROM = 0.999
MIN_HALF_WINDOW_H = 0.5


@dataclass(frozen=True)
class Area:
    """A point and a radius; ``name`` is the nearest named place, if one is near."""

    lat: float
    lon: float
    radius_km: float
    name: str | None = None

    def contains(self, lat: float, lon: float) -> bool:
        return float(haversine_km(self.lat, self.lon, lat, lon)) <= self.radius_km

    @property
    def label(self) -> str:
        return self.name or f"{self.lat:.3f},{self.lon:.3f}"


@dataclass(frozen=True)
class RecurringLeg:
    leg_id: str
    asset_id: str
    origin: Area
    destination: Area
    weekdays: tuple[int, ...]
    #: Local departure time of day, hours: median, earliest, latest.
    departure_h: float
    earliest_h: float
    latest_h: float
    duration_s: float
    distance_km: float
    capacity_t: float
    trips: tuple[Trip, ...]
    timezone: str = "UTC"
    #: Share of the dates on its weekdays, from its first trip to the last trip seen of any
    #: leg, on which it ran.
    run_share: float = 1.0

    def free_fractions(self) -> np.ndarray:
        return np.array([t.free_t / t.capacity_t for t in self.trips])


@dataclass(frozen=True)
class LegForecast:
    """One upcoming leg and the payload free on it: what a leg offer is made from."""

    leg_id: str
    asset_id: str
    origin: Area
    destination: Area
    departure_earliest: float
    departure_latest: float
    arrival_estimate: float
    distance_km: float
    capacity_t: float
    free_t_lower: float
    free_t_median: float
    #: Share of its scheduled dates on which the leg ran (:attr:`RecurringLeg.run_share`).
    run_share: float
    #: Chance the leg runs with at least ``free_t_lower`` free: run share x (1 - the lower
    #: quantile's level).
    confidence: float
    unit: str = "t"


def _local(t: float, zone: ZoneInfo) -> tuple[int, float]:
    d = datetime.fromtimestamp(t, zone)
    return d.weekday(), d.hour + d.minute / 60 + d.second / 3600


def find_areas(points: np.ndarray, radius_km: float,
               named_places: Sequence[tuple[str, float, float]] = (),
               name_within_km: float = 25.0) -> tuple[list[Area], np.ndarray]:
    """Areas of ``(lat, lon)`` rows and the index of each row's area (rules above)."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    centres: list[list[float]] = []  # running sums: lat, lon, count
    for lat, lon in pts:
        if centres:
            sums = np.array(centres)
            near = haversine_km(sums[:, 0] / sums[:, 2], sums[:, 1] / sums[:, 2], lat, lon)
            k = int(np.argmin(near))
            if near[k] <= radius_km:
                centres[k] = [centres[k][0] + lat, centres[k][1] + lon, centres[k][2] + 1]
                continue
        centres.append([lat, lon, 1.0])
    c = np.array(centres).reshape(-1, 3)
    lat_c, lon_c = c[:, 0] / c[:, 2], c[:, 1] / c[:, 2]
    index = np.array([int(np.argmin(haversine_km(lat_c, lon_c, la, lo))) for la, lo in pts],
                     dtype=int)
    areas = []
    for la, lo in zip(lat_c, lon_c, strict=True):
        name = None
        if named_places:
            km = [float(haversine_km(la, lo, p_lat, p_lon)) for _, p_lat, p_lon in named_places]
            if min(km) <= name_within_km:
                name = named_places[int(np.argmin(km))][0]
        areas.append(Area(round(float(la), 5), round(float(lo), 5), radius_km, name))
    return areas, index


def group_legs(trips: Sequence[Trip], timezone: str = "UTC", radius_km: float = 10.0,
               time_tolerance_h: float = 1.5, min_trips: int = 2,
               named_places: Sequence[tuple[str, float, float]] = ()) -> list[RecurringLeg]:
    """Recurring legs of ``trips`` (any vehicles), ordered by vehicle, origin, departure."""
    if not trips:
        return []
    zone = ZoneInfo(timezone)
    last_day = max(datetime.fromtimestamp(t.departure, zone).date() for t in trips)
    ends = np.array([[(t.origin_lat, t.origin_lon), (t.destination_lat, t.destination_lon)]
                     for t in trips]).reshape(-1, 2)
    areas, index = find_areas(ends, radius_km, named_places)
    groups: dict[tuple[str, int, int], list[tuple[float, int, Trip]]] = defaultdict(list)
    for i, trip in enumerate(trips):
        weekday, hour = _local(trip.departure, zone)
        groups[(trip.asset_id, int(index[2 * i]), int(index[2 * i + 1]))].append(
            (hour, weekday, trip))
    legs = []
    for (asset, o, d), members in sorted(groups.items(), key=lambda kv: kv[0]):
        if o == d:
            continue  # a round trip in the yard or the city: no leg to offer
        members.sort(key=lambda m: m[0])
        hours = np.array([m[0] for m in members])
        for cluster in np.split(np.arange(len(members)),
                                np.flatnonzero(np.diff(hours) > time_tolerance_h) + 1):
            chosen = [members[k] for k in cluster]
            counts = np.bincount([m[1] for m in chosen], minlength=7)
            weekdays = tuple(int(w) for w in np.flatnonzero(counts >= min_trips))
            if not weekdays:
                continue
            ordered = tuple(sorted((m[2] for m in chosen), key=lambda t: t.departure))
            h = hours[cluster]
            median = float(np.median(h))
            first_day = datetime.fromtimestamp(ordered[0].departure, zone).date()
            dates = [first_day + timedelta(days=k) for k in range((last_day - first_day).days + 1)]
            scheduled = sum(d.weekday() in weekdays for d in dates)
            runs = len({datetime.fromtimestamp(t.departure, zone).date() for t in ordered
                        if _local(t.departure, zone)[0] in weekdays})
            legs.append(RecurringLeg(
                leg_id=f"{asset}:{areas[o].label}>{areas[d].label}@"
                       f"{int(median):02d}{int(median % 1 * 60):02d}",
                asset_id=asset, origin=areas[o], destination=areas[d], weekdays=weekdays,
                departure_h=median, earliest_h=min(float(h.min()), median - MIN_HALF_WINDOW_H),
                latest_h=max(float(h.max()), median + MIN_HALF_WINDOW_H),
                duration_s=float(np.median([t.duration_s for t in ordered])),
                distance_km=float(np.median([t.distance_km for t in ordered])),
                capacity_t=ordered[-1].capacity_t, trips=ordered, timezone=timezone,
                run_share=min(runs / scheduled, 1.0) if scheduled else 0.0))
    return legs


def leg_features(values: np.ndarray, weekdays: np.ndarray, target_weekday: int,
                 target_hour: float, distance_km: float, ahead: int) -> np.ndarray:
    """One row of :data:`LEG_FEATURES` for a target run, from the leg's earlier free fractions
    ``values`` (oldest first) and their ``weekdays``; NaN where the history has none."""
    v = np.asarray(values, dtype=float)
    last = [v[-k] if v.size >= k else np.nan for k in (1, 2, 3)]
    same = v[np.asarray(weekdays) == target_weekday]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no history: mean of nothing
        mean, empty = float(np.mean(v)), float(np.mean(v >= EMPTY_FROM))
    return np.array([target_weekday, target_hour, distance_km, ahead, *last,
                     same[-1] if same.size else np.nan, mean if v.size else np.nan,
                     empty if v.size else np.nan])


def training_rows(legs: Sequence[RecurringLeg], max_ahead: int = 5
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Past forecasting problems of every leg: each run as the target, seen from 1 to
    ``max_ahead`` runs before it (``ahead`` 0 .. max_ahead - 1)."""
    rows, targets = [], []
    for leg in legs:
        zone = ZoneInfo(leg.timezone)
        values = leg.free_fractions()
        local = [_local(t.departure, zone) for t in leg.trips]
        weekdays = np.array([w for w, _ in local])
        for k in range(1, values.size):
            for ahead in range(min(max_ahead, k)):
                cut = k - ahead
                rows.append(leg_features(values[:cut], weekdays[:cut], local[k][0], local[k][1],
                                         leg.distance_km, ahead))
                targets.append(values[k])
    if not rows:
        return np.zeros((0, len(LEG_FEATURES))), np.zeros(0)
    return np.array(rows), np.array(targets)


def upcoming(leg: RecurringLeg, start: float, end: float) -> list[tuple[float, float, float]]:
    """``(earliest, latest, median)`` departure of each run of ``leg`` departing (median) in
    ``[start, end)``."""
    zone = ZoneInfo(leg.timezone)
    day = datetime.fromtimestamp(start, zone).date() - timedelta(days=1)
    out: list[tuple[float, float, float]] = []
    while True:
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        at = [(midnight + timedelta(hours=h)).timestamp()
              for h in (leg.earliest_h, leg.latest_h, leg.departure_h)]
        if at[2] >= end:
            return out
        if at[2] >= start and day.weekday() in leg.weekdays:
            out.append((at[0], at[1], at[2]))
        day += timedelta(days=1)


def forecast_legs(legs: Sequence[RecurringLeg], model: LegPayloadForecaster, start: float,
                  end: float) -> list[LegForecast]:
    """Every upcoming run of ``legs`` departing in ``[start, end)``, with its free payload."""
    runs, rows = [], []
    for leg in legs:
        zone = ZoneInfo(leg.timezone)
        values = leg.free_fractions()
        weekdays = np.array([_local(t.departure, zone)[0] for t in leg.trips])
        for ahead, run in enumerate(upcoming(leg, start, end)):
            weekday, hour = _local(run[2], zone)
            runs.append((leg, run))
            rows.append(leg_features(values, weekdays, weekday, hour, leg.distance_km, ahead))
    if not runs:
        return []
    q = model.predict_quantiles(np.array(rows))
    middle = len(model.quantiles) // 2
    out = []
    for (leg, (earliest, latest, median)), quantiles in zip(runs, q, strict=True):
        cap = leg.capacity_t
        out.append(LegForecast(
            leg_id=leg.leg_id, asset_id=leg.asset_id, origin=leg.origin,
            destination=leg.destination, departure_earliest=earliest, departure_latest=latest,
            arrival_estimate=median + leg.duration_s, distance_km=leg.distance_km,
            capacity_t=cap, free_t_lower=math.floor(quantiles[0] * cap * 10 + 1e-9) / 10,
            free_t_median=round(float(quantiles[middle]) * cap, 2), run_share=leg.run_share,
            confidence=round((1.0 - float(model.quantiles[0])) * leg.run_share, 3)))
    return out


@dataclass(eq=False, repr=False)  # as analytics.forecast.QuantileForecaster
class LegPayloadForecaster(RegressorMixin, BaseEstimator):
    """Quantiles of a leg's free fraction from :data:`LEG_FEATURES`: a
    :class:`~analytics.forecast.QuantileForecaster`, its lower quantiles calibrated.

    ``fit(X, y)`` fits the quantile model on all rows, and out of fold (``folds`` contiguous
    folds) measures where the actual values fall; each lower quantile is shifted so that the
    share of actual values at or above it is ``1 - level * margin`` there (split-conformal;
    no shift with fewer than ``2 * folds`` rows). The median is the model's.

    Parameters
    ----------
    quantiles : tuple of float, default=(0.1, 0.5)
    max_iter : int, default=60
    learning_rate : float, default=0.1
    max_leaf_nodes : int, default=15
    folds : int, default=3
    margin : float, default=0.8
        Lower quantiles are calibrated to ``level * margin``.
    random_state : int or None, default=0
    bounds : tuple of float, default=(0.0, 1.0)

    Attributes
    ----------
    model_ : QuantileForecaster
    n_iter_ : ndarray of int
        Boosting rounds run per quantile (of the model fitted on all rows).
    shift_ : ndarray of shape (len(quantiles),)
    n_features_in_ : int
    """

    quantiles: tuple[float, ...] = (0.1, 0.5)
    max_iter: int = 60
    learning_rate: float = 0.1
    max_leaf_nodes: int = 15
    folds: int = 3
    margin: float = 0.8
    random_state: int | None = 0
    bounds: tuple[float, float] = (0.0, 1.0)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a leg with a short history has NaN lags
        return tags

    def _quantile_model(self) -> QuantileForecaster:
        return QuantileForecaster(self.quantiles, self.max_iter, self.learning_rate,
                                  self.max_leaf_nodes, self.random_state, self.bounds)

    def fit(self, X: np.ndarray, y: np.ndarray) -> LegPayloadForecaster:
        """Fit and calibrate; returns ``self``."""
        if int(self.folds) != self.folds or self.folds < 2:
            raise ValueError(f"folds must be an integer >= 2: got {self.folds}")
        if not 0 < self.margin <= 1:
            raise ValueError(f"margin must be in (0, 1]: got {self.margin}")
        X, y = validate_data(self, X, y, dtype=float, ensure_all_finite="allow-nan",
                             y_numeric=True)
        self.model_ = self._quantile_model().fit(X, y)
        self.n_iter_ = self.model_.n_iter_
        self.shift_ = np.zeros(len(self.quantiles))
        if len(y) >= 2 * self.folds:
            resid = np.empty((len(y), len(self.quantiles)))
            for train, test in KFold(self.folds).split(X):
                model = self._quantile_model().fit(X[train], y[train])
                resid[test] = y[test, None] - model.predict_quantiles(X[test])
            self.shift_ = np.array([np.quantile(resid[:, i], q * self.margin) if q < 0.5
                                    else 0.0 for i, q in enumerate(self.quantiles)])
        return self

    def predict_quantiles(self, X: np.ndarray) -> np.ndarray:
        """Calibrated quantiles, shape (n, len(quantiles)), clipped to ``bounds``, sorted."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=float, ensure_all_finite="allow-nan", reset=False)
        pred = self.model_.predict_quantiles(X) + self.shift_
        return np.sort(np.clip(pred, *self.bounds), axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The middle quantile (the median with the defaults)."""
        return self.predict_quantiles(X)[:, len(self.quantiles) // 2]
