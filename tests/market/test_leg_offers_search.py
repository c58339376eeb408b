"""Corridor search (origin near A, destination near B, departure window overlapping [t1, t2],
at least so much available) against plain Python on random leg and other offers, both engines."""

from __future__ import annotations

import math
import random

import pytest

from idleshare.assets import Asset
from market.caller import Caller
from market.near import KM_PER_DEGREE, Near
from market.search import OfferQuery, search
from storage.catalog import BookingRow, Catalog, OfferRow

T0 = 1_714_521_600.0
H = 3600.0


def km2(lat0: float, lon0: float, lat: float, lon: float) -> float:
    scale = KM_PER_DEGREE * math.cos(math.radians(lat0))
    return ((lon - lon0) * scale) ** 2 + ((lat - lat0) * KM_PER_DEGREE) ** 2


@pytest.fixture
def offers(catalog: Catalog) -> list[tuple[OfferRow, float]]:
    rng = random.Random(14)
    catalog.upsert_asset(Asset(id="truck", tenant="acme", kind="vehicle", capacity=24.0,
                               unit="t", lat=51.4, lon=6.8))
    catalog.ensure_tenant("freight")
    made = []
    with catalog.session() as s:
        for i in range(400):
            leg = i % 3 != 0
            start = T0 + rng.uniform(0, 7 * 24) * H
            row = OfferRow(
                tenant_id="acme", asset_id="truck", kind="vehicle", unit="t",
                quantity=round(rng.uniform(1, 24), 1), start=start,
                end=start + rng.uniform(0.5, 3) * H, confidence=0.9, method="leg_p10",
                lat=51 + rng.uniform(-1, 1), lon=6 + rng.uniform(-2, 2), status="live",
                dest_lat=51 + rng.uniform(-1, 1) if leg else None,
                dest_lon=6 + rng.uniform(-2, 2) if leg else None,
                leg={"leg_id": f"l{i}", "arrival_estimate": start + 4 * H} if leg else None,
            )
            s.add(row)
            s.flush()
            booked = round(rng.uniform(0, row.quantity), 1) if rng.random() < 0.3 else 0.0
            if booked:
                s.add(BookingRow(offer_id=row.id, tenant_id="freight", owner_tenant_id="acme",
                                 asset_id="truck", quantity=booked, start=row.start,
                                 end=row.end, status="confirmed"))
            made.append((row, booked))
        s.expunge_all()
    return made


QUERIES = [
    dict(near=(51.2, 6.5, 80.0), dest=(51.0, 5.0, 90.0)),
    dict(near=(51.0, 6.0, 120.0), dest=(51.5, 7.0, 60.0), start=T0 + 24 * H, end=T0 + 72 * H),
    dict(dest=(50.8, 6.2, 100.0), min_quantity=8.0),
    dict(near=(51.3, 5.5, 150.0), dest=(51.2, 6.8, 150.0), start=T0 + 100 * H,
         end=T0 + 130 * H, min_quantity=3.0),
]


@pytest.mark.parametrize("spec", QUERIES)
def test_corridor_search_matches_plain_python(catalog: Catalog,
                                              offers: list[tuple[OfferRow, float]],
                                              spec: dict[str, object]) -> None:
    near = Near(*spec["near"]) if "near" in spec else None  # type: ignore[misc]
    dest = Near(*spec["dest"])  # type: ignore[misc]
    q = OfferQuery(kind="vehicle", near=near, dest=dest, start=spec.get("start"),  # type: ignore[arg-type]
                   end=spec.get("end"), min_quantity=spec.get("min_quantity"))  # type: ignore[arg-type]

    def wanted(o: OfferRow, booked: float) -> bool:
        return (o.dest_lat is not None
                and km2(dest.lat, dest.lon, o.dest_lat, o.dest_lon) <= dest.km ** 2
                and (near is None or km2(near.lat, near.lon, o.lat, o.lon) <= near.km ** 2)
                and (q.start is None or o.end > q.start) and (q.end is None or o.start < q.end)
                and (q.min_quantity is None or o.quantity - booked >= q.min_quantity))

    expected = sorted(((o.start, o.id) for o, b in offers if wanted(o, b)))
    got, after = [], None
    while True:  # paged, 7 at a time, as a platform walks it
        page = search(catalog, Caller("acme", "owner"), q, T0, after, 7)
        got += [(k, item["id"]) for item, k in page]
        if len(page) < 7:
            break
        after = [page[-1][1], page[-1][0]["id"]]
    assert len(expected) >= 3
    assert got == expected
    assert all(item["leg"] is not None for item, _ in search(
        catalog, Caller("acme", "owner"), q, T0, None, 50))
