"""Every query of the benchmark's mix, through the API and page by page, against a plain Python
reading of the search rules over a few thousand random offers (SQLite and PostgreSQL)."""

from __future__ import annotations

import math
import random
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

import market.search
from bench.api import SEARCHES, T0, populate
from market.offers import offer_json
from storage.catalog import BookingRow, Catalog, GroupMemberRow, OfferRow, PartnerRow
from tests.api.conftest import auth, walk

K = 111.195
PATHS = [p.format(s=T0 + 86400, e=T0 + 3 * 86400) for p in SEARCHES]


@pytest.fixture
def world(catalog: Catalog) -> Catalog:
    """3,000 offers of 1,500 assets over 20 tenants (groups of five, partner rings), some
    withdrawn or private, with confirmed, held, expired and cancelled bookings."""
    populate(catalog, assets=1500, offers=3000, tenants=20, seed=7)
    rng = random.Random(7)
    now = time.time()
    with catalog.session() as s:
        rows = s.execute(select(OfferRow.id, OfferRow.tenant_id, OfferRow.asset_id,
                                OfferRow.quantity, OfferRow.start, OfferRow.end)).all()
        for oid in rng.sample([r.id for r in rows], 150):
            s.execute(update(OfferRow).where(OfferRow.id == oid).values(
                status=rng.choice(("withdrawn", "expired")) if oid % 2 else "live",
                visibility="private" if oid % 2 == 0 else OfferRow.visibility))
        bookings = []
        for r in rng.sample(rows, 600):
            status, hold = rng.choice(
                (("confirmed", 0.0), ("held", now + 600), ("held", now - 600), ("cancelled", 0.0))
            )
            bookings.append({
                "offer_id": r.id, "tenant_id": "t001", "owner_tenant_id": r.tenant_id,
                "asset_id": r.asset_id, "quantity": round(r.quantity * rng.uniform(0.1, 0.9), 1),
                "start": r.start, "end": r.end, "status": status, "hold_expires_at": hold,
            })
        s.execute(insert(BookingRow), bookings)
    return catalog


def reference(catalog: Catalog, tenant: str, role: str, path: str) -> list[dict[str, Any]]:
    """What the search of ``path`` answers, read from every row with plain Python."""
    params = dict(p.split("=") for p in path.split("?", 1)[1].split("&"))
    now = time.time()
    with catalog.session() as s:
        offers = s.scalars(select(OfferRow)).all()
        taken: dict[int, float] = {}
        for b in s.scalars(select(BookingRow)).all():
            if b.status == "confirmed" or (b.status == "held" and b.hold_expires_at > now):
                taken[b.offer_id] = taken.get(b.offer_id, 0.0) + b.quantity
        mine = {g.group_id for g in s.scalars(select(GroupMemberRow)) if g.tenant_id == tenant}
        group = {g.tenant_id for g in s.scalars(select(GroupMemberRow)) if g.group_id in mine}
        sharers = {p.tenant_id for p in s.scalars(select(PartnerRow)) if p.partner_id == tenant}

        def visible(o: OfferRow) -> bool:
            if o.tenant_id == tenant:
                return True
            if role != "platform":
                return False
            return (o.visibility == "public"
                    or (o.visibility in ("group", "partners") and o.tenant_id in group)
                    or (o.visibility == "partners" and o.tenant_id in sharers))

        def distance2(o: OfferRow) -> float:
            lat, lon = float(params["lat"]), float(params["lon"])
            scale = K * math.cos(math.radians(lat))
            return (o.lon - lon) * scale * (o.lon - lon) * scale + (o.lat - lat) * K * (
                o.lat - lat) * K

        hits = []
        for o in offers:
            booked = taken.get(o.id, 0.0)
            if not visible(o) or o.status != "live":
                continue
            if "kind" in params and o.kind != params["kind"]:
                continue
            if "capability" in params and params["capability"] not in o.capabilities:
                continue
            if "min_quantity" in params and o.quantity - booked < float(params["min_quantity"]):
                continue
            if "start" in params and not o.end > float(params["start"]):
                continue
            if "end" in params and not o.start < float(params["end"]):
                continue
            if "km" in params and distance2(o) > float(params["km"]) ** 2:
                continue
            if "max_price" in params and o.price_per_unit_hour > float(params["max_price"]):
                continue
            sort = params.get("sort", "start")
            key = {"start": o.start, "price": o.price_per_unit_hour}.get(sort)
            hits.append((distance2(o) if sort == "distance" else key, o.id, offer_json(o, booked)))
    return [item for _, _, item in sorted(hits, key=lambda h: (h[0], h[1]))]


@pytest.mark.parametrize("role", ["platform", "owner"])
def test_every_query_of_the_benchmark_mix_answers_what_the_reference_does(
    client: TestClient, world: Catalog, role: str
) -> None:
    h = auth(world, "t003", role)
    for path in PATHS:
        url, query = path.split("?", 1)
        params = dict(p.split("=") for p in query.split("&")) | {"limit": "37"}
        items, pages = walk(client, url, h, **params)
        expected = reference(world, "t003", role, path)
        assert items == expected, path
        assert pages == max(1, math.ceil(len(expected) / 37)), path
    # The mix is not trivial: platform searches see many offers, some partly booked.
    if role == "platform":
        assert len(reference(world, "t003", role, PATHS[0])) > 1000
        assert len(reference(world, "t003", role, PATHS[-1])) > 10
        assert any(o["available"] < o["quantity"] for o in reference(world, "t003", role,
                                                                        PATHS[0]))


@pytest.mark.parametrize(("path", "limit"), [
    (PATHS[-1], 1), ("/v1/offers?lat=51.0&lon=10.0&km=80&sort=distance", 3),
    ("/v1/offers?lat=51.0&lon=10.0&km=80&sort=distance", 7)])
def test_distance_pages_found_within_a_smaller_circle_first_are_the_reference(
    client: TestClient, world: Catalog, limit: int, path: str
) -> None:
    """Distance search tries a smaller circle first (market.search._nearest_first): small
    pages, so that the first ones are answered from it, must still be the reference's."""
    h = auth(world, "t003", "platform")
    url, query = path.split("?", 1)
    params = dict(p.split("=") for p in query.split("&"))
    items, _ = walk(client, url, h, **params | {"limit": str(limit)})
    expected = reference(world, "t003", "platform", path)
    assert items == expected
    lat, lon, km = (float(params[k]) for k in ("lat", "lon", "km"))
    scale, inner_km = K * math.cos(math.radians(lat)), km * market.search._NEAREST_FIRST
    inner = [o for o in expected if ((o["location"]["lon"] - lon) * scale) ** 2
             + ((o["location"]["lat"] - lat) * K) ** 2 <= inner_km**2]
    assert len(inner) >= limit + 1  # the first page (and one more) within the smaller circle


def test_distance_searches_of_each_kind_in_turn_answer_the_reference(
    client: TestClient, world: Catalog
) -> None:
    """Each kind has its own spatial index: one search's statement, kept for its shape, must
    not answer the same search of another kind from the first kind's index."""
    h = auth(world, "t003", "platform")
    for kind in ("warehouse_zone", "vehicle", "machine", "warehouse_zone"):
        path = f"/v1/offers?kind={kind}&lat=51.0&lon=10.0&km=120&sort=distance"
        url, query = path.split("?", 1)
        params = dict(p.split("=") for p in query.split("&"))
        items, _ = walk(client, url, h, **params | {"limit": "9"})
        expected = reference(world, "t003", "platform", path)
        assert len(expected) > 9, kind
        assert items == expected, kind
