"""Idle windows on patterns worked out by hand, and against a plain loop on real data."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.idle_windows import IdleWindow, find_windows, idle_readings, idle_windows
from tests.analytics import datasets, reference

H = 3600.0


def windows(hours: list[float], free: list[float], **params: float) -> list[list[float]]:
    """Windows of readings at the given hours, with start and end in hours."""
    X = np.column_stack((np.array(hours) * H, free))
    found = find_windows(X, **params)
    found[:, :2] /= H
    return found.round(6).tolist()


def test_a_window_runs_from_the_entering_reading_to_the_leaving_one() -> None:
    assert windows([0, 1, 2, 3, 4, 5], [0, 1, 1, 0.8, 0, 0]) == [
        [1, 4, 0.8, round(2.8 / 3, 6), 0.0]
    ]


def test_mean_free_is_weighted_by_how_long_each_reading_holds() -> None:
    # 0.6 holds for 0.5 h, 1.0 for 1.5 h: (0.3 + 1.5) / 2 = 0.9.
    assert windows([0, 0.5, 2, 3], [0.6, 1, 0, 0]) == [[0, 2, 0.6, 0.9, 0.0]]


def test_a_window_nothing_leaves_is_ongoing_and_its_last_reading_covers_no_time() -> None:
    # The last reading (0.6) counts for min_free but holds for no time, so the mean stays 1.
    assert windows([0, 1, 2, 3], [0, 0, 1, 0.6]) == [[2, 3, 0.6, 1.0, 1.0]]


def test_windows_shorter_than_min_duration_are_dropped() -> None:
    hours, free = [0, 1, 1.5, 2, 4, 5.5, 7], [0, 1, 0, 0, 1, 0, 0]
    assert windows(hours, free, min_duration_s=H) == [[4, 5.5, 1, 1, 0.0]]
    assert windows(hours, free, min_duration_s=0.5 * H) == [[1, 1.5, 1, 1, 0.0],
                                                           [4, 5.5, 1, 1, 0.0]]


def test_hysteresis_keeps_a_window_open_through_a_shallow_dip() -> None:
    hours, free = [0, 1, 2, 3, 4], [0, 0.6, 0.45, 0.6, 0.3]
    assert windows(hours, free, min_duration_s=0) == [[1, 2, 0.6, 0.6, 0.0],
                                                     [3, 4, 0.6, 0.6, 0.0]]
    assert windows(hours, free, min_duration_s=0, hysteresis=0.1) == [
        [1, 4, 0.45, 0.55, 0.0]
    ]


def test_hysteresis_does_not_let_a_window_start_in_the_dead_band() -> None:
    assert windows([0, 1, 2, 3, 4], [0.45, 0.45, 0.6, 0.45, 0],
                   min_duration_s=0, hysteresis=0.1) == [[2, 4, 0.45, 0.525, 0.0]]


def test_a_long_gap_ends_a_window_at_the_reading_before_it() -> None:
    # 2 h -> 10 h is longer than 6 h; the 2 h reading (0.7) counts for min_free, holds no time.
    assert windows([0, 1, 2, 10, 11, 12], [1, 1, 0.7, 1, 1, 1]) == [
        [0, 2, 0.7, 1.0, 0.0],
        [10, 12, 1.0, 1.0, 1.0],
    ]


def test_a_gap_of_exactly_max_gap_does_not_split_a_window() -> None:
    assert windows([0, 6, 7], [1, 1, 0]) == [[0, 7, 1.0, 1.0, 0.0]]


def test_after_a_gap_the_dead_band_does_not_continue_a_window() -> None:
    assert windows([0, 1, 10, 11], [1, 1, 0.45, 0.45], hysteresis=0.1) == [
        [0, 1, 1.0, 1.0, 0.0]
    ]


def test_idle_readings_are_marked_before_the_duration_filter() -> None:
    X = np.column_stack((np.arange(6) * 600.0, [0, 1, 1, 0, 1, 0.2]))
    idle = idle_readings(X)
    assert find_windows(X, min_duration_s=1e9).shape == (0, 5)
    assert idle.tolist() == [False, True, True, False, True, False]


def test_no_readings_give_no_windows() -> None:
    X = np.zeros((0, 2))
    assert find_windows(X).shape == (0, 5)
    assert idle_readings(X).shape == (0,)


def test_idle_windows_reports_free_quantities_in_the_asset_unit() -> None:
    found = idle_windows(np.array([3 * H, 0, H, 2 * H]), np.array([0.0, 0, 20, 15]), 20.0)
    assert found == [IdleWindow(start=H, end=3 * H, min_free=15.0, mean_free=17.5,
                                ongoing=False)]


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"min_free_fraction": 0.0}, "min_free_fraction"),
        ({"min_free_fraction": 1.5}, "min_free_fraction"),
        ({"hysteresis": 0.6}, "hysteresis"),
        ({"hysteresis": -0.1}, "hysteresis"),
        ({"min_duration_s": -1.0}, "min_duration_s"),
        ({"max_gap_s": 0.0}, "max_gap_s"),
    ],
)
def test_bad_parameters_are_refused(params: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        find_windows(np.zeros((1, 2)), **params)
    with pytest.raises(ValueError, match=match):
        idle_windows(np.zeros(1), np.zeros(1), 1.0, **params)


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.zeros((2, 3)), "2 columns"),
        (np.array([[1.0, 0.5], [0.0, 0.5]]), "strictly increasing"),
        (np.array([[0.0, 0.5], [0.0, 0.5]]), "strictly increasing"),
        (np.array([[0.0, np.nan]]), "NaN"),
        (np.zeros(4), "2D"),
    ],
)
def test_bad_input_is_refused(X: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        find_windows(X)


def _check_against_loop(t: np.ndarray, f: np.ndarray, **params: float) -> int:
    p = {"min_free_fraction": 0.5, "min_duration_s": 3600.0, "hysteresis": 0.0,
         "max_gap_s": 6 * H, **params}
    got = find_windows(np.column_stack((t, f)), **p)
    want = reference.windows(t, f, p["min_free_fraction"],
                             p["min_free_fraction"] - p["hysteresis"], p["max_gap_s"],
                             p["min_duration_s"])
    np.testing.assert_allclose(got, np.array(want, dtype=float).reshape(-1, 5))
    return len(want)


@pytest.mark.parametrize("seed", range(5))
def test_windows_match_a_plain_loop_on_random_readings_with_gaps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    steps = rng.choice([60.0, 600.0, 3600.0, 7 * 3600.0], size=500, p=[0.4, 0.4, 0.15, 0.05])
    t = np.cumsum(steps)
    f = np.clip(rng.normal(0.5, 0.2, size=t.size), 0, 1)
    assert _check_against_loop(t, f, min_duration_s=1800.0, hysteresis=0.1) > 0


def test_windows_match_a_plain_loop_on_a_real_office_room() -> None:
    # ~1 reading a minute, 0/1 occupancy, one 7 h gap between the two files.
    times, occupied = datasets.office_occupancy()
    order = np.argsort(times, kind="stable")
    t, free = times[order], 1.0 - occupied[order]
    _check_against_loop(t, free, min_duration_s=3600.0)
    # Mon 2 Feb 2015 to Tue 10 Feb: five weeknights and one weekend, all closed by mornings.
    hours = sorted((w.end - w.start) / H for w in idle_windows(t, free, 1.0))
    assert len(hours) == 6
    assert all(13 < h < 15 for h in hours[:5]) and 60 < hours[5] < 64


def test_windows_match_a_plain_loop_on_real_car_parks() -> None:
    for code, (capacity, times, occupied) in datasets.parking().items():
        t, idx = np.unique(times, return_index=True)
        free = np.clip(capacity - occupied[idx], 0, capacity) / capacity
        _check_against_loop(t, free, min_free_fraction=0.6, hysteresis=0.15,
                            min_duration_s=1800.0)
        rows = find_windows(np.column_stack((t, free)), 0.6, 1800.0, 0.15)
        # Car parks report 08:00-16:30 only, so no window may run through a night.
        assert (rows[:, 1] - rows[:, 0] < 10 * H).all(), code


def test_free_quantities_in_asset_units_are_exact_not_rescaled_fractions() -> None:
    # 330 / 577 * 577 is 329.99999999999994 in floating point.
    [window] = idle_windows(np.array([0.0, H, 2 * H, 3 * H]), np.array([0.0, 330, 330, 0]),
                            577.0)
    assert (window.min_free, window.mean_free) == (330.0, 330.0)
