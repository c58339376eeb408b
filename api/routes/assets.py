"""The caller's own assets: the assets themselves, their utilisation over time, live status,
forecast of free capacity, sharing policy and (containers) declared material."""

from __future__ import annotations

import math
import time
from typing import Annotated, Any, Literal, NamedTuple

import numpy as np
from fastapi import APIRouter, Depends, Path, Query, status

from api.deps import CatalogDep, OwnerDep, StoreDep, TenantDep
from api.params import (
    CursorParam,
    Instant,
    KindName,
    Limit,
    query_error,
)
from api.routes.paging import after_id, page_by_id
from api.schemas.assets import (
    AssetCreate,
    AssetPublic,
    AssetStatusPublic,
    AssetUpdate,
    ForecastPublic,
    ForecastSlot,
    MaterialBody,
    MaterialPublic,
    PolicyBody,
    PolicyPublic,
    UtilisationPoint,
    UtilisationPublic,
)
from api.schemas.common import Page, utc
from idleshare.assets import Asset
from idleshare.assets import kind as asset_kind
from idleshare.materials import Material, MaterialError
from market import assets
from market.errors import Invalid
from storage.catalog import AssetRow

router = APIRouter(prefix="/v1/assets", tags=["assets"])

BUCKETS: dict[str, float] = {"hour": 3600.0, "day": 86400.0}
#: Bounds the work one request can ask for (about 83 days of hours, 5 years of days).
MAX_BUCKETS = 2000
DEFAULT_SPAN_S = 86400.0
#: How far status looks back for the last reading.
STATUS_LOOKBACK_S = 7 * 86400.0

AssetId = Annotated[str, Path(description="the asset's id within the caller's tenant")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such asset in the caller's tenant"}
}


def own_asset(asset_id: AssetId, tenant: TenantDep, catalog: CatalogDep) -> AssetRow:
    return assets.own(catalog, tenant, asset_id)


#: The asset of the path, of the caller's tenant (else 404).
OwnAsset = Annotated[AssetRow, Depends(own_asset)]


class UtilisationQuery(NamedTuple):
    start: float | None
    end: float | None
    bucket: Literal["hour", "day"]


async def utilisation_query(
    start: Annotated[Instant | None, Query(description="default: 24 h before end")] = None,
    end: Annotated[Instant | None, Query(description="default: now")] = None,
    bucket: Literal["hour", "day"] = "hour",
) -> UtilisationQuery:
    return UtilisationQuery(start, end, bucket)


#: The query parameters of utilisation, for its JSON route and its CSV export alike.
UtilisationParams = Annotated[UtilisationQuery, Depends(utilisation_query)]


@router.get("", response_model=Page[AssetPublic])
def list_assets(
    tenant: TenantDep,
    catalog: CatalogDep,
    kind: KindName | None = None,
    site: Annotated[str | None, Query(max_length=64, description="at this site")] = None,
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Page[AssetPublic]:
    """The caller's assets, ordered by id."""
    from market import sites

    kind_name, last = kind.value if kind else None, after_id(cursor, str)
    rows = (assets.of_tenant(catalog, tenant, kind_name, last, limit + 1) if site is None
            else sites.assets_at(catalog, tenant, site, kind_name, last, limit + 1))
    return page_by_id(AssetPublic, rows, limit)


@router.post(
    "",
    response_model=AssetPublic,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "the id is taken"}},
)
def create_asset(body: AssetCreate, caller: OwnerDep, catalog: CatalogDep) -> AssetPublic:
    """Register an asset by hand (agents register theirs with their birth message)."""
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
    return AssetPublic.model_validate(assets.register(catalog, asset))


@router.get("/{asset_id}", response_model=AssetPublic, responses=NOT_FOUND)
async def read_asset(asset: OwnAsset) -> AssetPublic:
    return AssetPublic.model_validate(asset)  # async: nothing blocks once the row is read


@router.patch("/{asset_id}", response_model=AssetPublic, responses=NOT_FOUND)
def update_asset(
    asset_id: AssetId, body: AssetUpdate, caller: OwnerDep, catalog: CatalogDep
) -> AssetPublic:
    """Change an asset's name, capacity or location; offers follow at the next analysis."""
    changes = body.model_dump(exclude_none=True)
    return AssetPublic.model_validate(assets.update(catalog, caller.tenant_id, asset_id, changes))


@router.delete(
    "/{asset_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_FOUND, 409: {"description": "the asset has offers"}},
)
def delete_asset(asset_id: AssetId, caller: OwnerDep, catalog: CatalogDep) -> None:
    """Remove an asset that never had offers (with its idle windows). An asset with offers
    keeps its row, because bookings and the feed refer to them: withdraw its offers and set
    its policy's visibility to private instead."""
    assets.remove(catalog, caller.tenant_id, asset_id)


@router.get("/{asset_id}/utilisation", response_model=UtilisationPublic, responses=NOT_FOUND)
def read_utilisation(
    asset_id: AssetId,
    tenant: TenantDep,
    catalog: CatalogDep,
    store: StoreDep,
    query: UtilisationParams,
) -> UtilisationPublic:
    """Time-weighted utilisation of the asset's primary metric per bucket (UTC-aligned)."""
    from analytics.series import MAX_GAP_S
    from analytics.utilisation import utilisation_series

    start, end, bucket = query
    row = assets.own(catalog, tenant, asset_id)
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


