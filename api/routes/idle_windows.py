"""Idle windows the analytics found in the caller's own assets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import and_, or_, select

from api.deps import CatalogDep, TenantDep
from api.params import CursorParam, Instant, Limit, decode_cursor, query_error, split_page
from api.schemas import IdleWindowPublic, Page
from storage.catalog import AssetRow, IdleWindowRow

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
    w = IdleWindowRow
    q = (
        select(w, AssetRow.unit)
        .join(AssetRow, and_(AssetRow.tenant_id == w.tenant_id, AssetRow.id == w.asset_id))
        .where(w.tenant_id == tenant)
        .order_by(w.start, w.id)
    )
    if asset is not None:
        q = q.where(w.asset_id == asset)
    if start is not None:
        q = q.where(w.end > start)
    if end is not None:
        q = q.where(w.start < end)
    if after is not None:
        q = q.where(or_(w.start > after[0], and_(w.start == after[0], w.id > after[1])))
    with catalog.session() as s:
        rows = [(w_row, unit) for w_row, unit in s.execute(q.limit(limit + 1))]
    rows, next_cursor = split_page(rows, limit, lambda r: [r[0].start, r[0].id])
    return Page(
        items=[IdleWindowPublic.from_row(r, unit) for r, unit in rows], next_cursor=next_cursor
    )
