"""Trips from a vehicle's readings (``lat``, ``lon``, ``in_use``, ``load``): plain functions,
since nothing is learned.

Definitions (also in docs/freight.md)
    The readings of the four metrics are aligned on the union of their times, each metric
    holding its last value (:func:`align`, the step-function rule of :mod:`analytics.series`).

    A *trip* is a run of readings with ``in_use`` = 1, split where the vehicle stood within
    ``stop_radius_km`` for at least ``min_stop_s`` and its load changed by at least
    ``load_change_t`` (a drop-off with the engine on); a stop without a load change (a
    driver's break) does not split it, and nor does a gap shorter than ``max_gap_s``.

    * *Departure*: the time of the trip's first reading; *arrival*: the time of the first
      reading after it (parked, or the first reading of the splitting stop). With readings
      every 5 minutes both are at most 5 minutes after the true moment.
    * *Origin*: the position of the reading before the trip (where it stood), else its first;
      *destination*: the position at arrival.
    * *Distance*: the sum of great-circle (haversine) distances between consecutive positions
      from origin to destination: the road driven, as sampled. *Direct distance*: haversine
      from origin to destination.
    * *Load* while in use, each reading holding until the next: time-weighted mean, maximum,
      tonne-km (each reading's load times the distance to the next position) and the load
      profile (time and load at every change). *Free payload*: capacity minus the maximum
      load, the space free over the whole trip. *Load factor*: mean load / capacity.

    Trips shorter than ``min_distance_km`` (yard moves) are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from analytics.series import as_series

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
TRACK_METRICS = ("lat", "lon", "in_use", "load")
#: A gap in the readings longer than this ends a trip (nothing is known across it).
TRIP_MAX_GAP_S = 1800.0


def haversine_km(lat1: np.ndarray | float, lon1: np.ndarray | float,
                 lat2: np.ndarray | float, lon2: np.ndarray | float) -> np.ndarray:
    """Great-circle distance in km, element-wise."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(
        np.radians(np.subtract(lon2, lon1)) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True)
class Track:
    """A vehicle's readings on common times: ``lat``, ``lon``, ``in_use``, ``load``."""

    times: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    in_use: np.ndarray
    load: np.ndarray


def align(series: Mapping[str, Sequence[tuple[float, float]]]) -> Track:
    """The four metrics on the union of their reading times, each holding its last value;
    times before a metric's first reading are dropped (the state is not known there).

    ``series`` maps each of :data:`TRACK_METRICS` to ``(time, value)`` pairs, as
    ``ReadingStore.query`` returns them.
    """
    cols = {}
    for name in TRACK_METRICS:
        pairs = np.asarray(series[name], dtype=float).reshape(-1, 2)
        cols[name] = as_series(pairs[:, 0], pairs[:, 1])
    times = np.unique(np.concatenate([t for t, _ in cols.values()]))
    held = {}
    for name, (t, v) in cols.items():
        i = np.searchsorted(t, times, side="right") - 1
        held[name] = np.where(i >= 0, v[np.clip(i, 0, None)], np.nan)
    known = np.all([np.isfinite(h) for h in held.values()], axis=0)
    return Track(times[known], *(held[name][known] for name in TRACK_METRICS))


def track_from_rows(rows: np.ndarray | Sequence[Sequence[float]]) -> Track:
    """A track from ``(time, lat, lon, in_use, load)`` rows already on common times."""
    a = np.asarray(rows, dtype=float).reshape(-1, 5)
    return Track(*a.T)


@dataclass(frozen=True)
class Trip:
    asset_id: str
    departure: float
    arrival: float
    origin_lat: float
    origin_lon: float
    destination_lat: float
    destination_lon: float
    distance_km: float
    direct_km: float
    capacity_t: float
    mean_load_t: float
    max_load_t: float
    tonne_km: float
    #: ``(time, load)`` at the trip's start and at every change of load on it.
    load_profile: tuple[tuple[float, float], ...]

    @property
    def duration_s(self) -> float:
        return self.arrival - self.departure

    @property
    def free_t(self) -> float:
        """Payload free over the whole trip: capacity minus the most carried."""
        return max(self.capacity_t - self.max_load_t, 0.0)

    @property
    def load_factor(self) -> float:
        return self.mean_load_t / self.capacity_t


