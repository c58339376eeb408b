"""Which bookings take an offer's capacity: confirmed ones, and holds until they expire; not
cancelled or expired ones. The condition ``counts`` is what search, booking and publishing use."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idleshare.assets import Asset
from storage.catalog import BookingRow, Catalog, OfferRow, booked_quantity, counts

NOW = 1_800_000_000.0


@pytest.fixture
def catalog(catalog: Catalog) -> Catalog:
    catalog.upsert_asset(Asset("zone-1", "acme", "warehouse_zone", 100, "pallet"))
    return catalog


def add_offer(catalog: Catalog, bookings: list[tuple[str, float, float]]) -> int:
    """An offer of 100 with bookings (status, quantity, hold_expires_at); returns its id."""
    with catalog.session() as s:
        offer = OfferRow(tenant_id="acme", asset_id="zone-1", kind="warehouse_zone",
                         quantity=100.0, unit="pallet", start=NOW, end=NOW + 3600,
                         confidence=0.9)
        s.add(offer)
        s.flush()
        for status, quantity, expires in bookings:
            s.add(BookingRow(offer_id=offer.id, tenant_id="guest", owner_tenant_id="acme",
                             asset_id="zone-1", quantity=quantity, start=NOW, end=NOW + 3600,
                             status=status, hold_expires_at=expires))
        return offer.id


def test_confirmed_bookings_and_live_holds_count_and_the_rest_do_not(catalog: Catalog) -> None:
    offer_id = add_offer(catalog, [
        ("confirmed", 1.0, 0.0),
        ("held", 2.0, NOW + 60),  # live hold
        ("held", 4.0, NOW),  # expires at this instant: no longer holds
        ("held", 8.0, NOW - 60),  # expired, not yet swept
        ("cancelled", 16.0, 0.0),
        ("expired", 32.0, 0.0),
    ])

    with catalog.session() as s:
        counted = s.scalars(select(BookingRow.quantity).where(counts(NOW))).all()
        assert sorted(counted) == [1.0, 2.0]
        assert booked_quantity(s, offer_id, NOW) == 3.0
        # Before the holds expired, they counted too.
        assert booked_quantity(s, offer_id, NOW - 120) == 15.0


def test_an_offer_without_bookings_has_nothing_booked(catalog: Catalog) -> None:
    offer_id = add_offer(catalog, [])
    with catalog.session() as s:
        assert booked_quantity(s, offer_id, NOW) == 0.0
