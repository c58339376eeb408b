"""Trips from vehicle readings: boundaries, distance, loads and stops, with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.trips import Track, align, haversine_km, infer_trips, track_from_rows
from edge_agent.sources.truck_sim import TruckSim
from tests.analytics.freight import MONDAY, WEEK_S, inferred_trips, known_plans

STEP_S = 300.0


def test_a_simulated_week_gives_every_trip_at_the_right_times_distance_and_load() -> None:
    plans = known_plans()
    trips = inferred_trips(plans)
    truth = [t for p in plans for t in TruckSim(p).trips(MONDAY, MONDAY + WEEK_S)]
    assert len(truth) == 35 and len(trips) == 35
    for trip, true in zip(trips, truth, strict=True):
        # The first reading on the road and the first parked one: within one 5-minute step.
        assert 0 <= trip.departure - true.departure < STEP_S
        assert 0 <= trip.arrival - true.arrival < STEP_S
        assert trip.distance_km == pytest.approx(true.road_km, rel=0.01)
        assert trip.max_load_t == true.load_t
        assert trip.mean_load_t == pytest.approx(true.load_t)
        assert trip.free_t == pytest.approx(24.0 - true.load_t)
        assert haversine_km(trip.origin_lat, trip.origin_lon, true.origin.lat,
                            true.origin.lon) < 0.1
        assert trip.tonne_km == pytest.approx(true.load_t * trip.distance_km)


def _straight(lat0: float, lon0: float, lat1: float, lon1: float, n: int, load: float,
              t0: float = 0.0) -> list[list[float]]:
    f = np.linspace(0.0, 1.0, n)
    return [[t0 + i * STEP_S, lat0 + (lat1 - lat0) * x, lon0 + (lon1 - lon0) * x, 1.0, load]
            for i, x in enumerate(f)]


def _parked(lat: float, lon: float, t0: float, n: int, load: float) -> list[list[float]]:
    return [[t0 + i * STEP_S, lat, lon, 0.0, load] for i in range(n)]


def test_distance_on_a_straight_road_is_the_haversine_distance_within_one_percent() -> None:
    # Duisburg to Dortmund, 49 km, readings every 5 minutes.
    rows = (_parked(51.4344, 6.7623, 0.0, 3, 10.0)
            + _straight(51.4344, 6.7623, 51.5136, 7.4653, 10, 10.0, 3 * STEP_S)
            + _parked(51.5136, 7.4653, 13 * STEP_S, 3, 0.0))
    (trip,) = infer_trips(track_from_rows(rows), capacity_t=24.0)
    direct = float(haversine_km(51.4344, 6.7623, 51.5136, 7.4653))
    assert trip.distance_km == pytest.approx(direct, rel=0.01)
    assert trip.direct_km == pytest.approx(direct, rel=1e-6)
    assert (trip.departure, trip.arrival) == (3 * STEP_S, 13 * STEP_S)
    assert trip.load_factor == pytest.approx(10.0 / 24.0)


def test_a_drop_off_with_the_engine_on_splits_a_trip_and_a_break_does_not() -> None:
    a, b, c = (51.0, 6.0), (51.3, 6.0), (51.6, 6.0)
    road = (_parked(*a, 0.0, 2, 20.0) + _straight(*a, *b, 8, 20.0, 2 * STEP_S)
            # 30 min standing at b with the engine on: 20 t unloaded to 5 t.
            + [[(10 + i) * STEP_S, *b, 1.0, 20.0 if i < 3 else 5.0] for i in range(7)]
            + _straight(*b, *c, 8, 5.0, 17 * STEP_S) + _parked(*c, 25 * STEP_S, 2, 0.0))
    first, second = infer_trips(track_from_rows(road), capacity_t=24.0)
    assert (first.max_load_t, second.max_load_t) == (20.0, 5.0)
    # Arrived at the first reading at b, left after the last one there.
    assert first.arrival == 9 * STEP_S and second.departure == 17 * STEP_S
    assert second.destination_lat == pytest.approx(51.6)
    rest = np.array(road)
    rest[:, 4] = 20.0  # the same stop without a load change: a break
    (whole,) = infer_trips(track_from_rows(rest), capacity_t=24.0)
    assert whole.departure == 2 * STEP_S and whole.arrival == 25 * STEP_S


def test_yard_moves_and_gaps_in_the_readings_are_not_trips() -> None:
    yard = _parked(51.0, 6.0, 0.0, 2, 0.0) + _straight(51.0, 6.0, 51.001, 6.0, 3, 0.0, 600)
    assert infer_trips(track_from_rows(yard), capacity_t=24.0) == []
    road = np.array(_straight(51.0, 6.0, 51.3, 6.0, 10, 1.0))
    road[5:, 0] += 7200.0  # two hours without readings: nothing known across it
    assert len(infer_trips(track_from_rows(road), capacity_t=24.0)) == 2
    with pytest.raises(ValueError, match="capacity_t"):
        infer_trips(track_from_rows(road), capacity_t=0.0)


def test_readings_of_each_metric_at_their_own_times_are_aligned_holding_the_last_value() -> None:
    # As a store returns them after a deadband: the position less often than the state.
    track: Track = align({
        "lat": [(0.0, 51.0), (600.0, 51.1)], "lon": [(0.0, 6.0)],
        "in_use": [(0.0, 0.0), (300.0, 1.0)], "load": [(300.0, 12.0), (900.0, 0.0)],
    })
    np.testing.assert_array_equal(track.times, [300.0, 600.0, 900.0])  # load unknown at 0
    np.testing.assert_array_equal(track.lat, [51.0, 51.1, 51.1])
    np.testing.assert_array_equal(track.in_use, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(track.load, [12.0, 12.0, 0.0])