def infer_trips(track: Track, capacity_t: float, asset_id: str = "",
                min_distance_km: float = 1.0, stop_radius_km: float = 0.5,
                min_stop_s: float = 1200.0, load_change_t: float = 0.5,
                max_gap_s: float = TRIP_MAX_GAP_S) -> list[Trip]:
    """The vehicle's trips, oldest first (rules in the module docstring)."""
    if not capacity_t > 0:
        raise ValueError(f"capacity_t must be > 0: got {capacity_t}")
    t = track.times
    moving = track.in_use >= 0.5
    # A run breaks where in_use changes or across a gap in the readings.
    breaks = np.flatnonzero((np.diff(moving.astype(int)) != 0) | (np.diff(t) > max_gap_s)) + 1
    trips = []
    for run in np.split(np.arange(t.size), breaks):
        if run.size == 0 or not moving[run[0]]:
            continue
        first, end = int(run[0]), int(run[-1]) + 1  # readings [first, end) are in use
        origin = first - 1 if first > 0 and t[first] - t[first - 1] <= max_gap_s else first
        arrived = end < t.size and t[end] - t[end - 1] <= max_gap_s
        for a, b, o, d in _legs(track, first, end, origin, end if arrived else end - 1,
                                stop_radius_km, min_stop_s, load_change_t):
            trip = _trip(track, a, b, o, d, capacity_t, asset_id)
            if trip.distance_km >= min_distance_km:
                trips.append(trip)
    return trips


def _legs(track: Track, first: int, end: int, origin: int, dest: int, radius_km: float,
          min_stop_s: float, load_change_t: float) -> list[tuple[int, int, int, int]]:
    """Split readings ``[first, end)`` at stops with a load change: ``(start, stop, origin
    index, destination index)`` per piece."""
    pieces, start, o = [], first, origin
    i = first
    while i < end:
        j = i
        while j + 1 < end and haversine_km(track.lat[i], track.lon[i], track.lat[j + 1],
                                           track.lon[j + 1]) <= radius_km:
            j += 1
        long_stop = track.times[j] - track.times[i] >= min_stop_s
        if long_stop and abs(track.load[j] - track.load[i]) >= load_change_t and i > start:
            pieces.append((start, i, o, i))
            start, o = j, j
        i = j + 1
    pieces.append((start, end, o, dest))
    return pieces


def _trip(track: Track, start: int, stop: int, origin: int, dest: int, capacity_t: float,
          asset_id: str) -> Trip:
    t = track.times
    path = np.unique(np.r_[origin, start:stop, dest])
    km = haversine_km(track.lat[path[:-1]], track.lon[path[:-1]], track.lat[path[1:]],
                      track.lon[path[1:]])
    inside = np.arange(start, stop)
    held = np.diff(np.r_[t[inside], t[dest] if dest >= stop else t[stop - 1]])
    load = track.load[inside]
    mean = float((load * held).sum() / held.sum()) if held.sum() > 0 else float(load.mean())
    # The load carried over each step of the path is the load of the reading it starts from.
    step_load = np.where(path[:-1] >= start, track.load[np.clip(path[:-1], start, stop - 1)],
                         track.load[start])
    changes = np.r_[True, np.diff(load) != 0]
    return Trip(
        asset_id=asset_id, departure=float(t[start]),
        arrival=float(t[dest] if dest >= stop else t[stop - 1]),
        origin_lat=float(track.lat[origin]), origin_lon=float(track.lon[origin]),
        destination_lat=float(track.lat[dest]), destination_lon=float(track.lon[dest]),
        distance_km=float(km.sum()),
        direct_km=float(haversine_km(track.lat[origin], track.lon[origin], track.lat[dest],
                                     track.lon[dest])),
        capacity_t=float(capacity_t), mean_load_t=mean, max_load_t=float(load.max()),
        tonne_km=float((step_load * km).sum()),
        load_profile=tuple((float(a), float(b)) for a, b in zip(t[inside][changes],
                                                                 load[changes], strict=True)))
