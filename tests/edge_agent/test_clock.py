"""The simulated clock runs fast through the past but never into the future."""

from __future__ import annotations

import time

import pytest

from edge_agent.clock import RealClock, SimClock, make_clock, parse_start
from idleshare.errors import ConfigError

WALL = 1_700_000_000.0


class Ticks:
    """Wall and monotonic time the test moves together."""

    def __init__(self) -> None:
        self.elapsed = 0.0
        self.wall_offset = 0.0

    def wall(self) -> float:
        return WALL + self.elapsed + self.wall_offset

    def monotonic(self) -> float:
        return self.elapsed


def test_sim_clock_runs_speed_times_faster_from_its_start() -> None:
    ticks = Ticks()
    clock = SimClock(WALL - 86400, speed=60.0, wall=ticks.wall, monotonic=ticks.monotonic)
    assert clock.now() == WALL - 86400
    ticks.elapsed = 10.0
    assert clock.now() == pytest.approx(WALL - 86400 + 600)


def test_sim_clock_tracks_the_wall_clock_once_caught_up() -> None:
    ticks = Ticks()
    clock = SimClock(WALL - 3600, speed=60.0, wall=ticks.wall, monotonic=ticks.monotonic)
    ticks.elapsed = 120.0  # 2 h of clock time would be 1 h into the future
    assert clock.now() == pytest.approx(ticks.wall())
    ticks.elapsed = 125.0
    assert clock.now() == pytest.approx(ticks.wall())


def test_sim_clock_never_goes_backwards_when_the_wall_clock_steps_back() -> None:
    ticks = Ticks()
    clock = SimClock(WALL, speed=1.0, wall=ticks.wall, monotonic=ticks.monotonic)
    ticks.elapsed = 5.0
    before = clock.now()
    ticks.wall_offset = -3.0
    assert clock.now() >= before


def test_a_start_in_the_future_is_pulled_back_to_now() -> None:
    ticks = Ticks()
    clock = SimClock(WALL + 3600, speed=2.0, wall=ticks.wall, monotonic=ticks.monotonic)
    assert clock.now() <= ticks.wall()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", WALL),
        ("-1d", WALL - 86400),
        ("-6h", WALL - 6 * 3600),
        ("-30m", WALL - 1800),
        ("-1.5h", WALL - 5400),
        ("2024-01-01T00:00:00", 1704067200.0),  # naive means UTC
        ("2024-01-01T01:00:00+01:00", 1704067200.0),
    ],
)
def test_start_accepts_now_offsets_and_iso_times(text: str, expected: float) -> None:
    assert parse_start(text, WALL) == expected


def test_start_refuses_anything_else() -> None:
    with pytest.raises(ConfigError, match="start must be"):
        parse_start("+1d", WALL)


def test_real_time_config_gives_the_wall_clock() -> None:
    assert isinstance(make_clock("now", 1.0), RealClock)
    assert isinstance(make_clock("-1d", 1.0), SimClock)


def test_sim_clock_sleep_waits_clock_seconds() -> None:
    clock = SimClock(time.time() - 86400, speed=1000.0)
    before = clock.now()
    clock.sleep(50.0)  # 0.05 s of real time
    assert clock.now() - before >= 50.0
