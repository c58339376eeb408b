"""Leg offers from a simulated truck's readings: the policy applied to each upcoming leg, and a
booking on a leg reducing that run's offer on the next pass."""

from __future__ import annotations

from sqlalchemy import select

from analytics.leg_offers import METHOD, leg_forecasts, publish_vehicle
from analytics.policy import SharingPolicy
from edge_agent.sources.truck_sim import TruckSim
from idleshare.assets import Asset
from market import bookings, offers
from market.caller import Caller
from market.offers import offer_json
from storage.catalog import AssetRow, Catalog, OfferRow
from storage.readings import Reading
from tests.analytics.freight import MONDAY, TIMEZONE, WEEK_S, known_plans
from tests.stores import MemoryStore

TENANT = "acme"
POLICY = {"reserve_fraction": 0.2, "capabilities": ["tail_lift"], "price_per_tonne": 12.5,
          "timezone": TIMEZONE, "min_quantity": 1.0}
NOW = MONDAY + 3 * WEEK_S  # Monday 00:00 Berlin after three weeks of trips


def truck_store(truck: str = "truck-a") -> MemoryStore:
    plan = next(p for p in known_plans() if p.truck_id == truck)
    store = MemoryStore()
    rows = TruckSim(plan).readings(MONDAY, NOW)
    store.write([Reading(TENANT, truck, m, r[0], r[1 + i]) for r in rows
                 for i, m in enumerate(("lat", "lon", "in_use", "load"))])
    return store


def add_truck(catalog: Catalog, truck: str = "truck-a") -> AssetRow:
    catalog.upsert_asset(Asset(id=truck, tenant=TENANT, kind="vehicle", capacity=24.0, unit="t",
                               lat=51.44, lon=6.75))
    with catalog.session() as s:
        row = s.get(AssetRow, (TENANT, truck))
        assert row is not None
        row.policy = POLICY
    with catalog.session() as s:
        row = s.get(AssetRow, (TENANT, truck))
        assert row is not None
        s.expunge(row)
        return row


def live_legs(catalog: Catalog) -> list[OfferRow]:
    with catalog.session() as s:
        rows = list(s.scalars(select(OfferRow).where(
            OfferRow.status == "live", OfferRow.dest_lat.is_not(None)).order_by(OfferRow.start)))
        s.expunge_all()
        return rows


def test_each_upcoming_leg_is_offered_with_the_policy_applied(catalog: Catalog) -> None:
    store, asset = truck_store(), add_truck(catalog)
    policy = SharingPolicy.from_dict(POLICY)
    forecasts = leg_forecasts(store, asset, policy, NOW)
    # truck-a: Duisburg -> Rotterdam and back on every weekday: 10 runs in the next week.
    assert len(forecasts) == 10
    counts = publish_vehicle(catalog, store, asset, policy, NOW)
    offers = live_legs(catalog)
    expected = [f for f in forecasts if int(f.free_t_lower * 0.8 * 1000) / 1000 >= 1.0]
    assert counts.created == len(offers) == len(expected) > 0
    for o, f in zip(offers, sorted(expected, key=lambda f: f.departure_earliest), strict=True):
        assert o.quantity == int(f.free_t_lower * 0.8 * 1000 + 1e-6) / 1000
        assert (o.start, o.end) == (f.departure_earliest, f.departure_latest)
        assert (o.lat, o.lon, o.dest_lat, o.dest_lon) == (
            f.origin.lat, f.origin.lon, f.destination.lat, f.destination.lon)
        assert o.method == METHOD and o.unit == "t" and o.capabilities == ["tail_lift"]
        leg = offer_json(o, 0.0)["leg"]
        assert leg["price_per_tonne"] == 12.5 and leg["leg_id"] == f.leg_id
        assert leg["origin"]["radius_km"] == f.origin.radius_km
    # Published again with nothing new: no churn.
    again = publish_vehicle(catalog, store, asset, policy, NOW + 60)
    assert (again.created, again.updated, again.withdrawn) == (0, 0, 0)


def test_a_booking_on_a_leg_reduces_that_runs_offer_on_the_next_pass(catalog: Catalog) -> None:
    store, asset = truck_store(), add_truck(catalog)
    policy = SharingPolicy.from_dict(POLICY)
    publish_vehicle(catalog, store, asset, policy, NOW)
    first = live_legs(catalog)[0]
    platform = Caller("freightco", "platform")
    catalog.ensure_tenant("freightco")
    booked = bookings.hold(catalog, platform, first.id, 1.0, 3600.0, NOW)
    bookings.confirm(catalog, platform, booked.id, NOW)
    assert offers.read(catalog, platform, first.id)["available"] == first.quantity - 1.0
    # The next pass forecasts the same free quantity for that run: the offer keeps its id and
    # quantity, and what is left to book is that quantity less the booking.
    publish_vehicle(catalog, store, asset, policy, NOW + 3600)
    after = {o.id: o for o in live_legs(catalog)}
    assert after[first.id].quantity == first.quantity
    seen = offers.read(catalog, platform, first.id)
    assert seen["available"] == first.quantity - 1.0 and seen["leg"] is not None


def test_a_leg_offer_in_load_board_shape(catalog: Catalog) -> None:
    store, asset = truck_store(), add_truck(catalog)
    publish_vehicle(catalog, store, asset, SharingPolicy.from_dict(POLICY), NOW)
    first = live_legs(catalog)[0]
    platform = Caller("freightco", "platform")
    seen = offers.read(catalog, platform, first.id)
    board = offers.loadboard_json(seen)
    assert board["pickup_window"] == {"earliest": seen["start"], "latest": seen["end"]}
    assert board["origin"] == seen["leg"]["origin"]
    assert board["destination"]["lat"] == first.dest_lat
    assert (board["equipment"], board["weight_t"], board["rate_per_tonne"]) == (
        ["tail_lift"], first.quantity, 12.5)


def test_a_booking_on_a_withdrawn_leg_offer_still_reduces_that_runs_next_offer(
        catalog: Catalog) -> None:
    store, asset = truck_store(), add_truck(catalog)
    policy = SharingPolicy.from_dict(POLICY)
    publish_vehicle(catalog, store, asset, policy, NOW)
    live = live_legs(catalog)
    first = max(live, key=lambda o: o.quantity)  # more than min_quantity is left after 1.5 t
    rest = [o for o in live if o.id != first.id]
    assert first.quantity - 1.5 >= POLICY["min_quantity"]
    platform = Caller("freightco", "platform")
    catalog.ensure_tenant("freightco")
    booked = bookings.hold(catalog, platform, first.id, 1.5, 3600.0, NOW)
    bookings.confirm(catalog, platform, booked.id, NOW)
    offers.withdraw(catalog, Caller(TENANT, "owner"), first.id, NOW)
    # The next pass offers the run again, less what the booking on the withdrawn offer holds.
    publish_vehicle(catalog, store, asset, policy, NOW + 3600)
    again = [o for o in live_legs(catalog) if (o.leg or {})["leg_id"] == first.leg["leg_id"]
             and o.start == first.start]
    assert [o.quantity for o in again] == [round(first.quantity - 1.5, 3)]
    assert again[0].id != first.id
    # The other runs carry no booking and keep their offers as they were.
    assert [(o.id, o.quantity) for o in live_legs(catalog) if o.id != again[0].id] == [
        (o.id, o.quantity) for o in rest]
