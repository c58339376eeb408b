"""Utilisation indicators by kind on synthetic patterns with known answers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from analytics.kpis import (
    HEADLINE,
    IDLE,
    INDICATORS,
    KPI_SOURCES,
    OFF,
    RUNNING,
    aggregate,
    asset_kpis,
    indicators,
    machine_states,
)
from analytics.states import MachineStateModel
from idleshare.assets import KINDS
from idleshare.errors import ConfigError

H = 3600.0


def hourly(*values: float) -> np.ndarray:
    """Times of hourly readings, plus one closing reading so the last value holds an hour."""
    return H * np.arange(len(values) + 1)


def test_machine_availability_is_running_time_over_planned_time() -> None:
    # 8 planned hours: 4 running, 2 idle, 2 off; then 4 unplanned hours off.
    state = [RUNNING] * 4 + [IDLE] * 2 + [OFF] * 2 + [OFF] * 4
    planned = [1] * 8 + [0] * 4
    got = indicators("machine", hourly(*state), {"state": np.array([*state, OFF]),
                                                 "planned": np.array([*planned, 0])}, 1.0)
    assert got == pytest.approx({"availability": 4 / 8, "utilisation": 4 / 12,
                                 "idle_share": 2 / 8, "off_share": 6 / 12})


def test_machine_states_from_power_thresholds_feed_the_indicators() -> None:
    power = np.array([0.0, 0.5, 3.0, 40.0, 55.0, 60.0, 2.0, 0.0])
    states = machine_states(power, off_below=1.0, running_from=20.0)
    assert states.tolist() == [OFF, OFF, IDLE, RUNNING, RUNNING, RUNNING, IDLE, OFF]
    got = indicators("machine", H * np.arange(8), {"state": states}, 1.0)
    # Seven hours hold a value (the last reading holds none): 3 running, 2 idle, 2 off.
    assert got["availability"] == pytest.approx(3 / 7)
    assert got["idle_share"] == pytest.approx(2 / 7)


def test_machine_states_from_the_learned_classifier_give_the_same_availability() -> None:
    rng = np.random.default_rng(0)
    power = np.concatenate([rng.uniform(0, 0.05, 30), rng.normal(5, 0.3, 30),
                            rng.normal(80, 3, 60)])
    states = MachineStateModel(n_states=3).fit(power[:, None]).labels_
    got = indicators("machine", H * np.arange(power.size + 1),
                     {"state": np.append(states, OFF)}, 1.0)
    assert got["availability"] == pytest.approx(0.5)


def test_vehicle_in_use_share_and_load_factor_count_only_trips() -> None:
    # 10 t truck: 3 h on the road with 8, 6, 4 t; 5 h parked (load 0 t).
    in_use = [1, 1, 1, 0, 0, 0, 0, 0]
    load = [8.0, 6.0, 4.0, 0, 0, 0, 0, 0]
    got = indicators("vehicle", hourly(*in_use), {"in_use": np.array([*in_use, 0]),
                                                  "load": np.array([*load, 0])}, 10.0)
    assert got == pytest.approx({"in_use_share": 3 / 8, "parked_share": 5 / 8,
                                 "load_factor": 0.6})


def test_container_fill_level_is_time_weighted() -> None:
    # 20 m3 skip: 2 m3 for 3 h, then 12 m3 for 1 h (readings out of order are sorted).
    times = np.array([3 * H, 0.0, 4 * H])
    got = indicators("container", times, {"fill": np.array([12.0, 2.0, 12.0])}, 20.0)
    assert got["fill_level"] == pytest.approx((2 * 3 + 12) / 4 / 20)


def test_no_time_with_data_gives_nan_not_a_guess() -> None:
    got = indicators("vehicle", np.array([0.0]), {"in_use": np.array([0.0]),
                                                  "load": np.array([0.0])}, 10.0)
    assert np.isnan(list(got.values())).all()


def test_bad_input_is_refused_with_the_reason() -> None:
    t = hourly(1, 1)
    with pytest.raises(ValueError, match="load"):
        indicators("vehicle", t, {"in_use": np.ones(3)}, 10.0)
    with pytest.raises(ValueError, match="3 times"):
        indicators("container", t, {"fill": np.ones(2)}, 10.0)
    with pytest.raises(ValueError, match="capacity"):
        indicators("container", t, {"fill": np.ones(3)}, 0.0)
    with pytest.raises(ConfigError, match="unknown asset kind"):
        indicators("boat", t, {}, 1.0)
    with pytest.raises(ValueError, match="off_below"):
        machine_states(np.ones(2), 5.0, 1.0)


def test_every_asset_kind_has_written_down_indicators() -> None:
    assert {k.name for k in KINDS} == {d.kind for d in INDICATORS}
    assert all(d.definition and d.inputs for d in INDICATORS)


# --- Served KPIs from stored readings (asset_kpis, aggregate) -------------------------------


@dataclass(frozen=True)
class Bay:
    id: str
    kind: str
    capacity: float


def pairs(times_h: list[float], values: list[float]) -> list[tuple[float, float]]:
    return [(t * H, v) for t, v in zip(times_h, values, strict=True)]


def test_a_machine_s_kpis_come_from_running_and_power_readings() -> None:
    # 0-4 h running, 4-6 h stopped with power on (idle), 6-8 h power 0 (off); the power
    # readings are at other times than the running ones.
    series = {"running": pairs([0, 4, 8], [1, 0, 0]),
              "power": pairs([0, 1, 6, 8], [50, 40, 0, 0])}
    got = asset_kpis(Bay("m1", "machine", 1.0), series, 0.0, 8 * H)
    assert (got.availability, got.utilisation, got.idle_share) == pytest.approx((0.5, 0.5, 0.25))
    assert np.isnan(got.load_factor) and got.indicators["off_share"] == pytest.approx(0.25)
    assert got.coverage == 1.0


def test_a_vehicle_s_load_factor_counts_the_load_held_on_trips_only() -> None:
    # 10 t truck, on the road 0-2 h with 8 t then 4 t, parked 2-4 h (load readings 0).
    series = {"in_use": pairs([0, 2, 4], [1, 0, 0]), "load": pairs([0, 1, 2], [8, 4, 0])}
    got = asset_kpis(Bay("t1", "vehicle", 10.0), series, 0.0, 4 * H)
    assert (got.utilisation, got.load_factor, got.idle_share) == pytest.approx((0.5, 0.6, 0.5))
    assert np.isnan(got.availability)
    without_load = asset_kpis(Bay("t1", "vehicle", 10.0), {"in_use": series["in_use"]}, 0.0,
                              4 * H)
    assert without_load.utilisation == 0.5 and np.isnan(without_load.load_factor)


def test_the_period_clips_readings_and_a_reading_before_it_gives_the_value_at_its_start() -> None:
    # 40 of 100 occupied from -1 h, 80 from 2 h; period 0-4 h, data up to 3 h (last reading).
    zone = Bay("z1", "warehouse_zone", 100.0)
    got = asset_kpis(zone, {"occupied": pairs([-1, 2, 3], [40, 80, 80])}, 0.0, 4 * H)
    assert got.seconds_with_data == 3 * H and got.coverage == 0.75
    assert got.utilisation == pytest.approx((2 * 40 + 80) / 3 / 100)
    # A reading after the period makes the 3 h one hold to its end, and no further.
    got = asset_kpis(zone, {"occupied": pairs([-1, 2, 3, 5], [40, 80, 80, 0])}, 0.0, 4 * H)
    assert got.coverage == 1.0 and got.utilisation == pytest.approx((2 * 40 + 2 * 80) / 4 / 100)


def test_no_readings_give_nan_kpis_and_zero_time_with_data() -> None:
    got = asset_kpis(Bay("c1", "container", 20.0), {}, 0.0, H)
    assert got.seconds_with_data == 0.0
    assert all(np.isnan(getattr(got, h)) for h in HEADLINE)


def test_aggregate_weights_each_asset_by_its_time_with_data_and_skips_nan() -> None:
    full = asset_kpis(Bay("z1", "warehouse_zone", 100.0), {"occupied": pairs([0, 4], [50, 50])},
                      0.0, 4 * H)
    part = asset_kpis(Bay("z2", "warehouse_zone", 100.0), {"occupied": pairs([0, 1], [100, 0])},
                      0.0, 4 * H)
    empty = asset_kpis(Bay("z3", "warehouse_zone", 100.0), {}, 0.0, 4 * H)
    truck = asset_kpis(Bay("t1", "vehicle", 10.0), {"in_use": pairs([0, 4], [1, 1])}, 0.0, 4 * H)
    got = aggregate([full, part, empty, truck])
    assert sorted(got) == ["vehicle", "warehouse_zone"]
    zones = got["warehouse_zone"]
    assert (zones.assets, zones.seconds_with_data) == (3, 5 * H)
    assert zones.utilisation == pytest.approx((4 * 0.5 + 1 * 1.0) / 5)
    assert np.isnan(zones.load_factor) and got["vehicle"].utilisation == 1.0


def test_bad_periods_and_capacities_are_refused() -> None:
    with pytest.raises(ValueError, match="end must be after start"):
        asset_kpis(Bay("z1", "warehouse_zone", 1.0), {}, H, H)
    with pytest.raises(ValueError, match="capacity"):
        asset_kpis(Bay("z1", "warehouse_zone", 0.0), {}, 0.0, H)
    with pytest.raises(ConfigError, match="unknown asset kind"):
        asset_kpis(Bay("b1", "boat", 1.0), {}, 0.0, H)


def test_every_kind_serves_kpis_from_its_own_metrics_and_indicators() -> None:
    assert {k.name for k in KINDS} == {s.kind for s in KPI_SOURCES}
    for source in KPI_SOURCES:
        names = {d.name for d in INDICATORS if d.kind == source.kind}
        assert {getattr(source, h) for h in HEADLINE} - {None} <= names
        assert source.metrics[0] == next(k for k in KINDS if k.name == source.kind).primary_metric
