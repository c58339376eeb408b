"""CSV exports of utilisation, idle windows, offers and bookings.

Each export takes the query parameters of its JSON route and pages through that route's own
answers, so the CSV and the JSON agree item for item (tests/api/routes/test_exports.py)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, CatalogDep, StoreDep, TenantDep
from api.params import Instant, KindName
from api.routes import bookings as bookings_route
from api.routes import idle_windows as windows_route
from api.routes import offers as offers_route
from api.routes.assets import UtilisationParams, read_utilisation
from idleshare.assets import ID_PATTERN
from market import sites
from market.exports import of_assets, to_csv
from storage.catalog import Catalog

router = APIRouter(prefix="/v1/exports", tags=["exports"])

#: Pages read per export at most (1000 items each), as the page's allItems does.
MAX_PAGES = 100
PAGE = 1000
#: An asset id as agents and the API make them (idleshare.assets.ID_PATTERN).
AssetParam = Annotated[str, Query(pattern=ID_PATTERN.pattern, description="the asset")]
#: One of the caller's tenant's sites (404 for another tenant's or none).
SiteParam = Annotated[str | None, Query(max_length=64, description="only assets at this site")]
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV, a header row first"}
}


def _csv(what: str, items: Iterable[Mapping[str, Any]]) -> Response:
    return Response(
        to_csv(what, items),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{what}.csv"'},
    )


def _site_assets(catalog: Catalog, tenant: str, site: str | None) -> set[str] | None:
    """The assets at the tenant's site (NotFound, a 404, for another tenant's); None for all."""
    return None if site is None else sites.asset_ids(catalog, tenant, site)


def _walk(page: Callable[[str | None], Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(MAX_PAGES):
        body = jsonable_encoder(page(cursor))
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    return items


@router.get("/utilisation.csv", response_class=Response, responses=CSV)
def export_utilisation(
    tenant: TenantDep,
    catalog: CatalogDep,
    store: StoreDep,
    asset: AssetParam,
    query: UtilisationParams,
) -> Response:
    """`GET /v1/assets/{asset}/utilisation` as CSV, one row per bucket."""
    answer = jsonable_encoder(read_utilisation(asset, tenant, catalog, store, query))
    return _csv("utilisation", [p | {"asset": asset} for p in answer["points"]])


@router.get("/idle-windows.csv", response_class=Response, responses=CSV)
def export_idle_windows(
    tenant: TenantDep,
    catalog: CatalogDep,
    asset: Annotated[str | None, Query(pattern=ID_PATTERN.pattern,
                                       description="only this asset")] = None,
    start: Annotated[Instant | None, Query(description="only windows ending after")] = None,
    end: Annotated[Instant | None, Query(description="only windows starting before")] = None,
    site: SiteParam = None,
) -> Response:
    """`GET /v1/idle-windows` as CSV, every page; ``site`` keeps the windows of its assets."""
    at_site = _site_assets(catalog, tenant, site)
    items = _walk(lambda c: windows_route.list_idle_windows(
        tenant, catalog, asset, start, end, PAGE, c))
    return _csv("idle-windows", of_assets("idle-windows", items, tenant, at_site))


@router.get("/offers.csv", response_class=Response, responses=CSV)
async def export_offers(
    caller: CallerDep,
    catalog: CatalogDep,
    kind: KindName | None = None,
    asset: Annotated[str | None, Query(pattern=ID_PATTERN.pattern,
                                       description="only this asset")] = None,
    status: Annotated[str, Query(max_length=16, description="offer status, or 'any'")] = "live",
    start: Annotated[Instant | None, Query(description="offers ending after")] = None,
    end: Annotated[Instant | None, Query(description="offers starting before")] = None,
    site: SiteParam = None,
) -> Response:
    """`GET /v1/offers` as CSV (the filters of a facility manager's view), every page;
    ``site`` keeps the offers of the caller's assets at that site."""
    at_site = _site_assets(catalog, caller.tenant_id, site)
    search = offers_route.search_offers
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(MAX_PAGES):
        args: dict[str, Any] = {
            "caller": caller, "catalog": catalog, "kind": kind, "asset": asset,
            "status": status, "capability": None, "min_quantity": None, "start": start,
            "end": end, "lat": None, "lon": None, "km": None, "max_price": None,
            "sort": "start", "limit": PAGE, "cursor": cursor,
        }
        # The search route may be sync or async (it is tuned elsewhere): call it either way.
        answer: Any = await (search(**args) if inspect.iscoroutinefunction(search)
                        else run_in_threadpool(search, **args))
        body = orjson.loads(answer.body)
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    return _csv("offers", of_assets("offers", items, caller.tenant_id, at_site))


@router.get("/bookings.csv", response_class=Response, responses=CSV)
def export_bookings(
    caller: CallerDep,
    catalog: CatalogDep,
    status: Annotated[str | None, Query(pattern="^(held|confirmed|cancelled|expired)$")] = None,
    asset: Annotated[str | None, Query(pattern=ID_PATTERN.pattern,
                                       description="only this asset")] = None,
    site: SiteParam = None,
) -> Response:
    """`GET /v1/bookings` as CSV, every page; ``asset`` keeps the bookings of that asset,
    ``site`` those of the caller's assets at that site."""
    at_site = _site_assets(catalog, caller.tenant_id, site)
    items = _walk(lambda c: bookings_route.list_bookings(caller, catalog, status, PAGE, c))
    items = [b for b in items if asset is None or b["asset"] == asset]
    return _csv("bookings", of_assets("bookings", items, caller.tenant_id, at_site))
