"""The sharing policy and its mapping to the estimators."""

from __future__ import annotations

import pytest

from analytics.policy import SharingPolicy
from idleshare.errors import ConfigError
from storage.catalog import DEFAULT_POLICY


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


def test_the_policy_sets_the_detector_thresholds() -> None:
    detector = SharingPolicy.from_dict({"min_free_fraction": 0.3, "min_duration_s": 600}).detector()
    assert (detector.min_free_fraction, detector.min_duration_s) == (0.3, 600.0)


def test_the_offer_builder_searches_every_whole_day_in_the_lookback() -> None:
    policy = SharingPolicy.from_dict({"reserve_fraction": 0.25, "min_quantity": 3})
    builder = policy.offer_builder(lookback_s=7.5 * 86400)
    assert builder.lookback_periods == 7
    assert (builder.reserve_fraction, builder.min_quantity) == (0.25, 3.0)


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
    assert policy.detector().hysteresis == 0.1
    assert policy.offer_builder(86400).lead_time_s == 3600.0
