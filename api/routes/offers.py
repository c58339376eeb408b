"""Offers: a tenant's own (owner, viewer) or every tenant's public ones (platform)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import and_, or_, select

from api.deps import CallerDep, CatalogDep
from api.params import CursorParam, KindName, Limit, decode_cursor, split_page
from api.schemas import OfferPublic, Page
from storage.catalog import OfferRow

router = APIRouter(prefix="/v1/offers", tags=["offers"])

ANY_STATUS = "any"


@router.get("", response_model=Page[OfferPublic])
def list_offers(
    caller: CallerDep,
    catalog: CatalogDep,
    kind: KindName | None = None,
    asset: Annotated[str | None, Query(description="only offers of this asset id")] = None,
    status: Annotated[
        str, Query(max_length=16, description=f"offer status, or {ANY_STATUS!r} for every one")
    ] = "live",
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Page[OfferPublic]:
    """Offers ordered by start. An owner or viewer key sees its own tenant's offers, whatever
    their visibility; a platform key sees the public offers of every tenant."""
    after = decode_cursor(cursor, (float, int))
    o = OfferRow
    q = select(o).order_by(o.start, o.id)
    if caller.is_platform:
        q = q.where(o.visibility == "public")
    else:
        q = q.where(o.tenant_id == caller.tenant_id)
    if kind is not None:
        q = q.where(o.kind == kind.value)
    if asset is not None:
        q = q.where(o.asset_id == asset)
    if status != ANY_STATUS:
        q = q.where(o.status == status)
    if after is not None:
        q = q.where(or_(o.start > after[0], and_(o.start == after[0], o.id > after[1])))
    with catalog.session() as s:
        rows = list(s.scalars(q.limit(limit + 1)).all())
    rows, next_cursor = split_page(rows, limit, lambda r: [r.start, r.id])
    return Page(items=[OfferPublic.from_row(r) for r in rows], next_cursor=next_cursor)
