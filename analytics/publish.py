"""Write one asset's analysis to the catalog: replace its idle windows, reconcile its offers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from analytics.offers import TIME_DECIMALS
from analytics.pipeline import Analysis
from analytics.policy import SharingPolicy
from storage.catalog import AssetRow, IdleWindowRow, OfferRow

LIVE, WITHDRAWN = "live", "withdrawn"


@dataclass(frozen=True)
class PublishCounts:
    windows: int
    created: int
    withdrawn: int


def _key(start: float, end: float, quantity: float) -> tuple[float, float, float]:
    # An offer is "unchanged" when slot and quantity agree to the precision offers carry.
    return (round(start, TIME_DECIMALS), round(end, TIME_DECIMALS), round(quantity, 3))


def publish(
    session: Session, asset: AssetRow, policy: SharingPolicy, analysis: Analysis, now: float
) -> PublishCounts:
    """Store ``analysis`` for ``asset`` in ``session`` (the caller commits).

    Idle windows are replaced wholesale. Live offers that have not started are reconciled:
    one with the same start, end and quantity as a new offer keeps its id (its confidence,
    price and listing details are refreshed); the others are withdrawn, keeping the row; new
    offers are inserted live. Offers that have started are left alone.
    """
    owner = (IdleWindowRow.tenant_id == asset.tenant_id, IdleWindowRow.asset_id == asset.id)
    session.execute(delete(IdleWindowRow).where(*owner))
    session.add_all(
        IdleWindowRow(tenant_id=asset.tenant_id, asset_id=asset.id, start=w.start, end=w.end,
                      min_free=w.min_free, mean_free=w.mean_free, ongoing=w.ongoing)
        for w in analysis.windows
    )

    live = session.scalars(
        select(OfferRow).where(OfferRow.tenant_id == asset.tenant_id,
                               OfferRow.asset_id == asset.id, OfferRow.status == LIVE)
        .order_by(OfferRow.id)
    ).all()
    pending: dict[tuple[float, float, float], OfferRow] = {}
    started: set[tuple[float, float, float]] = set()
    surplus: list[OfferRow] = []  # the same key twice can only come from an earlier fault
    for o in live:
        key = _key(o.start, o.end, o.quantity)
        if o.start <= now:
            started.add(key)
        elif key in pending:
            surplus.append(o)
        else:
            pending[key] = o
    listing = dict(kind=asset.kind, unit=asset.unit, lat=asset.lat, lon=asset.lon,
                   price_per_unit_hour=policy.price_per_unit_hour, currency=policy.currency,
                   visibility=policy.visibility)

    created = 0
    for start, end, quantity, confidence in np.asarray(analysis.offers).tolist():
        key = _key(start, end, quantity)
        if key in started:
            continue
        fields = dict(listing, confidence=confidence)
        row = pending.pop(key, None)
        if row is None:
            session.add(OfferRow(tenant_id=asset.tenant_id, asset_id=asset.id, start=start,
                                 end=end, quantity=quantity, status=LIVE, created_at=now,
                                 updated_at=now, **fields))
            created += 1
        elif any(getattr(row, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = now
    stale = [*pending.values(), *surplus]
    for row in stale:
        row.status, row.updated_at = WITHDRAWN, now
    return PublishCounts(windows=len(analysis.windows), created=created, withdrawn=len(stale))
