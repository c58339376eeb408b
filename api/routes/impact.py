"""The impact of the caller's confirmed bookings over a period (docs/impact.md)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CallerDep, CatalogDep
from api.periods import PeriodEnd, PeriodStart, period
from api.schemas.impact import ImpactPublic
from market import impact

router = APIRouter(prefix="/v1/impact", tags=["impact"])

DEFAULT_PERIOD_S = 30 * 86400.0


@router.get("", response_model=ImpactPublic)
def read_impact(
    caller: CallerDep,
    catalog: CatalogDep,
    start: PeriodStart = None,
    end: PeriodEnd = None,
) -> ImpactPublic:
    """Confirmed bookings whose time starts in [start, end) (by default the last 30 days): an
    owner or viewer key's are the bookings on its tenant's assets, a platform key's its
    tenant's own bookings. Per kind and unit: quantity, capacity-hours shared, tonne-km moved,
    tonnes diverted, and the CO2e avoided where a sourced emission factor applies (listed with
    its source)."""
    start, end = period(start, end, DEFAULT_PERIOD_S, impact.MAX_PERIOD_S)
    return ImpactPublic.of(start, end, impact.of_caller(catalog, caller, start, end))
