"""Offer search (visibility enforced), one offer, and withdrawing an offer."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import CallerDep, CatalogDep, OwnerDep
from api.params import (
    CursorParam,
    Instant,
    KindName,
    Limit,
    RowId,
    decode_cursor,
    encode_cursor,
    query_error,
)
from api.schemas.common import Page
from api.schemas.offers import OfferPublic
from market import offers
from market.search import Near, OfferQuery, search

router = APIRouter(prefix="/v1/offers", tags=["offers"])

ANY_STATUS = "any"
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such offer visible to the caller"}
}
Capability = Annotated[str, Query(pattern=r"^[a-z0-9_-]{1,32}$")]


@router.get("", response_model=Page[OfferPublic])
async def search_offers(
    caller: CallerDep,
    catalog: CatalogDep,
    kind: KindName | None = None,
    asset: Annotated[str | None, Query(max_length=64, description="only this asset id")] = None,
    status: Annotated[
        str, Query(max_length=16, description=f"offer status, or {ANY_STATUS!r} for every one")
    ] = "live",
    capability: Annotated[
        list[Capability] | None, Query(max_length=16, description="offers having all of these")
    ] = None,
    min_quantity: Annotated[
        float | None, Query(ge=0, le=1e12, description="least quantity still available")
    ] = None,
    start: Annotated[Instant | None, Query(description="offers ending after")] = None,
    end: Annotated[Instant | None, Query(description="offers starting before")] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="with lon and km")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    km: Annotated[float | None, Query(gt=0, le=20000, description="distance from lat, lon")] = None,
    max_price: Annotated[float | None, Query(ge=0, le=1e12, description="per unit hour")] = None,
    sort: Literal["start", "price", "-quantity", "distance"] = "start",
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Response:
    """Offers visible to the caller. An owner or viewer key sees its own tenant's offers; a
    platform key sees public offers, and group or partner offers as their owners' policies
    allow. `start`/`end` keep offers overlapping that window; `lat`, `lon` and `km` keep
    offers within `km` of the point (equirectangular distance); `sort=distance` needs them."""
    if start is not None and end is not None and start >= end:
        raise query_error("start", "start must be before end", start)
    given = [v is not None for v in (lat, lon, km)]
    if any(given) and not all(given):
        raise query_error("km", "lat, lon and km go together: give all three or none", km)
    near = Near(lat, lon, km) if lat is not None and lon is not None and km else None
    if sort == "distance" and near is None:
        raise query_error("sort", "sort=distance needs lat, lon and km", sort)
    q = OfferQuery(
        kind=kind.value if kind else None,
        asset=asset,
        status=None if status == ANY_STATUS else status,
        capabilities=tuple(capability or ()),
        min_quantity=min_quantity,
        start=start,
        end=end,
        near=near,
        max_price=max_price,
        sort=sort,
    )
    after = decode_cursor(cursor, (float, int))
    now = time.time()
    # SQLite answers from a local file in well under a millisecond: cheaper on the event loop
    # than the hop to a worker thread (WAL: a reader never waits for a writer). A network
    # database's wait runs in the thread pool.
    if catalog.engine.dialect.name == "sqlite":
        hits = search(catalog, caller, q, now, after, limit + 1)
    else:
        hits = await run_in_threadpool(search, catalog, caller, q, now, after, limit + 1)
    next_cursor = None
    if len(hits) > limit:
        hits = hits[:limit]
        last, k = hits[-1]
        next_cursor = encode_cursor([float(k), last["id"]])
    # Serialised here (orjson) rather than by the response model: the same JSON, which
    # tests/api/routes/test_offers.py and schemathesis check, in a fraction of the time.
    body = {"items": [item for item, _ in hits], "next_cursor": next_cursor}
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/{offer_id}", response_model=OfferPublic, responses=NOT_FOUND)
def read_offer(offer_id: RowId, caller: CallerDep, catalog: CatalogDep) -> dict[str, Any]:
    """One offer the caller may see (hidden and missing look the same)."""
    return offers.read(catalog, caller, offer_id)


@router.post(
    "/{offer_id}/withdraw",
    response_model=OfferPublic,
    responses={**NOT_FOUND, 409: {"description": "the offer is not live"}},
)
def withdraw_offer(offer_id: RowId, caller: OwnerDep, catalog: CatalogDep) -> dict[str, Any]:
    """Take one of the tenant's live offers off the market; the feed records a tombstone.
    Bookings already made stand."""
    return offers.withdraw(catalog, caller, offer_id, time.time())
