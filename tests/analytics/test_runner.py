"""The runner end to end: readings in a store, windows and offers in an in-memory catalog."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from analytics.runner import run_forever, run_once
from idleshare.assets import Asset
from idleshare.errors import ConfigError, StoreError
from storage.catalog import AssetRow, Catalog, IdleWindowRow, OfferRow
from storage.readings import Reading, ReadingStore
from storage.sqlite import SqliteReadingStore
from tests.analytics import datasets
from tests.stores import MemoryStore

H, D = 3600.0, 86400.0
T0 = 1_700_006_400.0  # a UTC midnight
TENANT, BAY = "acme", "bay-1"


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReadingStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    real = SqliteReadingStore(tmp_path / "readings.db")
    yield real
    real.close()


@pytest.fixture
def catalog(catalog: Catalog) -> Catalog:
    catalog.upsert_asset(Asset(id=BAY, tenant=TENANT, kind="warehouse_zone", capacity=100.0,
                               unit="pallet", lat=52.5, lon=13.4))
    set_policy(catalog, BAY, {"price_per_unit_hour": 0.25, "currency": "CHF",
                              "visibility": "partners"})
    return catalog


def set_policy(catalog: Catalog, asset: str, policy: dict[str, object]) -> None:
    with catalog.session() as s:
        row = s.get(AssetRow, (TENANT, asset))
        assert row is not None
        row.policy = policy


def occupancy(store: ReadingStore, start_h: float, end_h: float, occupied: float,
              asset: str = BAY) -> None:
    """Readings every 30 min in [T0 + start_h, T0 + end_h)."""
    hours = np.arange(start_h, end_h, 0.5)
    store.write([Reading(TENANT, asset, "occupied", T0 + h * H, occupied) for h in hours])


def day_idle_8_to_12(store: ReadingStore, day: int) -> None:
    base = 24 * day
    occupancy(store, base, base + 8, 90.0)
    occupancy(store, base + 8, base + 12, 20.0)  # 80 of 100 pallets free
    occupancy(store, base + 12, base + 24, 90.0)


def offers(catalog: Catalog, status: str | None = None) -> list[OfferRow]:
    with catalog.session() as s:
        q = select(OfferRow).order_by(OfferRow.id)
        if status is not None:
            q = q.where(OfferRow.status == status)
        return list(s.scalars(q).all())


def window_count(catalog: Catalog) -> int:
    with catalog.session() as s:
        return len(s.scalars(select(IdleWindowRow)).all())


def test_a_run_stores_windows_and_an_offer_listed_from_the_asset(
    catalog: Catalog, store: ReadingStore
) -> None:
    day_idle_8_to_12(store, 0)
    day_idle_8_to_12(store, 1)
    report = run_once(catalog, store, now=T0 + 2 * D)

    assert (report.assets, report.windows, report.offers_created, report.offers_withdrawn,
            report.errors) == (1, 2, 1, 0, 0)
    with catalog.session() as s:
        stored = s.scalars(select(IdleWindowRow).order_by(IdleWindowRow.start)).all()
        assert [(w.start, w.end, w.min_free, w.ongoing) for w in stored] == [
            (T0 + 8 * H, T0 + 12 * H, 80.0, False),
            (T0 + D + 8 * H, T0 + D + 12 * H, 80.0, False),
        ]
    [offer] = offers(catalog)
    # Both days land on day 2, 08:00-12:00; the latest has one idle day before it: 3/4.
    assert (offer.start, offer.end) == (T0 + 2 * D + 8 * H, T0 + 2 * D + 12 * H)
    assert offer.quantity == 72.0 and offer.confidence == pytest.approx(0.75)
    assert (offer.kind, offer.unit, offer.lat, offer.lon) == ("warehouse_zone", "pallet",
                                                              52.5, 13.4)
    assert (offer.price_per_unit_hour, offer.currency, offer.visibility) == (0.25, "CHF",
                                                                              "partners")
    assert (offer.status, offer.created_at, offer.updated_at) == ("live", T0 + 2 * D,
                                                                  T0 + 2 * D)


def test_a_run_reports_fleet_kpis_per_kind_over_the_lookback(
    catalog: Catalog, store: ReadingStore
) -> None:
    # Two days of 90 % occupied except 08:00-12:00 at 20 %, readings to 23:30 of day 1: the
    # last reading holds no time, so the 7-day lookback has 47.5 h of data.
    day_idle_8_to_12(store, 0)
    day_idle_8_to_12(store, 1)
    report = run_once(catalog, store, now=T0 + 2 * D)
    zones = report.kpis["warehouse_zone"]
    assert (zones.assets, zones.seconds_with_data) == (1, 47.5 * H)
    assert zones.utilisation == pytest.approx((8 * 0.2 + 39.5 * 0.9) / 47.5)
    assert np.isnan(zones.availability)


def test_a_second_run_keeps_unchanged_offers_and_replaces_windows(
    catalog: Catalog, store: ReadingStore
) -> None:
    day_idle_8_to_12(store, 0)
    run_once(catalog, store, now=T0 + 13 * H)
    occupancy(store, 24, 30, 90.0)  # day 1 starts busy, as before the slot
    report = run_once(catalog, store, now=T0 + D + 6 * H)

    assert (report.offers_created, report.offers_withdrawn) == (0, 0)
    [offer] = offers(catalog)
    assert offer.status == "live" and offer.updated_at == T0 + 13 * H
    assert window_count(catalog) == 1


def test_an_offer_is_withdrawn_when_rewritten_readings_show_the_slot_busy(
    catalog: Catalog, store: ReadingStore
) -> None:
    day_idle_8_to_12(store, 0)
    run_once(catalog, store, now=T0 + 13 * H)
    [before] = offers(catalog, "live")
    occupancy(store, 8, 12, 90.0)  # the agent re-sends corrected readings for the same times
    report = run_once(catalog, store, now=T0 + 14 * H)

    assert (report.windows, report.offers_created, report.offers_withdrawn) == (0, 0, 1)
    [after] = offers(catalog)
    assert (after.id, after.status, after.updated_at) == (before.id, "withdrawn", T0 + 14 * H)
    assert window_count(catalog) == 0


def test_a_growing_ongoing_window_updates_its_offer_in_place(
    catalog: Catalog, store: ReadingStore
) -> None:
    occupancy(store, 0, 8, 90.0)
    occupancy(store, 8, 10, 20.0)  # idle from 08:00, last reading 09:30
    run_once(catalog, store, now=T0 + 9.75 * H)
    [before] = offers(catalog, "live")
    occupancy(store, 10, 10.5, 20.0)
    occupancy(store, 10.5, 11, 90.0)  # busy again at 10:30
    report = run_once(catalog, store, now=T0 + 10.75 * H)

    # The same offer (a platform may be booking it by its id) now ends at 10:30, not 09:30.
    assert (report.offers_created, report.offers_withdrawn) == (0, 0)
    [after] = offers(catalog)
    assert after.id == before.id and after.status == "live"
    assert ((before.end - T0 - D) / H, (after.end - T0 - D) / H) == (9.5, 10.5)


def test_offers_that_have_started_are_left_alone(catalog: Catalog, store: ReadingStore) -> None:
    day_idle_8_to_12(store, 0)
    run_once(catalog, store, now=T0 + 13 * H)
    occupancy(store, 24, 34, 90.0)  # day 1 busy through its 08:00 slot
    report = run_once(catalog, store, now=T0 + D + 9 * H)

    assert (report.offers_created, report.offers_withdrawn) == (1, 0)
    assert [(o.start - T0) / D for o in offers(catalog, "live")] == [
        pytest.approx(1 + 8 / 24), pytest.approx(2 + 8 / 24)
    ]


def test_an_owner_policy_can_suppress_offers(catalog: Catalog, store: ReadingStore) -> None:
    set_policy(catalog, BAY, {"min_quantity": 100.0})
    day_idle_8_to_12(store, 0)
    report = run_once(catalog, store, now=T0 + D)
    assert (report.windows, report.offers_created) == (1, 0)


class FailingFor:
    """Wraps a store so that queries for one asset fail."""

    def __init__(self, inner: ReadingStore, asset: str, stop: threading.Event | None = None):
        self.inner, self.asset, self.stop = inner, asset, stop

    def query(self, tenant: str, asset: str, metric: str, start: float,
              end: float) -> list[tuple[float, float]]:
        if asset == self.asset:
            if self.stop is not None:
                self.stop.set()
            raise StoreError("readings backend is down")
        return self.inner.query(tenant, asset, metric, start, end)


def test_one_failing_asset_does_not_stop_the_others(
    catalog: Catalog, store: ReadingStore, caplog: pytest.LogCaptureFixture
) -> None:
    catalog.upsert_asset(Asset(id="a-broken", tenant=TENANT, kind="machine", capacity=1.0,
                               unit="machine"))
    day_idle_8_to_12(store, 0)
    report = run_once(catalog, FailingFor(store, "a-broken"), now=T0 + D)  # type: ignore[arg-type]

    assert (report.assets, report.errors, report.offers_created) == (1, 1, 1)
    assert "a-broken" in caplog.text


def test_run_forever_counts_errors_and_returns_when_stopped(catalog: Catalog) -> None:
    stop = threading.Event()
    errors = run_forever(catalog, FailingFor(MemoryStore(), BAY, stop), 0.01, stop)  # type: ignore[arg-type]
    assert errors == 1


def test_run_forever_refuses_a_non_positive_interval(catalog: Catalog) -> None:
    with pytest.raises(ConfigError, match="interval"):
        run_forever(catalog, MemoryStore(), 0.0, threading.Event())


def test_weeks_of_a_real_car_park_give_forecast_offers_in_its_opening_hours_only(
    catalog: Catalog,
) -> None:
    capacity, times, occupied = datasets.parking()["BHMBCCMKT01"]
    store = MemoryStore()
    catalog.upsert_asset(Asset(id="mkt", tenant=TENANT, kind="warehouse_zone",
                               capacity=capacity, unit="space"))
    store.write([Reading(TENANT, "mkt", "occupied", t, v) for t, v in zip(times, occupied,
                                                                          strict=True)])
    now = 1_480_550_400.0  # 2016-12-01 00:00 (read as UTC), a Thursday
    report = run_once(catalog, store, now=now)

    live = [o for o in offers(catalog) if o.asset_id == "mkt"]
    assert report.errors == 0 and report.windows >= 5 and live
    assert {o.method for o in live} == {"forecast_bound"}
    for o in live:
        # Readings run from just before 08:00 to 16:30, so offers do too.
        day = now + ((o.start - now) // D) * D
        assert day + 7 * H <= o.start < o.end <= day + 17 * H
        assert now < o.start and o.end <= now + 7 * D
        assert 0 < o.quantity <= 0.9 * capacity and o.quantity == round(o.quantity, 3)
        assert o.confidence == 0.9


def test_a_booked_offer_shrinks_with_rising_usage_but_not_below_its_booking(
    catalog: Catalog, store: ReadingStore,
) -> None:
    from storage.catalog import BookingRow, OfferEventRow

    for day in range(2):  # idle 02:00-06:00 every night, 80 of 100 pallets free
        occupancy(store, day * 24, day * 24 + 2, 90.0)
        occupancy(store, day * 24 + 2, day * 24 + 6, 20.0)
        occupancy(store, day * 24 + 6, day * 24 + 24, 90.0)
    occupancy(store, 48, 50, 90.0)
    occupancy(store, 50, 52, 20.0)
    # 04:00 on the third night: the ongoing window gives tomorrow's 02:00-03:30 offer.
    run_once(catalog, store, now=T0 + 52 * H)
    first = offers(catalog, "live")
    assert [(o.start, o.end, o.quantity) for o in first] == [(T0 + 74 * H, T0 + 75.5 * H, 72.0)]
    with catalog.session() as s:
        s.add(BookingRow(offer_id=first[0].id, tenant_id="guest", owner_tenant_id=TENANT,
                         asset_id=BAY, quantity=30.0, start=first[0].start, end=first[0].end,
                         status="confirmed"))
    # The rest of the night is busier: 55 free. The booked offer shrinks to what is still
    # free (49.5 after the reserve), and no new offer promises the same time again.
    occupancy(store, 52, 54, 45.0)
    occupancy(store, 54, 56, 90.0)
    run_once(catalog, store, now=T0 + 56 * H)
    live = offers(catalog, "live")
    assert [(o.id, o.quantity) for o in live] == [(first[0].id, 49.5)]
    with catalog.session() as s:
        kinds = [e.type for e in s.scalars(select(OfferEventRow).order_by(OfferEventRow.id))]
    assert kinds == ["created", "updated"]


def test_a_booking_leaves_less_for_the_next_offers_of_that_asset(
    catalog: Catalog, store: ReadingStore,
) -> None:
    from storage.catalog import BookingRow

    for day in range(3):
        occupancy(store, day * 24, day * 24 + 2, 90.0)
        occupancy(store, day * 24 + 2, day * 24 + 6, 20.0)
        occupancy(store, day * 24 + 6, day * 24 + 24, 90.0)
    run_once(catalog, store, now=T0 + 72 * H)
    offer = offers(catalog, "live")[0]
    # Another platform booked part of tomorrow night; its own offer has since gone.
    with catalog.session() as s:
        s.add(BookingRow(offer_id=offer.id, tenant_id="guest", owner_tenant_id=TENANT,
                         asset_id=BAY, quantity=30.0, start=offer.start, end=offer.end,
                         status="confirmed"))
        s.get(OfferRow, offer.id).status = "withdrawn"
    run_once(catalog, store, now=T0 + 72 * H + 60)
    assert [o.quantity for o in offers(catalog, "live")] == [42.0]  # 72 less the 30 booked
