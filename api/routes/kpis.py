"""Utilisation KPIs of the caller's own assets over a period, per asset and per kind."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CatalogDep, StoreDep, TenantDep
from api.params import KindName
from api.periods import PeriodEnd, PeriodStart, period
from api.schemas.kpis import KpisPublic
from market import kpis

router = APIRouter(prefix="/v1/kpis", tags=["kpis"])

DEFAULT_PERIOD_S = 7 * 86400.0


@router.get("", response_model=KpisPublic)
def read_kpis(
    tenant: TenantDep,
    catalog: CatalogDep,
    store: StoreDep,
    start: PeriodStart = None,
    end: PeriodEnd = None,
    kind: KindName | None = None,
    asset: Annotated[str | None, Query(description="only this asset")] = None,
    site: Annotated[str | None, Query(max_length=64, description="at this site")] = None,
) -> KpisPublic:
    """Availability, utilisation, load factor and idle share of each of the caller's assets
    over [start, end) (by default the last 7 days), and per kind (each asset weighted by its
    time with data)."""
    start, end = period(start, end, DEFAULT_PERIOD_S, kpis.MAX_PERIOD_S)
    from market import sites

    at_site = sites.asset_ids(catalog, tenant, site) if site is not None else None
    result = kpis.of_tenant(catalog, store, tenant, start, end,
                            kind=kind.value if kind is not None else None, asset=asset,
                            assets=at_site)
    return KpisPublic.of(start, end, result.assets, result.kinds)
