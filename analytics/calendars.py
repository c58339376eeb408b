"""The owner's planned use (maintenance, own shifts, holidays) from iCalendar: never offered.

Definitions (also in docs/analytics.md)
    The policy key ``planned_use`` is a list of *sources*: inline iCalendar text (starting
    ``BEGIN:VCALENDAR``) or ``https://`` feed URLs. Every event of every source, with its
    recurrences expanded (RRULE, RDATE, EXDATE, moved occurrences; ``recurring-ical-events``)
    in the event's own time zone, so a weekly 09:00 slot stays at 09:00 local time across a
    daylight-saving change, is *planned use* over ``[DTSTART, DTEND)``. A date-only event
    covers whole UTC days; an event without an end covers one day (date) or nothing (time).
    Events marked ``TRANSP:TRANSPARENT`` or ``STATUS:CANCELLED`` are not planned use.

    Offers never overlap planned use (forecast hours touching it offer nothing; seasonal-naive
    offers are cut around it) and planned use is not idle (idle windows are cut around it).

    A feed is fetched with a timeout through a fetcher the service installs
    (:func:`set_feed_fetcher`), since analytics holds no outbound-network policy of its own,
    and cached for :data:`FEED_TTL_S`. A feed that cannot be read and has never been read
    blocks the whole period asked for: unknown plans are not offered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import recurring_ical_events
from icalendar import Calendar

from analytics.series import merge_intervals

log = logging.getLogger(__name__)

#: How long a fetched feed is used before it is fetched again, seconds.
FEED_TTL_S = 3600.0
#: Time allowed for one feed request, seconds.
FEED_TIMEOUT_S = 5.0
#: Largest feed read, bytes.
FEED_MAX_BYTES = 2_000_000

#: ``(url, timeout_s, max_bytes) -> body``; raises on any failure.
FeedFetcher = Callable[[str, float, int], bytes]


def _no_fetcher(url: str, timeout_s: float, max_bytes: int) -> bytes:
    raise RuntimeError("no feed fetcher installed (analytics.calendars.set_feed_fetcher)")


_fetcher: FeedFetcher = _no_fetcher
_feeds: dict[str, tuple[float, bytes]] = {}


def set_feed_fetcher(fetcher: FeedFetcher | None) -> None:
    """Install how feed URLs are fetched (the service's outbound policy), or none."""
    global _fetcher
    _fetcher = fetcher or _no_fetcher
    _feeds.clear()


def is_inline(source: str) -> bool:
    return source.lstrip().upper().startswith("BEGIN:VCALENDAR")


def check_source(source: object) -> str | None:
    """Why ``source`` is no valid ``planned_use`` entry, or None if it is."""
    if not isinstance(source, str) or not source.strip():
        return "must be iCalendar text or an https:// URL"
    if is_inline(source):
        try:
            _parse(source)
        except ValueError as err:
            return f"is not valid iCalendar text ({err})"
        return None
    if not source.startswith("https://"):
        return "must be iCalendar text or an https:// URL"
    return None


@lru_cache(maxsize=256)
def _parse(text: str) -> Calendar:
    try:
        return Calendar.from_ical(text)
    except Exception as err:  # icalendar raises ValueError and others on bad input
        raise ValueError(str(err).splitlines()[0] if str(err) else type(err).__name__) from err


def _feed(url: str, now: float) -> str | None:
    cached = _feeds.get(url)
    if cached is not None and now - cached[0] < FEED_TTL_S:
        return cached[1].decode("utf-8", "replace")
    try:
        body = _fetcher(url, FEED_TIMEOUT_S, FEED_MAX_BYTES)
    except Exception as err:
        log.warning("planned-use feed %s unreadable: %s", url, err)
        return cached[1].decode("utf-8", "replace") if cached else None
    _feeds[url] = (now, body)
    return body.decode("utf-8", "replace")


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    raise ValueError(f"not a date or time: {value!r}")


def _events(calendar: Calendar, start: float, end: float) -> list[tuple[float, float]]:
    since = datetime.fromtimestamp(start, UTC) - timedelta(days=1)  # events begun before
    until = datetime.fromtimestamp(end, UTC)
    out = []
    for event in recurring_ical_events.of(calendar).between(since, until):
        if str(event.get("TRANSP", "")).upper() == "TRANSPARENT" or \
                str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        begin = event.decoded("DTSTART")
        finish = event.decoded("DTEND") if "DTEND" in event else None
        if finish is None and "DURATION" in event:
            finish = begin + event.decoded("DURATION")
        if finish is None:
            finish = begin + timedelta(days=1) if not isinstance(begin, datetime) else begin
        a, b = _epoch(begin), _epoch(finish)
        if b > a and b > start and a < end:
            out.append((max(a, start), min(b, end)))
    return out


def planned_intervals(sources: Sequence[str], start: float, end: float,
                      now: float | None = None) -> np.ndarray:
    """Planned use within ``[start, end)`` as sorted, disjoint ``[start, end)`` rows."""
    if not sources or end <= start:
        return np.zeros((0, 2))
    now = time.time() if now is None else now
    spans: list[tuple[float, float]] = []
    for source in sources:
        text = source if is_inline(source) else _feed(source, now)
        if text is None:
            return np.array([[start, end]])  # unknown plans: nothing is offered
        try:
            spans += _events(_parse(text), start, end)
        except ValueError as err:
            log.warning("planned-use calendar unreadable: %s", err)
            return np.array([[start, end]])
    return merge_intervals(np.array(spans, dtype=float).reshape(-1, 2))


def hours_planned(intervals: np.ndarray, start: float, n_hours: int) -> np.ndarray:
    """Whether each hour ``[start + i h, start + (i+1) h)`` touches planned use."""
    a = start + 3600.0 * np.arange(n_hours)
    iv = np.asarray(intervals, dtype=float).reshape(-1, 2)
    if not iv.size:
        return np.zeros(n_hours, dtype=bool)
    touching = (iv[None, :, 0] < a[:, None] + 3600.0) & (iv[None, :, 1] > a[:, None])
    return np.asarray(touching.any(axis=1), dtype=bool)


def cut_out(rows: np.ndarray, intervals: np.ndarray, min_length_s: float = 0.0) -> np.ndarray:
    """Rows ``[start, end, ...]`` with the planned ``intervals`` cut out; pieces shorter than
    ``min_length_s`` dropped, the other columns copied onto every piece."""
    rows = np.asarray(rows, dtype=float)
    iv = np.asarray(intervals, dtype=float).reshape(-1, 2)
    if not iv.size or not rows.size:
        return rows
    out = []
    for row in rows:
        pieces = [(row[0], row[1])]
        for a, b in iv.tolist():
            pieces = [p for s, e in pieces
                      for p in ((s, min(e, a)), (max(s, b), e)) if p[1] > p[0]]
        out += [np.concatenate(([s, e], row[2:])) for s, e in pieces
                if e - s >= max(min_length_s, 1e-9)]
    return np.array(out, dtype=float).reshape(-1, rows.shape[1])
