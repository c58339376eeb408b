"""Row locks on the catalog, always taken in one order so that concurrent writers (API hosts
booking, analytics workers publishing, hold expiry) serialise per asset and never deadlock:

1. the **asset** row (one asset per transaction, or several in ``(tenant_id, id)`` order);
2. its **offer** rows, by ascending id;
3. **booking** rows: only read or written once 1 and 2 are held.

Every change to an asset's offers or bookings takes its asset's lock first, so the checks that
bookings and publishing make ("still available", "still live") cannot interleave with another
writer's. A transaction holding an offer or booking lock never asks for an asset lock.

PostgreSQL: ``SELECT … FOR NO KEY UPDATE`` (``FOR UPDATE`` that still lets rows referencing the
locked one be inserted; READ COMMITTED: a statement after the lock sees whatever the previous
holder committed). SQLite has no row locks; the first write of a transaction takes
the database's write lock, so the helpers start with a write that changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from storage.catalog.models import AssetRow, OfferRow


def write_lock_sqlite(s: Session) -> None:
    """SQLite: take the database's write lock now, before anything is read."""
    if s.get_bind().dialect.name == "sqlite":
        s.execute(update(AssetRow).where(AssetRow.tenant_id == "").values(name=AssetRow.name))


def lock_asset(s: Session, tenant_id: str, asset_id: str) -> AssetRow | None:
    """Step 1: lock an asset's row (None when there is none), refreshed from the database."""
    write_lock_sqlite(s)
    return s.scalar(
        select(AssetRow).where(AssetRow.tenant_id == tenant_id, AssetRow.id == asset_id)
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    )


def lock_offers(s: Session, *where: ColumnElement[bool]) -> Sequence[OfferRow]:
    """Step 2: lock the offers matching ``where`` (of an asset already locked), by id; a row
    changed by a writer this one waited for is re-read, so e.g. ``status == "live"`` leaves
    out an offer withdrawn meanwhile."""
    write_lock_sqlite(s)
    return s.scalars(
        select(OfferRow).where(*where).order_by(OfferRow.id)
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    ).all()


def lock_offer(s: Session, offer_id: int) -> OfferRow | None:
    """Steps 1 and 2 for one offer: its asset, then the offer itself (None when there is no
    such offer). The asset is looked up unlocked first; an offer never changes asset."""
    key = s.execute(
        select(OfferRow.tenant_id, OfferRow.asset_id).where(OfferRow.id == offer_id)
    ).first()
    if key is None:
        return None
    lock_asset(s, key.tenant_id, key.asset_id)
    found = lock_offers(s, OfferRow.id == offer_id)
    return found[0] if found else None
