"""Offer search (visibility enforced), one offer, and withdrawing an offer."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

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
    query_openapi,
    read_query,
)
from api.schemas.common import Page
from api.schemas.offers import OfferPublic
from idleshare.materials import MaterialError, code_prefix
from market import offers
from market.caller import Caller
from market.near import Near
from market.search import OfferQuery, search
from storage.catalog import Catalog

router = APIRouter(prefix="/v1/offers", tags=["offers"])

ANY_STATUS = "any"
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such offer visible to the caller"}
}
Capability = Annotated[str, Query(pattern=r"^[a-z0-9_-]{1,32}$")]


class SearchQuery(BaseModel):
    """GET /v1/offers' query parameters, read in one pass (:func:`api.params.read_query`)."""

    kind: KindName | None = None
    asset: Annotated[str | None, Query(max_length=64, description="only this asset id")] = None
    site: Annotated[str | None, Query(
        max_length=64, description="only the caller's own offers of assets at this site of its "
        "tenant (404 if it has no such site)")] = None
    status: Annotated[
        str, Query(max_length=16, description=f"offer status, or {ANY_STATUS!r} for every one")
    ] = "live"
    capability: Annotated[
        list[Capability] | None, Query(max_length=16, description="offers having all of these")
    ] = None
    min_quantity: Annotated[
        float | None, Query(ge=0, le=1e12, description="least quantity still available")
    ] = None
    start: Annotated[Instant | None, Query(description="offers ending after")] = None
    end: Annotated[Instant | None, Query(description="offers starting before")] = None
    lat: Annotated[float | None, Query(ge=-90, le=90, description="with lon and km")] = None
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None
    km: Annotated[float | None, Query(gt=0, le=20000, description="distance from lat, lon")] = None
    max_price: Annotated[float | None, Query(ge=0, le=1e12, description="per unit hour")] = None
    dest_lat: Annotated[
        float | None, Query(ge=-90, le=90, description="corridor: leg offers to within dest_km")
    ] = None
    dest_lon: Annotated[float | None, Query(ge=-180, le=180)] = None
    dest_km: Annotated[
        float | None, Query(gt=0, le=20000, description="distance of a leg's destination")
    ] = None
    eural: Annotated[str | None, Query(
        min_length=2, max_length=12, description="by-product offers whose material's European "
        "Waste Catalogue (EURAL) code starts so: a chapter, sub-chapter or code, in pairs "
        "(`03 01`) or digits (`0301`)")] = None
    sort: Literal["start", "price", "-quantity", "distance"] = "start"
    limit: Limit = 100
    cursor: CursorParam = None

    def offer_query(self) -> OfferQuery:
        """The search these parameters ask for; a 422 for combinations that make no sense."""
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise query_error("start", "start must be before end", self.start)
        given = [v is not None for v in (self.lat, self.lon, self.km)]
        if any(given) and not all(given):
            raise query_error("km", "lat, lon and km go together: give all three or none", self.km)
        near = (
            Near(self.lat, self.lon, self.km)
            if self.lat is not None and self.lon is not None and self.km
            else None
        )
        dest_given = [v is not None for v in (self.dest_lat, self.dest_lon, self.dest_km)]
        if any(dest_given) and not all(dest_given):
            raise query_error("dest_km", "dest_lat, dest_lon and dest_km go together",
                              self.dest_km)
        dest = (
            Near(self.dest_lat, self.dest_lon, self.dest_km)
            if self.dest_lat is not None and self.dest_lon is not None and self.dest_km
            else None
        )
        try:
            eural = None if self.eural is None else code_prefix(self.eural)
        except MaterialError as err:
            raise query_error("eural", str(err), self.eural) from err
        if self.sort == "distance" and near is None:
            raise query_error("sort", "sort=distance needs lat, lon and km", self.sort)
        return OfferQuery(
            kind=self.kind.value if self.kind else None,
            asset=self.asset,
            status=None if self.status == ANY_STATUS else self.status,
            capabilities=tuple(self.capability or ()),
            min_quantity=self.min_quantity,
            start=self.start,
            end=self.end,
            near=near,
            max_price=self.max_price,
            sort=self.sort,
            dest=dest,
            site=self.site,
            eural=eural,
        )


@router.get(
    "",
    name="search_offers",  # its operationId and summary, as before it took SearchQuery
    response_model=Page[OfferPublic],
    openapi_extra=query_openapi(SearchQuery),
)
async def search_offers_route(
    caller: CallerDep,
    catalog: CatalogDep,
    params: Annotated[SearchQuery, Depends(read_query(SearchQuery))],
) -> Response:
    """Offers visible to the caller. An owner or viewer key sees its own tenant's offers; a
    platform key sees public offers, and group or partner offers as their owners' policies
    allow. `start`/`end` keep offers overlapping that window; `lat`, `lon` and `km` keep
    offers within `km` of the point (equirectangular distance); `sort=distance` needs them.
    Corridor search: `dest_lat`, `dest_lon` and `dest_km` keep leg offers whose destination is
    that near (their `location` is the origin, their window the departure window).
    `eural` keeps by-product offers whose material's EWC code starts with that chapter,
    sub-chapter or code (`03`, `03 01`, `03 01 05` or `030105`)."""
    q = params.offer_query()
    if q.site is not None:
        from market import sites

        sites.one(catalog, caller.tenant_id, q.site)  # 404 for no such site of the tenant
    limit = params.limit
    after = decode_cursor(params.cursor, (float, int))
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


async def search_offers(caller: Caller, catalog: Catalog, **filters: Any) -> Response:
    """The search route's answer for filters given by name (the CSV export pages through
    it: api/routes/exports.py)."""
    return await search_offers_route(caller, catalog, SearchQuery(**filters))


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
