"""An asset's live status, its forecast of free capacity and its sharing policy."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.deps import CatalogDep, OwnerDep, StoreDep, TenantDep
from api.routes.assets import AssetId, own_asset
from api.schemas import utc
from api.schemas_tenant import (
    AssetStatusPublic,
    ForecastPublic,
    ForecastSlot,
    PolicyBody,
    PolicyPublic,
)
from idleshare.assets import kind as asset_kind
from idleshare.errors import ConfigError
from storage.catalog import DEFAULT_POLICY, AssetRow

router = APIRouter(prefix="/v1/assets", tags=["assets"])

#: How far back status looks for the last reading.
STATUS_LOOKBACK_S = 7 * 86400.0
NOT_FOUND = {404: {"description": "no such asset in the caller's tenant"}}


@router.get("/{asset_id}/status", response_model=AssetStatusPublic, responses=NOT_FOUND)
def read_status(
    asset_id: AssetId, tenant: TenantDep, catalog: CatalogDep, store: StoreDep
) -> AssetStatusPublic:
    """Online or offline (from the agent's birth and last-will messages) and the age of the
    last reading of the asset's primary metric."""
    row = own_asset(catalog, tenant, asset_id)
    now = time.time()
    metric = asset_kind(row.kind).primary_metric
    pairs = store.query(tenant, asset_id, metric, now - STATUS_LOOKBACK_S, now + 60.0)
    last = pairs[-1][0] if pairs else None
    return AssetStatusPublic(
        asset=asset_id,
        online=row.online,
        status_at=utc(row.status_at) if row.status_at else None,
        last_reading_at=utc(last) if last is not None else None,
        reading_age_s=max(now - last, 0.0) if last is not None else None,
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
    model that makes its offers, computed now and not stored."""
    from analytics.pipeline import analyse
    from analytics.policy import SharingPolicy

    row = own_asset(catalog, tenant, asset_id)
    now = time.time()
    lookback_s = lookback_days * 86400.0
    metric = asset_kind(row.kind).primary_metric
    readings = store.query(tenant, asset_id, metric, now - lookback_s, now)
    analysis = analyse(
        readings,
        row.kind,
        row.capacity,
        SharingPolicy.from_dict(row.sharing_policy()),
        now,
        lookback_s,
    )
    slots = [
        ForecastSlot(start=utc(s), end=utc(e), quantity=q, confidence=c)
        for s, e, q, c in analysis.offers.tolist()
    ]
    return ForecastPublic(asset=asset_id, unit=row.unit, lookback_s=lookback_s, slots=slots)


def _policy_public(row: AssetRow) -> PolicyPublic:
    return PolicyPublic(
        asset=row.id, overrides=dict(row.policy or {}), effective=row.sharing_policy()
    )


@router.get("/{asset_id}/policy", response_model=PolicyPublic, responses=NOT_FOUND)
def read_policy(asset_id: AssetId, tenant: TenantDep, catalog: CatalogDep) -> PolicyPublic:
    return _policy_public(own_asset(catalog, tenant, asset_id))


@router.put("/{asset_id}/policy", response_model=PolicyPublic, responses=NOT_FOUND)
def replace_policy(
    asset_id: AssetId, body: PolicyBody, caller: OwnerDep, catalog: CatalogDep
) -> PolicyPublic:
    """Replace the owner's overrides (keys left out take the defaults); offers follow at the
    next analysis run."""
    from analytics.policy import SharingPolicy

    own_asset(catalog, caller.tenant_id, asset_id)
    overrides = body.model_dump(exclude_none=True)
    try:
        # The analytics' own check, so the API never stores a policy analytics would refuse.
        SharingPolicy.from_dict({**DEFAULT_POLICY, **overrides})
    except (ConfigError, ValueError, TypeError) as err:
        raise HTTPException(422, detail=str(err)) from err
    with catalog.session() as s:
        row = s.get(AssetRow, (caller.tenant_id, asset_id))
        row.policy = overrides
    return _policy_public(own_asset(catalog, caller.tenant_id, asset_id))
