"""The sharing policy and its mapping to the analytics functions."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.policy import DEFAULT_POLICY, SharingPolicy
from idleshare.errors import ConfigError


def test_an_empty_policy_is_the_default_policy() -> None:
    policy = SharingPolicy.from_dict({})
    assert policy.min_free_fraction == DEFAULT_POLICY["min_free_fraction"]
    assert policy.currency == DEFAULT_POLICY["currency"]


def test_owner_keys_override_defaults_and_unknown_keys_are_ignored() -> None:
    policy = SharingPolicy.from_dict({"min_free_fraction": 0.8, "min_quantity": 2,
                                      "note": "kept by the API"})
    assert policy.min_free_fraction == 0.8 and policy.min_quantity == 2.0


@pytest.mark.parametrize(
    ("key", "value"),
    [("reserve_fraction", "ten percent"), ("price_per_unit_hour", True), ("currency", 978)],
)
def test_a_value_of_the_wrong_type_is_refused_naming_the_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=key):
        SharingPolicy.from_dict({key: value})


def test_the_policy_sets_the_idle_window_thresholds() -> None:
    # Free 0.35 for 15 min, then 0.2: idle only at min_free_fraction 0.3, kept at 600 s.
    times, free = np.array([0.0, 900.0, 1800.0]), np.array([0.35, 0.2, 0.2])
    policy = SharingPolicy.from_dict({"min_free_fraction": 0.3, "min_duration_s": 600})
    [window] = policy.idle_windows(times, free, 1.0)
    assert (window.start, window.end) == (0.0, 900.0)
    assert SharingPolicy.from_dict({"min_free_fraction": 0.3}).idle_windows(times, free, 1.0) == []
    assert SharingPolicy.from_dict({"min_duration_s": 600}).idle_windows(times, free, 1.0) == []


def test_the_offer_rules_search_every_whole_day_in_the_lookback() -> None:
    policy = SharingPolicy.from_dict({"reserve_fraction": 0.25, "min_quantity": 3})
    day = 86400.0
    # The same 08:00-10:00 window on days 0-8, data throughout: a lookback of 7.5 days sees
    # the 7 earlier slots of the latest window, n = 8, all hits: (8 + 1) / (8 + 2).
    windows = np.array([[d * day + 8 * 3600, d * day + 10 * 3600, 4.0] for d in range(9)])
    offers = policy.seasonal_naive_offers(windows, np.array([[0.0, 9 * day]]), 9 * day,
                                          lookback_s=7.5 * day)
    np.testing.assert_allclose(offers, [[9 * day + 8 * 3600, 9 * day + 10 * 3600, 3.0, 0.9]])
    # 1.5 days: one earlier slot, (2 + 1) / (2 + 2).
    one = policy.seasonal_naive_offers(windows, np.array([[0.0, 9 * day]]), 9 * day,
                                       lookback_s=1.5 * day)
    assert one[0, 3] == 0.75


@pytest.mark.parametrize(
    ("key", "value"),
    [("visibility", "everyone"), ("blackout_hours", [24]), ("blackout_hours", "night"),
     ("capabilities", "cold"), ("capabilities", [""]), ("lead_time_s", -1),
     ("min_window_s", -60), ("reserve_fraction", 1.0), ("hysteresis", 0.9),
     ("price_per_unit_hour", -1)],
)
def test_a_value_out_of_range_is_refused_naming_the_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=key):
        SharingPolicy.from_dict({key: value})


def test_strict_validation_refuses_an_unknown_key_by_name() -> None:
    with pytest.raises(ConfigError, match="colour"):
        SharingPolicy.from_dict({"colour": "red"}, strict=True)


def test_every_policy_key_round_trips_through_a_dict() -> None:
    given = {"reserve_fraction": 0.2, "min_window_s": 7200, "lead_time_s": 3600,
             "blackout_hours": [23, 0, 1], "price_per_unit_hour": 0.5, "visibility": "group",
             "capabilities": ["cold", "forklift"], "hysteresis": 0.1}
    policy = SharingPolicy.from_dict(given, strict=True)
    assert policy.blackout_hours == (0, 1, 23) and policy.capabilities == ("cold", "forklift")
    assert SharingPolicy.from_dict(policy.to_dict(), strict=True) == policy

