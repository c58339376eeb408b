"""Idle windows the analytics found in a tenant's own assets."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from storage.catalog import AssetRow, Catalog, IdleWindowRow


def of_tenant(
    catalog: Catalog,
    tenant: str,
    asset: str | None,
    start: float | None,
    end: float | None,
    after: tuple[float, int] | None,
    limit: int,
) -> list[tuple[IdleWindowRow, str]]:
    """(window, asset's unit) of ``tenant``'s windows overlapping [start, end), by start then
    id, beyond the keyset position ``after``."""
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
        return [(row, unit) for row, unit in s.execute(q.limit(limit))]
