"""The truck simulator as a source plug-in: deterministic, a working week, bounded values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from edge_agent.sources.truck_sim import (
    CITIES_BY_CODE,
    MAX_DAILY_DRIVING_H,
    TruckSim,
    TruckSimSettings,
    TruckSimSource,
    hub_fleet,
)
from idleshare.assets import Asset
from idleshare.errors import ConfigError

MONDAY = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
DUISBURG = CITIES_BY_CODE["dui"]


def _source(seed: int = 1, kind: str = "vehicle", **settings: object) -> TruckSimSource:
    asset = Asset(id="dui-truck-01", tenant="acme", kind=kind, capacity=24.0, unit="t",
                  lat=DUISBURG.lat, lon=DUISBURG.lon)
    return TruckSimSource(TruckSimSettings(seed=seed, timezone="Europe/Berlin", **settings),  # type: ignore[arg-type]
                          asset, MONDAY)


def test_readings_are_deterministic_bounded_and_follow_a_working_week() -> None:
    a, b = _source(), _source()
    times = [MONDAY + i * 300.0 for i in range(7 * 288)]
    series = [{m.name: m.value for m in a.read(t)} for t in times]
    assert series == [{m.name: m.value for m in b.read(t)} for t in times]
    assert all(0 <= r["load"] <= 24.0 and r["in_use"] in (0.0, 1.0) for r in series)
    on_road = [r["in_use"] for r in series]
    assert sum(on_road[5 * 288:]) < sum(on_road[:5 * 288]) / 5  # the weekend is quiet
    trips = a.sim.trips(MONDAY, MONDAY + 7 * 86400.0)
    assert trips and all(t.road_km > 0 for t in trips)


def test_a_generated_fleet_keeps_within_the_daily_driving_limit() -> None:
    for plan in hub_fleet(12, seed=0):
        for rotation in plan.rotations:
            assert rotation.legs[-1].to == plan.depot
        days: dict[int, float] = {}
        for trip in TruckSim(plan).trips(MONDAY, MONDAY + 14 * 86400.0):
            day = int(trip.departure // 86400)
            days[day] = days.get(day, 0.0) + (trip.arrival - trip.departure) / 3600
        # Planned at the mean speed; traffic slows a leg by at most 15 %.
        assert max(days.values()) <= MAX_DAILY_DRIVING_H * 1.15


def test_bad_settings_and_other_kinds_are_refused() -> None:
    with pytest.raises(ConfigError, match="stops"):
        TruckSimSettings(stops=("nowhere",))
    with pytest.raises(ConfigError, match="timezone"):
        TruckSimSettings(timezone="Mars/Base")
    with pytest.raises(ConfigError, match="vehicles"):
        _source(kind="machine")
