"""By-product offers from a container's fill readings (both catalog engines): the window and
quantity the forecast and policy give, one offer per fill cycle, a booking reducing what the
next pass offers, an emptying ending the cycle's offer, no offer without a declared material."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from analytics.byproduct_offers import FULL_SHARE, METHOD, publish_container
from analytics.fill import HOUR
from analytics.policy import SharingPolicy
from analytics.runner import run_once
from idleshare.assets import Asset
from idleshare.materials import Material
from market import assets, bookings
from market.caller import Caller
from market.offers import offer_json
from storage.catalog import AssetRow, Catalog, OfferRow
from storage.readings import Reading
from tests.stores import MemoryStore

TENANT, ASSET, CAPACITY = "borealis", "cont-1", 30.0
STEP = 900.0
T0 = 1_717_200_000.0
RATE = 0.5  # m3 per hour
SAWDUST = Material("03 01 05", "sawdust, untreated timber", density_t_per_m3=0.2)
POLICY = {"reserve_fraction": 0.0, "min_free_fraction": 0.5, "min_quantity": 1.0,
          "visibility": "public"}


def fill_store(hours: float, start: float = T0, level0: float = 0.0,
               store: MemoryStore | None = None) -> MemoryStore:
    """A container filling at RATE from ``level0``, a reading every 15 minutes, no noise."""
    store = store or MemoryStore()
    times = start + np.arange(0.0, hours * HOUR + 1, STEP)
    store.write([Reading(TENANT, ASSET, "fill", float(t), level0 + RATE * (t - start) / HOUR)
                 for t in times])
    return store


def container(catalog: Catalog, policy: dict[str, Any] | None = None,
              material: Material | None = SAWDUST) -> AssetRow:
    catalog.upsert_asset(Asset(id=ASSET, tenant=TENANT, kind="container", capacity=CAPACITY,
                               unit="m3", lat=51.43, lon=6.76))
    with catalog.session() as s:
        row = s.get(AssetRow, (TENANT, ASSET))
        assert row is not None
        row.policy = POLICY if policy is None else policy
    if material is not None:
        assets.declare_material(catalog, TENANT, ASSET, material)
    row = catalog.asset(TENANT, ASSET)
    assert row is not None
    return row


def live(catalog: Catalog) -> list[OfferRow]:
    with catalog.session() as s:
        rows = list(s.scalars(select(OfferRow).where(OfferRow.status == "live")))
        s.expunge_all()
        return rows


def test_the_offer_is_the_material_from_worth_collecting_to_full(catalog: Catalog) -> None:
    store = fill_store(hours=10.0)  # 5 m3 after 10 h
    row = container(catalog)
    now = T0 + 10 * HOUR
    publish_container(catalog, store, row, SharingPolicy.from_dict(POLICY), now)
    [offer] = live(catalog)
    # Worth collecting at 50 % (15 m3) after 30 h, full at 90 % (27 m3) after 54 h.
    assert offer.start == pytest.approx(T0 + 30 * HOUR)
    assert offer.end == pytest.approx(T0 + FULL_SHARE * CAPACITY / RATE * HOUR)
    assert offer.quantity == pytest.approx(15.0, abs=0.001)  # no noise: lower = fitted
    assert offer.quantity <= 15.0  # never more than will be there
    assert (offer.kind, offer.unit, offer.method, offer.eural) == ("container", "m3", METHOD,
                                                                   "030105")
    shown = offer_json(offer, 0.0)["material"]
    assert shown == {"code": "03 01 05", "description": "sawdust, untreated timber",
                     "hazardous": False, "density_t_per_m3": 0.2, "emptied_at": None}


def test_a_container_past_worth_collecting_is_offered_from_now_with_the_reserve(
        catalog: Catalog) -> None:
    store = fill_store(hours=40.0)  # 20 m3
    row = container(catalog, dict(POLICY, reserve_fraction=0.1))
    now = T0 + 40 * HOUR
    publish_container(catalog, store, row, SharingPolicy.from_dict(row.policy), now)
    [offer] = live(catalog)
    assert offer.start == now
    assert offer.quantity == pytest.approx(18.0, abs=0.001)  # 20 m3 less 10 %


def test_no_material_declared_no_offer_and_withdrawing_it_withdraws_the_offer(
        catalog: Catalog) -> None:
    store = fill_store(hours=40.0)
    row = container(catalog, material=None)
    now = T0 + 40 * HOUR
    policy = SharingPolicy.from_dict(POLICY)
    assert publish_container(catalog, store, row, policy, now).created == 0
    assets.declare_material(catalog, TENANT, ASSET, SAWDUST)
    row = catalog.asset(TENANT, ASSET)
    assert row is not None
    assert publish_container(catalog, store, row, policy, now).created == 1
    assets.declare_material(catalog, TENANT, ASSET, None)
    row = catalog.asset(TENANT, ASSET)
    assert row is not None
    assert publish_container(catalog, store, row, policy, now + 600).withdrawn == 1
    assert live(catalog) == []


def test_a_booking_reduces_what_the_next_pass_offers_and_an_emptying_ends_the_offer(
        catalog: Catalog) -> None:
    store = fill_store(hours=40.0)
    row = container(catalog)
    policy = SharingPolicy.from_dict(POLICY)
    now = T0 + 40 * HOUR
    publish_container(catalog, store, row, policy, now)
    [offer] = live(catalog)
    collector = Caller("collector", "platform")
    held = bookings.hold(catalog, collector, offer.id, 12.0, 600.0, now)
    bookings.confirm(catalog, collector, held.id, now)

    fill_store(hours=2.0, start=now + STEP, level0=20.0 + RATE * STEP / HOUR, store=store)
    later = now + 2 * HOUR
    publish_container(catalog, store, row, policy, later)
    [same] = live(catalog)
    assert same.id == offer.id and same.start == offer.start  # open: its start stays
    with catalog.session() as s:
        available = offer_json(s.get(OfferRow, same.id), 12.0)["available"]
    assert available == pytest.approx(same.quantity - 12.0)
    assert same.quantity >= 12.0

    emptied = later + STEP  # collected: the fill starts again from nothing
    fill_store(hours=3.0, start=emptied, level0=0.0, store=store)
    publish_container(catalog, store, row, policy, emptied + 3 * HOUR)
    with catalog.session() as s:
        assert s.get(OfferRow, offer.id).status == "withdrawn"  # type: ignore[union-attr]
    [new] = live(catalog)
    assert new.material is not None and new.material["emptied_at"] == emptied
    assert new.start == pytest.approx(emptied + 30 * HOUR)


def test_the_analytics_pass_offers_containers_by_material_not_by_fill_windows(
        catalog: Catalog) -> None:
    store = fill_store(hours=40.0)
    container(catalog)
    now = T0 + 40 * HOUR
    report = run_once(catalog, store, now=now)
    assert report.errors == 0
    [offer] = live(catalog)
    assert offer.method == METHOD and offer.eural == "030105"
    run_once(catalog, store, now=now + 300)  # a second pass changes nothing meaningful
    assert [o.id for o in live(catalog)] == [offer.id]


def test_a_forecast_edge_moving_by_minutes_is_no_event_and_one_moving_by_hours_is(
        catalog: Catalog) -> None:
    from analytics.byproduct_offers import publish_byproduct
    from storage.catalog import OfferEventRow

    row = container(catalog)
    now = T0 + 10 * HOUR
    publish_container(catalog, fill_store(hours=10.0), row, SharingPolicy.from_dict(POLICY), now)
    [offer] = live(catalog)
    fields = {**offer_json_fields(offer), "start": offer.start + 120, "end": offer.end - 90}

    def events() -> list[str]:
        with catalog.session() as s:
            return [e.type for e in s.scalars(select(OfferEventRow).order_by(OfferEventRow.id))]

    with catalog.session() as s:  # the next pass's forecast: both edges a minute or two off
        publish_byproduct(s, row, fields, now + 60)
    assert events() == ["created"] and (live(catalog)[0].start, live(catalog)[0].end) == (
        offer.start, offer.end)
    with catalog.session() as s:  # a fill rate that changed: the full time two hours earlier
        publish_byproduct(s, row, {**fields, "end": offer.end - 2 * HOUR}, now + 120)
    assert events() == ["created", "updated"]
    assert (live(catalog)[0].start, live(catalog)[0].end) == (offer.start, offer.end - 2 * HOUR)


def offer_json_fields(offer: OfferRow) -> dict[str, Any]:
    """The fields :func:`analytics.byproduct_offers.offered` gives, as ``offer`` holds them."""
    names = ("kind", "unit", "lat", "lon", "start", "end", "quantity", "confidence", "method",
             "price_per_unit_hour", "currency", "visibility", "capabilities", "material",
             "eural")
    return {n: getattr(offer, n) for n in names}
