"""Utilisation indicators by kind on synthetic patterns with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.kpis import IDLE, INDICATORS, OFF, RUNNING, indicators, machine_states
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
