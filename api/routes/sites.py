"""The caller's sites, and which of its assets stand at each."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from api.deps import CatalogDep, OwnerDep, TenantDep
from api.params import CursorParam, Limit
from api.routes.paging import after_id, page_by_id
from api.schemas.common import Page
from api.schemas.sites import SiteCreate, SitePublic, SiteUpdate
from market import sites

router = APIRouter(prefix="/v1/sites", tags=["sites"])

SiteId = Annotated[str, Path(description="the site's id within the caller's tenant")]
AssetId = Annotated[str, Path(description="the asset's id within the caller's tenant")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such site (or asset) in the caller's tenant"}
}


@router.get("", response_model=Page[SitePublic])
def list_sites(
    tenant: TenantDep, catalog: CatalogDep, limit: Limit = 100, cursor: CursorParam = None
) -> Page[SitePublic]:
    """The caller's sites, ordered by id."""
    rows = sites.of_tenant(catalog, tenant, after_id(cursor, str), limit + 1)
    return page_by_id(SitePublic, rows, limit)


@router.post("", response_model=SitePublic, status_code=status.HTTP_201_CREATED,
             responses={409: {"description": "the id is taken"}})
def create_site(body: SiteCreate, caller: OwnerDep, catalog: CatalogDep) -> SitePublic:
    row = sites.create(catalog, caller.tenant_id, body.model_dump())
    return SitePublic.model_validate(row)


@router.get("/{site_id}", response_model=SitePublic, responses=NOT_FOUND)
def read_site(site_id: SiteId, tenant: TenantDep, catalog: CatalogDep) -> SitePublic:
    return SitePublic.model_validate(sites.one(catalog, tenant, site_id))


@router.patch("/{site_id}", response_model=SitePublic, responses=NOT_FOUND)
def update_site(
    site_id: SiteId, body: SiteUpdate, caller: OwnerDep, catalog: CatalogDep
) -> SitePublic:
    changes = body.model_dump(exclude_none=True)
    return SitePublic.model_validate(
        sites.update(catalog, caller.tenant_id, site_id, changes)
    )


@router.put("/{site_id}/assets/{asset_id}", status_code=status.HTTP_204_NO_CONTENT,
            responses=NOT_FOUND)
def place_asset(site_id: SiteId, asset_id: AssetId, caller: OwnerDep, catalog: CatalogDep) -> None:
    """Put the asset at this site (moving it from any other)."""
    sites.place(catalog, caller.tenant_id, site_id, asset_id)


@router.delete("/{site_id}/assets/{asset_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=NOT_FOUND)
def unplace_asset(
    site_id: SiteId, asset_id: AssetId, caller: OwnerDep, catalog: CatalogDep
) -> None:
    sites.unplace(catalog, caller.tenant_id, site_id, asset_id)
