"""Offers from an hourly forecast: reserve, lead time, blackout hours, windows, tolerance."""

from __future__ import annotations

import numpy as np

from analytics.forecast_offers import hourly_offered, offerable, offers_from_forecast
from analytics.policy import SharingPolicy

H = 3600.0
T0 = 1_700_006_400.0  # a UTC midnight


def policy(**keys: object) -> SharingPolicy:
    return SharingPolicy.from_dict({"reserve_fraction": 0.0, **keys})


def test_a_flat_forecast_gives_one_offer_of_the_free_quantity_less_the_reserve() -> None:
    offers = offers_from_forecast(np.full(24, 50.0), T0, 100.0, policy(reserve_fraction=0.1),
                                  now=T0)
    assert offers.tolist() == [[T0, T0 + 24 * H, 45.0, 0.9]]


def test_nothing_is_offered_inside_a_blackout() -> None:
    offers = offers_from_forecast(np.full(24, 50.0), T0, 100.0,
                                  policy(blackout_hours=[0, 1, 12]), now=T0)
    hours = hourly_offered(offers, T0, 24)
    assert hours[[0, 1, 12]].tolist() == [0.0, 0.0, 0.0]
    assert np.all(np.delete(hours, [0, 1, 12]) == 50.0)
    assert [(s - T0) / H for s, *_ in offers] == [2.0, 13.0]


def test_nothing_starts_within_the_lead_time() -> None:
    offers = offers_from_forecast(np.full(24, 50.0), T0, 100.0, policy(lead_time_s=5 * H),
                                  now=T0 + 0.5 * H)
    assert offers[0, 0] == T0 + 6 * H  # 05:00 starts before now + lead = 05:30


def test_windows_shorter_than_the_minimum_and_small_quantities_are_not_offered() -> None:
    free = np.array([0, 50, 0, 50, 50, 50, 0, 0.5, 0.5, 0.5], dtype=float)
    offers = offers_from_forecast(free, T0, 100.0, policy(min_window_s=2 * H), now=T0)
    assert offers[:, :3].tolist() == [[T0 + 3 * H, T0 + 6 * H, 50.0]]


def test_a_new_offer_starts_where_the_quantity_leaves_the_tolerance_band() -> None:
    free = np.array([50, 49, 51, 80, 80, 20], dtype=float)  # a band of 2 % of capacity
    offers = offers_from_forecast(free, T0, 100.0, policy(), now=T0)
    assert offers[:, 2].tolist() == [49.0, 80.0, 20.0]
    assert np.all(hourly_offered(offers, T0, 6) <= free)  # never more than the forecast


def test_an_unknown_hour_offers_nothing() -> None:
    q = offerable(np.array([np.nan, 10.0]), T0, policy(), now=T0)
    assert q.tolist() == [0.0, 10.0]