@router.get("/{asset_id}/status", response_model=AssetStatusPublic, responses=NOT_FOUND)
def read_status(row: OwnAsset, catalog: CatalogDep, store: StoreDep) -> AssetStatusPublic:
    """Online or offline (from the agent's birth and last-will messages), the age of the
    last reading of the asset's primary metric, and the agent's outbox as its latest status
    reported it (readings queued, readings ever dropped)."""
    now = time.time()
    metric = asset_kind(row.kind).primary_metric
    pairs = store.query(row.tenant_id, row.id, metric, now - STATUS_LOOKBACK_S, now + 60.0)
    last = pairs[-1][0] if pairs else None
    agent = catalog.agent_status(row.tenant_id, row.agent) if row.agent else None
    return AssetStatusPublic(
        asset=row.id,
        online=row.online,
        status_at=utc(row.status_at) if row.status_at else None,
        last_reading_at=utc(last) if last is not None else None,
        reading_age_s=max(now - last, 0.0) if last is not None else None,
        agent=row.agent or None,
        queued=agent.queued if agent else None,
        dropped=agent.dropped if agent else None,
        agent_reported_at=utc(agent.reported_at) if agent else None,
    )


@router.get("/{asset_id}/forecast", response_model=ForecastPublic, responses=NOT_FOUND)
def read_forecast(
    asset_id: AssetId,
    tenant: TenantDep,
    catalog: CatalogDep,
    store: StoreDep,
    lookback_days: Annotated[int, Query(ge=1, le=60, description="history to learn from")] = 7,
) -> ForecastPublic:
    """Slots in which the asset is expected to have free capacity, from the same seasonal
    model that makes its offers, computed now and not stored; each with the P10 and median
    free quantity of its hours in the past days (the forecast band)."""
    from analytics.pipeline import analyse, slot_quantiles
    from analytics.policy import SharingPolicy, with_site_timezone
    from storage.catalog.sites import site_timezones

    row = assets.own(catalog, tenant, asset_id)
    zone = site_timezones(catalog, tenant, asset_id).get((tenant, asset_id))
    now = time.time()
    lookback_s = lookback_days * 86400.0
    metric = asset_kind(row.kind).primary_metric
    readings = store.query(tenant, asset_id, metric, now - lookback_s, now)
    analysis = analyse(
        readings,
        row.kind,
        row.capacity,
        SharingPolicy.from_dict(with_site_timezone(row.policy, zone)),
        now,
        lookback_s,
    )
    band = slot_quantiles(readings, row.kind, row.capacity, analysis.offers, lookback_s)
    slots = [
        ForecastSlot(start=utc(s), end=utc(e), quantity=q, confidence=c,
                     p10=None if math.isnan(p10) else p10,
                     median=None if math.isnan(median) else median)
        for (s, e, q, c), (p10, median) in zip(analysis.offers.tolist(), band.tolist(),
                                               strict=True)
    ]
    return ForecastPublic(asset=asset_id, unit=row.unit, lookback_s=lookback_s, slots=slots)


@router.get("/{asset_id}/policy", response_model=PolicyPublic, responses=NOT_FOUND)
def read_policy(asset: OwnAsset) -> PolicyPublic:
    return PolicyPublic.from_row(asset)


@router.put("/{asset_id}/policy", response_model=PolicyPublic, responses=NOT_FOUND)
def replace_policy(
    asset_id: AssetId, body: PolicyBody, caller: OwnerDep, catalog: CatalogDep
) -> PolicyPublic:
    """Replace the owner's overrides (keys left out take the defaults); offers follow at the
    next analysis run."""
    overrides = body.model_dump(exclude_none=True)
    row = assets.set_policy(catalog, caller.tenant_id, asset_id, overrides, caller.key_id)
    return PolicyPublic.from_row(row)


MATERIAL_RESPONSES: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND, 422: {"description": "not an EWC code, or the asset is not a container"}}


@router.get("/{asset_id}/material", response_model=MaterialPublic | None, responses=NOT_FOUND)
def read_material(asset: OwnAsset) -> MaterialPublic | None:
    """The container's declared material; null when none is declared."""
    return None if asset.material is None else MaterialPublic(**asset.material)


@router.put("/{asset_id}/material", response_model=MaterialPublic, responses=MATERIAL_RESPONSES)
def declare_material(
    asset_id: AssetId, body: MaterialBody, caller: OwnerDep, catalog: CatalogDep
) -> MaterialPublic:
    """Declare what the container holds (owner keys only). Its by-product offers carry it
    from the next analysis; a container without a declared material is not offered."""
    try:
        material = Material.from_dict(body.model_dump())
    except MaterialError as err:
        raise Invalid(str(err), field=err.field) from err
    row = assets.declare_material(catalog, caller.tenant_id, asset_id, material, caller.key_id)
    assert row.material is not None
    return MaterialPublic(**row.material)


@router.delete("/{asset_id}/material", status_code=status.HTTP_204_NO_CONTENT,
               responses=MATERIAL_RESPONSES)
def withdraw_material(asset_id: AssetId, caller: OwnerDep, catalog: CatalogDep) -> None:
    """Withdraw the declaration: the container's by-product offers are withdrawn at the next
    analysis."""
    assets.declare_material(catalog, caller.tenant_id, asset_id, None, caller.key_id)
