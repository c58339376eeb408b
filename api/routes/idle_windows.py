"""Idle windows the analytics found in the caller's own assets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CatalogDep, TenantDep
from api.params import CursorParam, Instant, Limit, decode_cursor, query_error, split_page
from api.schemas.common import Page
from api.schemas.idle_windows import IdleWindowPublic
from market import idle_windows

router = APIRouter(prefix="/v1/idle-windows", tags=["idle windows"])


@router.get("", response_model=Page[IdleWindowPublic])
def list_idle_windows(
    tenant: TenantDep,
    catalog: CatalogDep,
    asset: Annotated[str | None, Query(description="only this asset")] = None,
    start: Annotated[Instant | None, Query(description="only windows ending after")] = None,
    end: Annotated[Instant | None, Query(description="only windows starting before")] = None,
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Page[IdleWindowPublic]:
    """The caller's idle windows that overlap [start, end), oldest first."""
    if start is not None and end is not None and start >= end:
        raise query_error("start", "start must be before end", start)
    after = decode_cursor(cursor, (float, int))
    rows = idle_windows.of_tenant(
        catalog, tenant, asset, start, end, (after[0], after[1]) if after else None, limit + 1
    )
    rows, next_cursor = split_page(rows, limit, lambda r: [r[0].start, r[0].id])
    return Page(
        items=[IdleWindowPublic.from_row(r, unit) for r, unit in rows], next_cursor=next_cursor
    )
