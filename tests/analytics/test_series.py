"""The step-function rules every analytics module shares."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.series import Steps, as_series, contained, free_quantity, merge_intervals


def test_each_reading_holds_until_the_next_and_the_last_covers_no_time() -> None:
    steps = Steps.from_readings(np.array([0.0, 10.0, 30.0]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(steps.starts, [0, 10, 30])
    np.testing.assert_array_equal(steps.ends, [10, 30, 30])


def test_a_value_does_not_hold_across_a_gap_longer_than_max_gap() -> None:
    steps = Steps.from_readings(np.array([0.0, 10.0, 61.0, 111.0]), np.ones(4), max_gap_s=50.0)
    # 10 -> 61 is longer than 50 s: unknown; 61 -> 111 is exactly 50 s: still holds.
    np.testing.assert_array_equal(steps.ends, [10, 10, 111, 111])


def test_readings_are_sorted_and_the_later_of_equal_timestamps_wins() -> None:
    t, v = as_series(np.array([5.0, 0.0, 5.0]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(t, [0, 5])
    np.testing.assert_array_equal(v, [2, 3])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_readings_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        as_series(np.array([0.0, 1.0]), np.array([1.0, bad]))


def test_cumulative_coverage_and_integral_are_exact_between_readings() -> None:
    steps = Steps.from_readings(np.array([0.0, 10.0, 20.0]), np.array([1.0, 3.0, 0.0]))
    covered, integral = steps.cumulative(np.array([-5.0, 0.0, 5.0, 15.0, 25.0]))
    np.testing.assert_allclose(covered, [0, 0, 5, 15, 20])
    np.testing.assert_allclose(integral, [0, 0, 5, 10 + 15, 10 + 30])


def test_cumulative_of_no_readings_is_zero() -> None:
    covered, integral = Steps.from_readings(np.zeros(0), np.zeros(0)).cumulative(np.array([1.0]))
    assert covered.tolist() == [0.0] and integral.tolist() == [0.0]


def test_covered_intervals_join_adjacent_readings_and_split_at_gaps() -> None:
    steps = Steps.from_readings(np.array([0.0, 10.0, 20.0, 100.0, 110.0]), np.ones(5),
                                max_gap_s=50.0)
    np.testing.assert_array_equal(steps.covered_intervals(), [[0, 20], [100, 110]])


def test_merge_intervals_merges_overlaps_and_drops_empty_ones() -> None:
    merged = merge_intervals(np.array([[5.0, 8.0], [0.0, 6.0], [9.0, 9.0], [8.0, 10.0],
                                       [20.0, 21.0], [1.0, 2.0]]))
    np.testing.assert_array_equal(merged, [[0, 10], [20, 21]])


def test_contained_needs_the_whole_span_inside_one_interval() -> None:
    intervals = np.array([[0.0, 10.0], [10.5, 20.0]])
    inside = contained(intervals, np.array([0.0, 2.0, 9.0, -1.0, 11.0]),
                       np.array([10.0, 3.0, 11.0, 1.0, 20.0]))
    assert inside.tolist() == [True, True, False, False, True]


def test_free_quantity_uses_the_kind_and_clamps_to_capacity() -> None:
    np.testing.assert_array_equal(
        free_quantity("warehouse_zone", np.array([-2.0, 3.0, 12.0]), 10.0), [10, 7, 0]
    )
    np.testing.assert_array_equal(free_quantity("container", np.array([4.0, 15.0]), 10.0),
                                  [4, 10])
