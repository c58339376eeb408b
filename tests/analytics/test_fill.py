"""The fill forecast: known rates give known full times, an emptying restarts the cycle, a
just-emptied container takes its past cycles' rate, wild readings do not move the rate."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.fill import HOUR, emptyings, forecast_fill

CAPACITY = 30.0  # m3
STEP = 900.0  # a reading every 15 minutes
T0 = 1_717_200_000.0


def filling(hours: float, rate_per_h: float, start_level: float = 0.0, noise: float = 0.05,
            seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Readings of a container filling at ``rate_per_h`` from ``start_level``, with a little
    seeded sensor noise."""
    times = T0 + np.arange(0.0, hours * HOUR + 1, STEP)
    rng = np.random.default_rng(seed)
    level = start_level + rate_per_h * (times - T0) / HOUR + rng.normal(0.0, noise, times.size)
    return times, np.clip(level, 0.0, CAPACITY)


def test_a_container_filling_at_a_known_rate_is_full_at_the_expected_hour() -> None:
    times, fill = filling(hours=24.0, rate_per_h=0.5)  # 12 m3 after a day
    f = forecast_fill(times, fill, CAPACITY)
    assert f is not None
    # 90 % of 30 m3 = 27 m3 at 0.5 m3/h: 54 h after the first reading, within one reading.
    full_at = f.reaches(0.9 * CAPACITY)
    assert full_at is not None
    assert abs(full_at - (T0 + 54 * HOUR)) <= STEP
    assert f.rate_per_h == pytest.approx(0.5, abs=0.005)
    earliest, latest = f.reaches(0.9 * CAPACITY, "earliest"), f.reaches(0.9 * CAPACITY, "latest")
    assert earliest is not None and latest is not None
    assert earliest <= full_at <= latest
    assert f.emptied_at is None and f.cycle_start == T0


def test_the_lower_level_never_promises_more_than_the_container_holds() -> None:
    times, fill = filling(hours=24.0, rate_per_h=0.5)
    f = forecast_fill(times, fill, CAPACITY)
    assert f is not None
    later = times[-1] + 10 * HOUR
    assert f.lower_level_at(times[-1]) <= fill[-1] + 0.2  # noise: 4 sigma
    assert f.lower_level_at(later) <= 0.5 * (later - T0) / HOUR
    assert f.lower_level_at(times[-1] + 1000 * HOUR) == CAPACITY


def test_an_emptied_container_restarts_the_cycle() -> None:
    before_t, before = filling(hours=40.0, rate_per_h=0.6)
    emptied_at = before_t[-1] + STEP
    after_t = emptied_at + np.arange(0.0, 6 * HOUR + 1, STEP)
    after = 0.4 + 0.5 * (after_t - emptied_at) / HOUR  # a new, slower cycle
    times, fill = np.concatenate([before_t, after_t]), np.concatenate([before, after])
    f = forecast_fill(times, fill, CAPACITY)
    assert f is not None
    assert f.emptied_at == emptied_at and f.cycle_start == emptied_at
    assert f.rate_per_h == pytest.approx(0.5, abs=1e-9)  # this cycle's rate, not 0.6
    assert f.level == pytest.approx(0.4 + 0.5 * 6, abs=1e-9)
    full_at = f.reaches(0.9 * CAPACITY)
    assert full_at is not None
    assert abs(full_at - (emptied_at + (27 - 0.4) / 0.5 * HOUR)) <= STEP
    assert emptyings(fill, CAPACITY).tolist() == [before_t.size]


def test_a_just_emptied_container_takes_its_past_cycles_rates() -> None:
    t1, c1 = filling(hours=30.0, rate_per_h=0.6, noise=0.0)
    t2 = t1[-1] + STEP + np.arange(0.0, 30 * HOUR + 1, STEP)
    c2 = 0.4 * (t2 - t2[0]) / HOUR
    t3 = t2[-1] + STEP + np.array([0.0, STEP])  # two readings since the last emptying
    c3 = np.array([0.2, 0.3])
    f = forecast_fill(np.concatenate([t1, t2, t3]), np.concatenate([c1, c2, c3]), CAPACITY)
    assert f is not None
    assert f.emptied_at == t3[0]
    assert f.rate_lower_per_h == pytest.approx(0.4) and f.rate_upper_per_h == pytest.approx(0.6)
    assert f.rate_per_h == pytest.approx(0.5)  # the median of the two
    assert f.level == f.level_lower == 0.3


def test_wild_readings_do_not_move_the_rate() -> None:
    times, fill = filling(hours=24.0, rate_per_h=0.5)
    fill = fill.copy()
    fill[[10, 40, 70]] = [29.0, 0.0, 25.0]  # a ladder in front of the sensor, a dropout
    f = forecast_fill(times, fill, CAPACITY)
    assert f is not None
    assert f.rate_per_h == pytest.approx(0.5, abs=0.01)


def test_a_container_that_does_not_fill_is_never_full() -> None:
    times = T0 + np.arange(0.0, 24 * HOUR, STEP)
    f = forecast_fill(times, np.full(times.size, 5.0), CAPACITY)
    assert f is not None
    assert f.rate_per_h == 0.0
    assert f.reaches(0.9 * CAPACITY) is None and f.reaches(4.0) == f.at


def test_too_few_readings_give_no_forecast_and_bad_input_is_refused() -> None:
    assert forecast_fill([], [], CAPACITY) is None
    assert forecast_fill([T0, T0 + STEP], [1.0, 1.2], CAPACITY) is None
    with pytest.raises(ValueError, match="one length"):
        forecast_fill([T0], [1.0, 2.0], CAPACITY)
    with pytest.raises(ValueError, match="capacity"):
        forecast_fill([T0], [1.0], 0.0)
