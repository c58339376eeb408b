"""Impact accounting: known answers by hand from the factor table, which bookings count, and
whose bookings a caller's report reads (both catalog engines)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from market.caller import Caller
from market.impact import CAPACITY_HOURS, DIVERTED, FREIGHT, booking_impact, of_caller
from market.impact_factors import FACTORS, HGV_AVERAGE_LADEN_TKM
from storage.catalog import BookingRow, Catalog, OfferRow
from tests.api.conftest import add_asset

T0 = 1714521600.0  # 2024-05-01T00:00:00Z
HOUR = 3600.0
DOC = Path(__file__).parents[2] / "docs" / "impact.md"


def test_space_machines_and_equipment_share_capacity_hours_with_no_co2e() -> None:
    for kind, unit in (("warehouse_zone", "pallet"), ("machine", "machine"),
                       ("equipment", "unit")):
        b = booking_impact(kind, unit, 30.0, T0, T0 + 12 * HOUR)
        assert (b.basis, b.capacity_hours) == (CAPACITY_HOURS, 360.0)
        assert (b.kg_co2e_avoided, b.tonne_km, b.factors) == (None, None, ())


def test_a_vehicle_booking_on_a_leg_avoids_a_dedicated_lorrys_tonne_km() -> None:
    b = booking_impact("vehicle", "t", 12.0, T0, T0 + 5 * HOUR, leg_km=250.0)
    # By hand: 12 t x 250 km = 3000 tkm; x 0.14993 kg CO2e/tkm = 449.79 kg.
    assert (b.basis, b.tonne_km) == (FREIGHT, 3000.0)
    assert b.kg_co2e_avoided == pytest.approx(449.79)
    assert b.factors == (HGV_AVERAGE_LADEN_TKM.id,)
    # A payload in kg is converted; in pallets there is no mass, so no tonne-km and no CO2e.
    assert booking_impact("vehicle", "kg", 500.0, T0, T0 + HOUR, leg_km=100.0).tonne_km == 50.0
    pallets = booking_impact("vehicle", "pallet", 10.0, T0, T0 + HOUR, leg_km=100.0)
    assert (pallets.tonne_km, pallets.kg_co2e_avoided, pallets.factors) == (None, None, ())


def test_a_parked_vehicle_booking_without_a_leg_is_capacity_hours_only() -> None:
    b = booking_impact("vehicle", "t", 18.9, T0 + 18.25 * HOUR, T0 + 19.25 * HOUR)
    assert (b.basis, b.capacity_hours) == (CAPACITY_HOURS, pytest.approx(18.9))
    assert (b.tonne_km, b.kg_co2e_avoided) == (None, None)


def test_a_by_product_collection_diverts_its_tonnes_with_no_co2e() -> None:
    assert booking_impact("container", "t", 4.5, T0, T0 + HOUR).tonnes_diverted == 4.5
    assert booking_impact("container", "kg", 2000.0, T0, T0 + HOUR).tonnes_diverted == 2.0
    by_volume = booking_impact("container", "m3", 6.0, T0, T0 + HOUR)
    assert (by_volume.basis, by_volume.tonnes_diverted) == (DIVERTED, None)
    assert (by_volume.capacity_hours, by_volume.kg_co2e_avoided) == (None, None)


def test_every_factor_is_sourced_and_docs_impact_md_prints_the_same_table() -> None:
    doc = DOC.read_text()
    for f in FACTORS.values():
        assert f.source and f.url.startswith("https://") and 1990 < f.year < 2100
        row = next((line for line in doc.splitlines() if line.startswith(f"| `{f.id}` |")), "")
        assert row, f"docs/impact.md has no row for {f.id}"
        assert re.search(rf"\b{re.escape(repr(f.value))}\b", row), f"{f.id}: value differs"
        assert str(f.year) in row and f.url in row


def offer(catalog: Catalog, tenant: str, asset: str, kind: str, unit: str) -> int:
    add_asset(catalog, tenant, asset, kind=kind, unit=unit)
    with catalog.session() as s:
        row = OfferRow(tenant_id=tenant, asset_id=asset, kind=kind, quantity=100.0, unit=unit,
                       start=T0, end=T0 + 10 * HOUR, confidence=0.9)
        s.add(row)
        s.flush()
        return row.id


def booking(catalog: Catalog, offer_id: int, booker: str, quantity: float,
            status: str = "confirmed", start: float = T0, hours: float = 2.0) -> None:
    with catalog.session() as s:
        o = s.get(OfferRow, offer_id)
        assert o is not None
        s.add(BookingRow(offer_id=offer_id, tenant_id=booker, owner_tenant_id=o.tenant_id,
                         asset_id=o.asset_id, quantity=quantity, start=start,
                         end=start + hours * HOUR, status=status,
                         hold_expires_at=4e9))  # a hold still live: counted by no report


@pytest.fixture
def world(catalog: Catalog) -> Catalog:
    """acme's zone and container booked by platform 'market'; globex's zone booked by 'market'
    and by 'rival'; bookings in every state."""
    zone = offer(catalog, "acme", "zone", "warehouse_zone", "pallet")
    bin_ = offer(catalog, "acme", "bin", "container", "t")
    theirs = offer(catalog, "globex", "g-zone", "warehouse_zone", "pallet")
    booking(catalog, zone, "market", 10.0)                      # 20 pallet-h
    booking(catalog, zone, "market", 5.0, hours=4.0)            # 20 pallet-h
    booking(catalog, zone, "market", 99.0, status="held")
    booking(catalog, zone, "market", 98.0, status="cancelled")
    booking(catalog, zone, "market", 97.0, status="expired")
    booking(catalog, bin_, "market", 3.5)                       # 3.5 t diverted
    booking(catalog, theirs, "market", 7.0)                     # 14 pallet-h, globex's asset
    booking(catalog, theirs, "rival", 1000.0)                   # rival's own
    return catalog


def test_an_owner_counts_the_confirmed_bookings_on_its_assets_only(world: Catalog) -> None:
    for role in ("owner", "viewer"):
        report = of_caller(world, Caller("acme", role), T0, T0 + 86400)
        assert report.total.bookings == 3
        zone = report.kinds[("warehouse_zone", "pallet")]
        assert (zone.bookings, zone.quantity, zone.capacity_hours) == (2, 15.0, 40.0)
        bin_ = report.kinds[("container", "t")]
        assert (bin_.tonnes_diverted, bin_.capacity_hours) == (3.5, None)
        assert report.total.tonnes_diverted == 3.5
        assert (report.total.kg_co2e_avoided, report.total.bookings_without_co2e) == (None, 3)


def test_a_platform_counts_its_own_bookings_never_another_platforms(world: Catalog) -> None:
    market = of_caller(world, Caller("market", "platform"), T0, T0 + 86400)
    assert market.total.bookings == 4
    assert market.kinds[("warehouse_zone", "pallet")].quantity == 22.0  # never rival's 1000
    rival = of_caller(world, Caller("rival", "platform"), T0, T0 + 86400)
    assert rival.total.bookings == 1 and rival.kinds[("warehouse_zone", "pallet")].quantity == 1000
    # globex's owner sees both bookings on its zone; an owner key never sees what its
    # tenant booked elsewhere, nor a stranger anything.
    assert of_caller(world, Caller("globex", "owner"), T0, T0 + 86400).total.bookings == 2
    assert of_caller(world, Caller("market", "owner"), T0, T0 + 86400).total.bookings == 0
    assert of_caller(world, Caller("evil", "platform"), T0, T0 + 86400).kinds == {}


def test_a_booking_belongs_to_the_period_its_time_starts_in(catalog: Catalog) -> None:
    zone = offer(catalog, "acme", "zone", "warehouse_zone", "pallet")
    booking(catalog, zone, "market", 1.0, start=T0)
    booking(catalog, zone, "market", 2.0, start=T0 + 86400)
    owner = Caller("acme", "owner")
    first, second = (of_caller(catalog, owner, T0 + d, T0 + d + 86400) for d in (0, 86400))
    assert (first.total.quantity, second.total.quantity) == (1.0, 2.0)
    assert of_caller(catalog, owner, T0, T0 + 2 * 86400).total.quantity == 3.0


def test_revenue_is_each_bookings_worth_at_its_offers_price(catalog: Catalog) -> None:
    zone = offer(catalog, "acme", "zone", "warehouse_zone", "pallet")
    truck = offer(catalog, "acme", "truck", "vehicle", "t")
    with catalog.session() as s:
        z, t = s.get(OfferRow, zone), s.get(OfferRow, truck)
        assert z is not None and t is not None
        z.price_per_unit_hour, z.currency = 0.25, "EUR"
        t.price_per_unit_hour, t.currency = 9.0, "GBP"  # a leg priced per tonne ignores it
        t.leg = {"price_per_tonne": 30.0, "distance_km": 120.0}
    booking(catalog, zone, "market", 10.0, hours=4.0)   # 40 pallet-h x 0.25 = 10 EUR
    booking(catalog, zone, "market", 2.0, hours=1.0)    # 2 pallet-h x 0.25 = 0.5 EUR
    booking(catalog, truck, "market", 5.0)              # 5 t x 30 = 150 GBP
    booking(catalog, zone, "market", 50.0, status="cancelled")  # worth nothing
    report = of_caller(catalog, Caller("acme", "owner"), T0, T0 + 86400)
    assert report.total.revenue == {"EUR": 10.5, "GBP": 150.0}
    assert report.kinds[("warehouse_zone", "pallet")].revenue == {"EUR": 10.5}
    # The leg's distance makes the truck booking freight moved: 5 t x 120 km.
    assert report.kinds[("vehicle", "t")].tonne_km == 600.0
    assert of_caller(catalog, Caller("globex", "owner"), T0, T0 + 86400).total.revenue == {}
