"""The impact of the caller's confirmed bookings over a period (docs/impact.md)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CallerDep, CatalogDep
from api.params import Instant, query_error
from api.schemas.impact import ImpactPublic
from market import impact

router = APIRouter(prefix="/v1/impact", tags=["impact"])

DEFAULT_PERIOD_S = 30 * 86400.0


@router.get("", response_model=ImpactPublic)
def read_impact(
    caller: CallerDep,
    catalog: CatalogDep,
    start: Annotated[Instant | None, Query(description="default: 30 days before end")] = None,
    end: Annotated[Instant | None, Query(description="default: now")] = None,
) -> ImpactPublic:
    """Confirmed bookings whose time starts in [start, end): an owner or viewer key's are the
    bookings on its tenant's assets, a platform key's its tenant's own bookings. Per kind and
    unit: quantity, capacity-hours shared, tonne-km moved, tonnes diverted, and the CO2e
    avoided where a sourced emission factor applies (listed with its source)."""
    end = time.time() if end is None else end
    start = end - DEFAULT_PERIOD_S if start is None else start
    if start >= end:
        raise query_error("start", "start must be before end", start)
    if end - start > impact.MAX_PERIOD_S:
        raise query_error("start", f"the period may span at most "
                          f"{impact.MAX_PERIOD_S / 86400:.0f} days", start)
    return ImpactPublic.of(start, end, impact.of_caller(catalog, caller, start, end))
