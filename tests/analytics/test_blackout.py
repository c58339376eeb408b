"""Blackout hours are wall-clock hours of the site's time zone, across daylight-saving changes,
and no offer of either method reaches into one."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from analytics.blackout import blackout_intervals, blocked, cut_offers
from analytics.forecast_offers import hourly_offered, offers_from_forecast
from analytics.pipeline import analyse
from analytics.policy import SharingPolicy
from idleshare.errors import ConfigError

H = 3600.0


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_a_local_hour_moves_in_utc_with_daylight_saving_time() -> None:
    winter = blackout_intervals((7,), "Europe/Berlin", utc("2026-01-15"), utc("2026-01-16"))
    summer = blackout_intervals((7,), "Europe/Berlin", utc("2026-07-15"), utc("2026-07-16"))
    assert winter.tolist() == [[utc("2026-01-15T06:00"), utc("2026-01-15T07:00")]]
    assert summer.tolist() == [[utc("2026-07-15T05:00"), utc("2026-07-15T06:00")]]


def test_the_hour_repeated_when_clocks_go_back_is_blacked_out_both_times() -> None:
    # 2026-10-25 in Berlin: 02:00-03:00 CEST (00:00 UTC), then 02:00-03:00 CET (01:00 UTC).
    spans = blackout_intervals((2,), "Europe/Berlin", utc("2026-10-24T22:00"),
                               utc("2026-10-25T04:00"))
    assert spans.tolist() == [[utc("2026-10-25T00:00"), utc("2026-10-25T02:00")]]


def test_a_half_hour_offset_blocks_both_utc_hours_it_touches() -> None:
    # Kolkata is UTC+5:30: 10:00-11:00 local is 04:30-05:30 UTC.
    starts = utc("2026-03-02") + H * np.arange(24)
    assert np.flatnonzero(blocked(starts, H, (10,), "Asia/Kolkata")).tolist() == [4, 5]


def test_forecast_offers_skip_the_local_blackout_hours() -> None:
    t0 = utc("2026-07-15")
    policy = SharingPolicy.from_dict({"reserve_fraction": 0.0, "blackout_hours": [12],
                                      "timezone": "Europe/Berlin"})
    hours = hourly_offered(offers_from_forecast(np.full(24, 50.0), t0, 100.0, policy, t0),
                           t0, 24)
    assert np.flatnonzero(hours == 0).tolist() == [10]  # 12:00 CEST is 10:00 UTC


def test_a_seasonal_naive_offer_across_a_blackout_is_split_and_short_pieces_dropped() -> None:
    day = utc("2026-01-15")
    offers = np.array([[day + 5.5 * H, day + 12 * H, 8.0, 0.9]])
    cut = cut_offers(offers, (7, 8), "Europe/Berlin", min_window_s=H)
    # Berlin 07:00-09:00 is 06:00-08:00 UTC; 05:30-06:00 is too short to offer.
    assert cut.tolist() == [[day + 8 * H, day + 12 * H, 8.0, 0.9]]


def test_analysis_of_short_histories_offers_nothing_in_blackout_hours() -> None:
    # Two days of a zone idle every day from 00:00 to 18:00 UTC, full otherwise.
    start = utc("2026-01-12")
    times = start + 600.0 * np.arange(2 * 144)
    occupied = np.where((times - start) % 86400 < 18 * H, 0.0, 100.0)
    policy = SharingPolicy.from_dict({"blackout_hours": [9, 10], "timezone": "Europe/Berlin"})
    analysis = analyse(list(zip(times, occupied, strict=True)), "warehouse_zone", 100.0,
                       policy, now=start + 2 * 86400, lookback_s=2 * 86400)
    assert len(analysis.offers) >= 2
    next_day = start + 2 * 86400
    black = (next_day + 8 * H, next_day + 10 * H)  # 09:00-11:00 CET
    for s, e, *_ in analysis.offers:
        assert e <= black[0] or s >= black[1]
    without = analyse(list(zip(times, occupied, strict=True)), "warehouse_zone", 100.0,
                      SharingPolicy.from_dict({}), now=next_day, lookback_s=2 * 86400)
    assert any(s < black[1] and e > black[0] for s, e, *_ in without.offers)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", 5])
def test_an_unknown_time_zone_is_refused_by_name(zone: object) -> None:
    with pytest.raises(ConfigError, match="timezone"):
        SharingPolicy.from_dict({"timezone": zone})
