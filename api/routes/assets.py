"""The caller's own assets and their utilisation over time."""

from __future__ import annotations

import math
import time
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Path, Query, status
from sqlalchemy import delete, select

from api.deps import CatalogDep, OwnerDep, StoreDep, TenantDep
from api.params import (
    CursorParam,
    Instant,
    KindName,
    Limit,
    decode_cursor,
    query_error,
    split_page,
)
from api.schemas import AssetPublic, Page, UtilisationPoint, UtilisationPublic, utc
from api.schemas_tenant import AssetCreate, AssetUpdate
from idleshare.assets import Asset
from idleshare.assets import kind as asset_kind
from storage.catalog import AssetRow, Catalog, IdleWindowRow, OfferRow

router = APIRouter(prefix="/v1/assets", tags=["assets"])

BUCKETS: dict[str, float] = {"hour": 3600.0, "day": 86400.0}
#: Bounds the work one request can ask for (about 83 days of hours, 5 years of days).
MAX_BUCKETS = 2000
DEFAULT_SPAN_S = 86400.0

AssetId = Annotated[str, Path(description="the asset's id within the caller's tenant")]


def own_asset(catalog: Catalog, tenant: str, asset_id: str) -> AssetRow:
    """The caller's asset, or 404: another tenant's asset is indistinguishable from none."""
    row = catalog.asset(tenant, asset_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no asset {asset_id!r}")
    return row


@router.get("", response_model=Page[AssetPublic])
def list_assets(
    tenant: TenantDep,
    catalog: CatalogDep,
    kind: KindName | None = None,
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Page[AssetPublic]:
    """The caller's assets, ordered by id."""
    after = decode_cursor(cursor, (str,))
    q = select(AssetRow).where(AssetRow.tenant_id == tenant).order_by(AssetRow.id)
    if kind is not None:
        q = q.where(AssetRow.kind == kind.value)
    if after is not None:
        q = q.where(AssetRow.id > after[0])
    with catalog.session() as s:
        rows = list(s.scalars(q.limit(limit + 1)).all())
    rows, next_cursor = split_page(rows, limit, lambda r: [r.id])
    return Page(items=[AssetPublic.from_row(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "",
    response_model=AssetPublic,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "the id is taken"}},
)
def create_asset(body: AssetCreate, caller: OwnerDep, catalog: CatalogDep) -> AssetPublic:
    """Register an asset by hand (agents register theirs with their birth message)."""
    if catalog.asset(caller.tenant_id, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"asset {body.id!r} exists")
    asset = Asset(
        id=body.id,
        tenant=caller.tenant_id,
        kind=body.kind.value,
        capacity=body.capacity,
        unit=body.unit,
        lat=body.lat,
        lon=body.lon,
        name=body.name,
    )
    catalog.upsert_asset(asset)
    return AssetPublic.from_row(own_asset(catalog, caller.tenant_id, body.id))


@router.get("/{asset_id}", response_model=AssetPublic, responses={404: {"description": "none"}})
def read_asset(asset_id: AssetId, tenant: TenantDep, catalog: CatalogDep) -> AssetPublic:
    return AssetPublic.from_row(own_asset(catalog, tenant, asset_id))


@router.patch("/{asset_id}", response_model=AssetPublic, responses={404: {"description": "none"}})
def update_asset(
    asset_id: AssetId, body: AssetUpdate, caller: OwnerDep, catalog: CatalogDep
) -> AssetPublic:
    """Change an asset's name, capacity or location; offers follow at the next analysis."""
    own_asset(catalog, caller.tenant_id, asset_id)
    with catalog.session() as s:
        row = s.get(AssetRow, (caller.tenant_id, asset_id))
        for field, value in body.model_dump(exclude_none=True).items():
            setattr(row, field, value)
    return AssetPublic.from_row(own_asset(catalog, caller.tenant_id, asset_id))


@router.delete(
    "/{asset_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "none"}, 409: {"description": "the asset has offers"}},
)
def delete_asset(asset_id: AssetId, caller: OwnerDep, catalog: CatalogDep) -> None:
    """Remove an asset that never had offers (with its idle windows). An asset with offers
    keeps its row, because bookings and the feed refer to them: withdraw its offers and set
    its policy's visibility to private instead."""
    own_asset(catalog, caller.tenant_id, asset_id)
    with catalog.session() as s:
        offers = s.scalar(
            select(OfferRow.id)
            .where(OfferRow.tenant_id == caller.tenant_id, OfferRow.asset_id == asset_id)
            .limit(1)
        )
        if offers is not None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"asset {asset_id!r} has offers, which bookings and feeds refer to: "
                "withdraw them and set its visibility to private instead",
            )
        s.execute(
            delete(IdleWindowRow).where(
                IdleWindowRow.tenant_id == caller.tenant_id, IdleWindowRow.asset_id == asset_id
            )
        )
        s.execute(
            delete(AssetRow).where(AssetRow.tenant_id == caller.tenant_id, AssetRow.id == asset_id)
        )


@router.get(
    "/{asset_id}/utilisation",
    response_model=UtilisationPublic,
    responses={404: {"description": "no such asset"}},
)
def read_utilisation(
    asset_id: AssetId,
    tenant: TenantDep,
    catalog: CatalogDep,
    store: StoreDep,
    start: Annotated[Instant | None, Query(description="default: 24 h before end")] = None,
    end: Annotated[Instant | None, Query(description="default: now")] = None,
    bucket: Literal["hour", "day"] = "hour",
) -> UtilisationPublic:
    """Time-weighted utilisation of the asset's primary metric per bucket (UTC-aligned)."""
    from analytics.series import MAX_GAP_S
    from analytics.utilisation import utilisation_series

    row = own_asset(catalog, tenant, asset_id)
    bucket_s = BUCKETS[bucket]
    end = time.time() if end is None else end
    start = end - DEFAULT_SPAN_S if start is None else start
    if start >= end:
        raise query_error("start", "start must be before end", start)
    start = math.floor(start / bucket_s) * bucket_s  # buckets on whole hours / days
    n = math.ceil((end - start) / bucket_s)
    if n > MAX_BUCKETS:
        raise query_error(
            "bucket",
            f"the range holds {n} {bucket} buckets, more than {MAX_BUCKETS}: "
            "shorten it or use bucket=day",
            bucket,
        )
    metric = asset_kind(row.kind).primary_metric
    # One gap either side: the last reading before start holds at start, and a reading's value
    # holds only until the next one, so the first reading after end closes the last step.
    pairs = store.query(tenant, asset_id, metric, start - MAX_GAP_S, end + MAX_GAP_S)
    data = np.asarray(pairs, dtype=float).reshape(-1, 2)
    starts, util, cov = utilisation_series(
        data[:, 0], data[:, 1], row.capacity, row.kind, start, end, bucket_s, MAX_GAP_S
    )
    points = [
        UtilisationPoint(
            start=utc(float(b)),
            utilisation=None if math.isnan(u) else float(u),
            coverage=float(c),
        )
        for b, u, c in zip(starts, util, cov, strict=True)
    ]
    return UtilisationPublic(asset=asset_id, bucket_s=bucket_s, points=points)
