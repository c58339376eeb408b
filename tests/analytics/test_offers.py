"""Seasonal-naive offers: projection, quantity, confidence from history, merging."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from analytics.offers import floor_quantity, seasonal_naive_offers

H, D = 3600.0, 86400.0


def daily(days: list[int], free: float = 10.0, start_h: float = 8, end_h: float = 10) -> np.ndarray:
    """The same idle window on each of ``days``: rows [start, end, min_free]."""
    return np.array([[d * D + start_h * H, d * D + end_h * H, free] for d in days]).reshape(-1, 3)


def covered(first_day: int, last_day: int) -> np.ndarray:
    """Data from the start of ``first_day`` to the end of ``last_day``."""
    return np.array([[first_day * D, (last_day + 1) * D]])


def test_a_window_is_offered_again_one_period_later_less_the_reserve() -> None:
    offers = seasonal_naive_offers(daily([1]), covered(1, 1), D + 12 * H)
    np.testing.assert_allclose(offers, [[2 * D + 8 * H, 2 * D + 10 * H, 9.0, 2 / 3]])


def test_the_offer_moves_to_the_first_period_that_starts_after_the_lead_time() -> None:
    offers = seasonal_naive_offers(daily([1]), covered(1, 1), D + 12 * H, lead_time_s=21 * H)
    # now + lead = day 2, 09:00: day 2's 08:00 slot is too early, day 3's is the first.
    assert offers[0, 0] == 3 * D + 8 * H


def test_a_slot_starting_exactly_at_now_plus_lead_is_offered() -> None:
    offers = seasonal_naive_offers(daily([1]), covered(1, 1), D + 12 * H, lead_time_s=20 * H)
    assert offers[0, 0] == 2 * D + 8 * H


def test_quantity_is_rounded_down_to_three_decimals() -> None:
    offers = seasonal_naive_offers(daily([1], free=1.23456), covered(1, 1), 2 * D,
                                   reserve_fraction=0.0, min_quantity=0.0)
    assert offers[0, 2] == 1.234


def test_rounding_down_does_not_lose_a_thousandth_to_binary_noise() -> None:
    # 3 * (1 - 0.9) is 0.29999999999999993 in binary floating point.
    assert floor_quantity(np.array([3 * (1 - 0.9)])).tolist() == [0.3]


def test_offers_under_the_minimum_quantity_are_skipped() -> None:
    offers = seasonal_naive_offers(daily([1]), covered(1, 1), 2 * D, min_quantity=9.5)
    assert offers.shape == (0, 4)


def test_confidence_rises_with_each_idle_day_of_history() -> None:
    confidences = [
        seasonal_naive_offers(daily(list(range(n))), covered(0, n - 1), n * D)[0, 3]
        for n in (1, 2, 3, 4)
    ]
    np.testing.assert_allclose(confidences, [2 / 3, 3 / 4, 4 / 5, 5 / 6])


def test_busy_days_in_the_history_lower_the_confidence() -> None:
    # Days 0 and 1 have data but no idle window at 08:00: n = 3, hits = 1.
    offers = seasonal_naive_offers(daily([2]), covered(0, 2), 3 * D)
    assert offers[0, 3] == pytest.approx(2 / 5)


def test_days_without_full_data_are_not_counted() -> None:
    # Day 1 has data only until 09:00, so its 08:00-10:00 slot says nothing.
    coverage = np.array([[D, D + 9 * H], [2 * D, 3 * D]])
    assert seasonal_naive_offers(daily([2]), coverage, 3 * D)[0, 3] == pytest.approx(2 / 3)


def test_a_slot_only_partly_inside_an_earlier_window_is_not_a_hit() -> None:
    # Day 1's 08:00-10:00 looks back on day 0's slot: seen (n = 2), but 08:00-09:00 of it was
    # not idle, so hits = 1 and confidence 2/4 (a hit would give 3/4).
    windows = np.vstack((daily([0], start_h=9, end_h=12), daily([1])))
    offers = seasonal_naive_offers(windows, covered(0, 1), 2 * D)
    np.testing.assert_allclose(offers, [[2 * D + 8 * H, 2 * D + 10 * H, 9.0, 1 / 2]])


def test_history_is_searched_only_lookback_periods_back() -> None:
    offers = seasonal_naive_offers(daily([0, 1, 2, 3]), covered(0, 3), 4 * D,
                                   lookback_periods=1)
    assert offers[-1, 3] == pytest.approx(3 / 4)


def test_windows_landing_on_the_same_slot_give_one_offer_from_the_latest() -> None:
    windows = np.vstack((daily([0], free=20.0), daily([1], free=10.0)))
    offers = seasonal_naive_offers(windows, covered(0, 1), 2 * D)
    np.testing.assert_allclose(offers, [[2 * D + 8 * H, 2 * D + 10 * H, 9.0, 3 / 4]])


def test_overlapping_projected_windows_give_one_offer_from_the_latest() -> None:
    windows = np.vstack((daily([0], free=20.0, start_h=7, end_h=11), daily([1], free=10.0)))
    offers = seasonal_naive_offers(windows, covered(0, 1), 2 * D)
    np.testing.assert_allclose(offers[:, :3], [[2 * D + 8 * H, 2 * D + 10 * H, 9.0]])


def test_a_latest_window_too_small_to_offer_does_not_revive_an_older_one() -> None:
    windows = np.vstack((daily([0], free=20.0), daily([1], free=0.5)))
    offers = seasonal_naive_offers(windows, covered(0, 1), 2 * D)
    assert offers.shape == (0, 4)


def test_windows_of_different_slots_give_offers_sorted_by_start() -> None:
    windows = np.vstack((daily([1], start_h=14, end_h=16), daily([0])))
    offers = seasonal_naive_offers(windows, covered(0, 1), 2 * D)
    np.testing.assert_array_equal(offers[:, 0], [2 * D + 8 * H, 2 * D + 14 * H])


def test_no_windows_give_no_offers() -> None:
    assert seasonal_naive_offers(np.zeros((0, 3)), np.zeros((0, 2)), 0.0).shape == (0, 4)


def test_a_time_that_is_not_finite_is_refused() -> None:
    with pytest.raises(ValueError, match="now"):
        seasonal_naive_offers(daily([0]), covered(0, 0), float("nan"))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"period_s": 0.0}, "period_s"),
        ({"lead_time_s": -1.0}, "lead_time_s"),
        ({"reserve_fraction": 1.0}, "reserve_fraction"),
        ({"min_quantity": -1.0}, "min_quantity"),
        ({"lookback_periods": 1.5}, "lookback_periods"),
    ],
)
def test_bad_parameters_are_refused(params: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        seasonal_naive_offers(daily([0]), covered(0, 0), D, **params)


@pytest.mark.parametrize(
    ("windows", "coverage", "match"),
    [
        (np.zeros((1, 2)), covered(0, 0), "3 columns"),
        (np.array([[5.0, 4.0, 1.0]]), covered(0, 0), "end at or after"),
        (np.array([[0.0, 5.0, 1.0], [4.0, 6.0, 1.0]]), covered(0, 0), "overlap"),
        (daily([0]), np.zeros((1, 3)), "2 columns"),
    ],
)
def test_bad_input_is_refused(windows: np.ndarray, coverage: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        seasonal_naive_offers(windows, coverage, D)
