"""The simulator: deterministic per seed, believable per kind, always within bounds."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from edge_agent.sources.simulator import SimulatorSettings, SimulatorSource
from idleshare.assets import KINDS, Asset

MONDAY = datetime(2024, 1, 1, tzinfo=UTC).timestamp()  # 2024-01-01 was a Monday
HOUR, DAY, WEEK = 3600.0, 86400.0, 7 * 86400.0


def _source(
    kind: str, capacity: float = 100.0, seed: int = 1, **settings: object
) -> SimulatorSource:
    asset = Asset(id=f"{kind}-1", tenant="acme", kind=kind, capacity=capacity, unit="u",
                  lat=52.48, lon=-1.89)
    return SimulatorSource(SimulatorSettings(seed=seed, **settings), asset, MONDAY)  # type: ignore[arg-type]


def _value(source: SimulatorSource, t: float, name: str) -> float:
    return next(m.value for m in source.read(t) if m.name == name)


def test_same_seed_gives_the_same_series_and_another_seed_another() -> None:
    times = [MONDAY + i * 300 for i in range(288)]
    a, b, c = (_source("warehouse_zone", seed=s) for s in (1, 1, 2))
    series = [[_value(s, t, "occupied") for t in times] for s in (a, b, c)]
    assert series[0] == series[1]
    assert series[0] != series[2]


@pytest.mark.parametrize("kind", [k.name for k in KINDS])
def test_every_metric_of_every_kind_stays_within_its_bounds(kind: str) -> None:
    source = _source(kind, capacity=40.0)
    names = {m.name for m in source.asset.asset_kind.metrics}
    for i in range(0, int(WEEK), 600):
        readings = source.read(MONDAY + i)
        assert {m.name for m in readings} == names
        for m in readings:
            metric = source.asset.asset_kind.metric(m.name)
            assert metric is not None and math.isfinite(m.value)
            upper = 40.0 if metric.maximum is None else metric.maximum
            assert metric.minimum <= m.value <= upper, (m, i)
            assert m.time == MONDAY + i
            assert m.unit == (metric.unit or "u")


def test_zone_is_fuller_on_weekday_afternoons_than_on_sunday_nights() -> None:
    zone = _source("warehouse_zone", capacity=400.0)
    weeks = range(8)
    afternoons = [_value(zone, MONDAY + w * WEEK + 2 * DAY + 15 * HOUR, "occupied") for w in weeks]
    sunday_nights = [_value(zone, MONDAY + w * WEEK + 6 * DAY + 3 * HOUR, "occupied")
                     for w in weeks]
    assert min(afternoons) > max(sunday_nights)
    assert all(v == round(v) for v in afternoons)  # positions are whole pallets


def test_machine_runs_in_weekday_shifts_with_short_stops_and_never_at_weekends() -> None:
    machine = _source("machine", rated_kw=100.0)
    samples = [(t, machine.read(t)) for t in (MONDAY + i * 900 for i in range(4 * 96 * 7))]

    def running(t: float, readings: list) -> bool:
        return next(m.value for m in readings if m.name == "running") == 1.0

    on_shift = [running(t, r) for t, r in samples
                if datetime.fromtimestamp(t, UTC).weekday() < 5
                and 6 <= datetime.fromtimestamp(t, UTC).hour < 22]
    weekend = [running(t, r) for t, r in samples if datetime.fromtimestamp(t, UTC).weekday() >= 5]
    assert 0.5 < sum(on_shift) / len(on_shift) < 0.98  # mostly running, with stops
    assert not any(weekend)
    for _, readings in samples:
        values = {m.name: m.value for m in readings}
        assert (values["power"] > 50.0) == (values["running"] == 1.0)


def test_truck_leaves_the_depot_and_comes_back() -> None:
    truck = _source("vehicle", capacity=24.0)
    depot = (truck.asset.lat, truck.asset.lon)
    trips = 0
    for day in range(28):
        readings = [{m.name: m.value for m in truck.read(MONDAY + day * DAY + i * 300)}
                    for i in range(288)]
        in_use = [r["in_use"] for r in readings]
        if not any(in_use):
            continue
        trips += 1
        first, last = in_use.index(1.0), len(in_use) - 1 - in_use[::-1].index(1.0)
        assert all(in_use[first:last + 1])  # one trip a day
        away_km = max(111 * math.hypot(r["lat"] - depot[0], r["lon"] - depot[1]) * 0.8
                      for r in readings[first:last + 1])
        assert away_km > 10
        assert (readings[0]["lat"], readings[0]["lon"]) == depot
        assert (readings[-1]["lat"], readings[-1]["lon"]) == depot
        assert readings[first]["load"] > 0 and readings[-1]["load"] == 0
    assert 12 <= trips <= 24  # most weekdays, a few weekend days


def test_container_fills_up_and_is_emptied_periodically() -> None:
    container = _source("container", capacity=30.0, empty_every_h=24.0, noise=0.0)
    fills = [_value(container, MONDAY + i * HOUR, "fill") for i in range(24 * 7)]
    drops = [i for i in range(1, len(fills)) if fills[i] < fills[i - 1] - 5]
    assert 6 <= len(drops) <= 7  # about once a day
    cycle = fills[drops[0]:drops[1]]
    assert cycle == sorted(cycle) and cycle[-1] > 15


def test_equipment_is_busier_on_weekday_daytime_than_at_night() -> None:
    forklift = _source("equipment")
    day = [_value(forklift, MONDAY + d * DAY + h * HOUR, "in_use") for d in range(5)
           for h in (8, 10, 12, 14, 16)]
    night = [_value(forklift, MONDAY + d * DAY + h * HOUR, "in_use") for d in range(7)
             for h in (0, 2, 4)]
    assert sum(day) / len(day) > 0.4 > sum(night) / len(night)
