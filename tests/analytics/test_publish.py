"""Offers follow reality: events for every change, usage rises, bookings are respected."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from analytics.pipeline import Analysis
from analytics.policy import SharingPolicy
from analytics.publish import publish
from idleshare.assets import Asset
from storage.catalog import AssetRow, BookingRow, Catalog, OfferEventRow, OfferRow

H = 3600.0
NOW = 1_700_006_400.0
TENANT, BAY = "acme", "bay-1"
POLICY = SharingPolicy.from_dict({"capabilities": ["cold"], "visibility": "partners"})


@pytest.fixture
def catalog(catalog: Catalog) -> Catalog:
    catalog.upsert_asset(Asset(id=BAY, tenant=TENANT, kind="warehouse_zone", capacity=100.0,
                               unit="pallet"))
    return catalog


def run(catalog: Catalog, offers: list[tuple[float, float, float]], now: float = NOW) -> None:
    table = np.array([[NOW + s * H, NOW + e * H, q, 0.9] for s, e, q in offers]).reshape(-1, 4)
    with catalog.session() as s:
        row = s.get(AssetRow, (TENANT, BAY))
        publish(s, row, POLICY, Analysis(windows=[], offers=table, method="forecast_bound"), now)


def live(catalog: Catalog) -> list[tuple[float, float, float]]:
    with catalog.session() as s:
        rows = s.scalars(select(OfferRow).where(OfferRow.status == "live")
                         .order_by(OfferRow.start)).all()
        return [((o.start - NOW) / H, (o.end - NOW) / H, o.quantity) for o in rows]


def events(catalog: Catalog) -> list[tuple[str, float]]:
    with catalog.session() as s:
        rows = s.scalars(select(OfferEventRow).order_by(OfferEventRow.id)).all()
        return [(e.type, e.snapshot["quantity"]) for e in rows]


def book(catalog: Catalog, quantity: float, start_h: float, end_h: float, status: str = "confirmed",
         hold_expires_at: float = 0.0) -> None:
    with catalog.session() as s:
        offer = s.scalars(select(OfferRow).where(OfferRow.start <= NOW + start_h * H,
                                                 OfferRow.end >= NOW + end_h * H,
                                                 OfferRow.status == "live")).first()
        assert offer is not None
        s.add(BookingRow(offer_id=offer.id, tenant_id="guest", owner_tenant_id=TENANT,
                         asset_id=BAY, quantity=quantity, start=NOW + start_h * H,
                         end=NOW + end_h * H, status=status, hold_expires_at=hold_expires_at))


def test_every_offer_change_is_recorded_as_an_event(catalog: Catalog) -> None:
    cat = catalog
    run(cat, [(10, 12, 40), (20, 22, 30)])
    run(cat, [(10, 12, 25)])  # usage rose: reduced; the other slot is gone: withdrawn
    assert events(cat) == [("created", 40), ("created", 30), ("updated", 25),
                           ("withdrawn", 30)]
    with cat.session() as s:
        offer = s.scalars(select(OfferRow).where(OfferRow.status == "live")).one()
        assert offer.capabilities == ["cold"] and offer.method == "forecast_bound"
        assert offer.visibility == "partners"


def test_a_moved_window_updates_the_most_overlapping_offer_and_keeps_its_id(
    catalog: Catalog,
) -> None:
    run(catalog, [(10, 14, 40), (20, 22, 30)])
    ids = offer_ids(catalog)
    run(catalog, [(11, 16, 35), (30, 32, 20)])  # the first moved; the second is new
    assert live(catalog) == [(11, 16, 35), (30, 32, 20)]
    assert offer_ids(catalog)[0] == ids[0]
    assert events(catalog)[2:] == [("updated", 35), ("created", 20), ("withdrawn", 30)]


def offer_ids(catalog: Catalog) -> list[int]:
    with catalog.session() as s:
        return list(s.scalars(select(OfferRow.id).where(OfferRow.status == "live")
                              .order_by(OfferRow.start)).all())


def test_an_unchanged_analysis_records_nothing_new(catalog: Catalog) -> None:
    run(catalog, [(10, 12, 40)])
    run(catalog, [(10, 12, 40)])
    assert events(catalog) == [("created", 40)]


def test_a_booked_offer_shrinks_with_usage_but_never_below_its_bookings(catalog: Catalog) -> None:
    run(catalog, [(10, 14, 40)])
    book(catalog, 15, 10, 14)
    run(catalog, [(10, 14, 20)])
    assert live(catalog) == [(10, 14, 20)]
    run(catalog, [])  # the owner now needs everything: only the booked part stays
    assert live(catalog) == [(10, 14, 15)]
    assert [t for t, _ in events(catalog)] == ["created", "updated", "updated"]


def test_booked_capacity_is_subtracted_from_later_offers(catalog: Catalog) -> None:
    run(catalog, [(10, 14, 40)])
    book(catalog, 15, 10, 14)
    # The next analysis cuts the slot differently; the booked offer stays whole.
    run(catalog, [(8, 12, 50), (12, 20, 50)])
    assert live(catalog) == [(8, 12, 10), (10, 14, 40), (12, 20, 10)]


def test_an_expired_hold_no_longer_counts(catalog: Catalog) -> None:
    run(catalog, [(10, 14, 40)])
    book(catalog, 15, 10, 14, status="held", hold_expires_at=NOW - 1)
    run(catalog, [])
    assert live(catalog) == []
    assert events(catalog)[-1] == ("withdrawn", 40)


def test_started_offers_are_left_alone(catalog: Catalog) -> None:
    run(catalog, [(1, 5, 40)])
    run(catalog, [], now=NOW + 2 * H)
    assert live(catalog) == [(1, 5, 40)]


def test_a_window_growing_by_a_minute_per_pass_emits_no_event(catalog: Catalog) -> None:
    run(catalog, [(10, 14, 40)])
    for minute in range(1, 30):
        run(catalog, [(10, 14 + minute / 60, 40)])
    assert events(catalog) == [("created", 40)]
    assert live(catalog) == [(10, 14, 40)]  # the stored promise stays inside the analysis
    run(catalog, [(10, 15, 40)])  # an hour more is worth telling
    assert events(catalog)[-1] == ("updated", 40) and live(catalog) == [(10, 15, 40)]


def test_a_window_that_halves_is_updated(catalog: Catalog) -> None:
    run(catalog, [(10, 14, 40)])
    run(catalog, [(10, 12, 40)])
    assert events(catalog) == [("created", 40), ("updated", 40)]
    assert live(catalog) == [(10, 12, 40)]


def test_a_quantity_moves_only_by_a_meaningful_share(catalog: Catalog) -> None:
    run(catalog, [(10, 14, 40)])
    run(catalog, [(10, 14, 37)])  # 7.5 % of 40: no event
    run(catalog, [(10, 14, 43)])
    assert live(catalog) == [(10, 14, 40)] and len(events(catalog)) == 1
    run(catalog, [(10, 14, 35)])  # 12.5 %: updated
    assert events(catalog)[-1] == ("updated", 35)
