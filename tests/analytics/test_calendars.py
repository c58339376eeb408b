"""The owner's planned use (iCalendar) is never offered and is not idle."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from analytics.calendars import planned_intervals, set_feed_fetcher
from analytics.forecast_offers import offers_from_forecast
from analytics.pipeline import analyse
from analytics.policy import SharingPolicy
from idleshare.errors import ConfigError

H = 3600.0
# Every Tuesday 09:00-12:00 in Berlin from 15 October 2024, except 29 October (the
# Tuesday after clocks went back on Sunday 27 October: 07:00 UTC before, 08:00 UTC after).
MAINTENANCE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//idleshare//test//EN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
DTSTART:19810329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
DTSTART:19961027T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:maintenance@test
DTSTAMP:20241001T000000Z
SUMMARY:Crane maintenance
DTSTART;TZID=Europe/Berlin:20241015T090000
DTEND;TZID=Europe/Berlin:20241015T120000
RRULE:FREQ=WEEKLY;BYDAY=TU
EXDATE;TZID=Europe/Berlin:20241029T090000
END:VEVENT
END:VCALENDAR
"""
POLICY = SharingPolicy.from_dict({"planned_use": [MAINTENANCE], "timezone": "Europe/Berlin"})


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


# 14 Oct to 11 Nov 2024: four Tuesdays, one excepted, across the change on 27 October.
START, HOURS = utc("2024-10-14T00:00"), 28 * 24
SLOTS = [(utc("2024-10-15T07:00"), utc("2024-10-15T10:00")),
         (utc("2024-10-22T07:00"), utc("2024-10-22T10:00")),
         (utc("2024-11-05T08:00"), utc("2024-11-05T11:00"))]
EXCEPTED = (utc("2024-10-29T08:00"), utc("2024-10-29T11:00"))


def overlaps(offers: np.ndarray, slot: tuple[float, float]) -> bool:
    return bool(np.any((offers[:, 0] < slot[1]) & (offers[:, 1] > slot[0])))


def test_the_weekly_slot_follows_local_time_across_daylight_saving_and_its_exception() -> None:
    planned = planned_intervals(POLICY.planned_use, START, START + HOURS * H)
    assert planned.tolist() == [list(s) for s in SLOTS]


def test_forecast_offers_never_overlap_planned_maintenance() -> None:
    # Free all the time, so only the calendar decides; one offer per day.
    lower = np.full(HOURS, 50.0)
    offers = offers_from_forecast(lower, START, 100.0, POLICY, now=START)
    assert not any(overlaps(offers, slot) for slot in SLOTS)
    assert overlaps(offers, EXCEPTED)  # the exception date is offered like any Tuesday
    assert offers[:, 1].max() == START + HOURS * H and len(offers) == 4


def test_seasonal_naive_offers_and_idle_windows_leave_planned_use_out() -> None:
    # A zone empty every day: yesterday's idle day, projected to today, minus maintenance.
    now = utc("2024-11-05T00:00")
    times = np.arange(now - 7 * 86400, now, 600.0)
    readings = np.column_stack([times, np.zeros(times.size)])
    result = analyse(readings, "warehouse_zone", 100.0, POLICY, now, lookback_s=7 * 86400)
    assert result.offers.size and not overlaps(result.offers, SLOTS[2])
    assert not any(w.start < SLOTS[1][1] and w.end > SLOTS[1][0] for w in result.windows)
    assert any(w.start <= EXCEPTED[0] and w.end >= EXCEPTED[1] for w in result.windows)


def test_a_feed_that_cannot_be_read_blocks_everything_and_a_read_one_is_cached() -> None:
    calls: list[str] = []

    def fetch(url: str, timeout_s: float, max_bytes: int) -> bytes:
        calls.append(url)
        assert timeout_s > 0 and max_bytes > 0
        return MAINTENANCE.encode()

    url = "https://owner.example/plans.ics"
    policy = SharingPolicy.from_dict({"planned_use": [url]})
    set_feed_fetcher(None)
    assert planned_intervals(policy.planned_use, START, START + H).tolist() == [[START, START + H]]
    try:
        set_feed_fetcher(fetch)
        for _ in range(3):
            assert planned_intervals(policy.planned_use, START, START + HOURS * H,
                                     now=START).tolist() == [list(s) for s in SLOTS]
        assert calls == [url]
    finally:
        set_feed_fetcher(None)


@pytest.mark.parametrize("bad", ["BEGIN:VCALENDAR\nnot ical", "http://plain.example/x.ics", 7,
                                 "file:///etc/passwd"])
def test_a_bad_planned_use_entry_is_refused_by_name(bad: object) -> None:
    with pytest.raises(ConfigError, match="planned_use"):
        SharingPolicy.from_dict({"planned_use": [bad]})
