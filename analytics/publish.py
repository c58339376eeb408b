"""Write one asset's analysis to the catalog: replace its idle windows, reconcile its offers.

Every offer change is recorded as an offer event (created, updated, withdrawn) in the same
transaction, for the feeds. The asset's row and then its live offers are locked first
(:mod:`storage.catalog.locks`, the order bookings follow too), so a hold or a withdrawal cannot
slip in between reading the bookings and writing the offers.

Bookings (definitions also in docs/analytics.md)
    A booking *counts* while it is ``confirmed``, or ``held`` with ``hold_expires_at > now``
    (:func:`storage.catalog.bookings.counts`).
    The *booked* quantity of an offer is the sum of its counting bookings. Offers that have not
    started and carry bookings are *kept*: their quantity may shrink to what the new analysis
    allows but never below what is booked, and never grows. New offers promise what the
    analysis allows less the *committed* quantity over their window: the most, at any moment,
    of kept and started offers' quantities plus counting bookings of other offers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from analytics.churn import meaningful_change
from analytics.offers import TIME_DECIMALS, floor_quantity
from analytics.pipeline import Analysis
from analytics.policy import SharingPolicy
from storage.catalog import (
    AssetRow,
    BookingRow,
    IdleWindowRow,
    OfferRow,
    counts,
    record_offer_event,
)
from storage.catalog.locks import lock_asset, lock_offers

LIVE, WITHDRAWN = "live", "withdrawn"
CREATED, UPDATED = "created", "updated"


@dataclass(frozen=True)
class PublishCounts:
    windows: int
    created: int
    withdrawn: int
    updated: int = 0


def _slot(start: float, end: float) -> tuple[float, float]:
    return (round(start, TIME_DECIMALS), round(end, TIME_DECIMALS))


def counting_bookings(session: Session, asset: AssetRow, now: float) -> list[BookingRow]:
    """Bookings of ``asset`` that count at ``now`` and have not ended."""
    return list(session.scalars(select(BookingRow).where(
        BookingRow.owner_tenant_id == asset.tenant_id, BookingRow.asset_id == asset.id,
        BookingRow.end > now, counts(now),
    )).all())


def booked_by_offer(session: Session, asset: AssetRow, now: float) -> dict[int, float]:
    """Offer id -> the quantity of ``asset``'s counting bookings on it."""
    booked: dict[int, float] = {}
    for b in counting_bookings(session, asset, now):
        booked[b.offer_id] = booked.get(b.offer_id, 0.0) + b.quantity
    return booked


def create_offer(session: Session, asset: AssetRow, fields: dict[str, object], now: float
                 ) -> OfferRow:
    """A new live offer of ``asset`` with ``fields``, and its ``created`` event."""
    row = OfferRow(tenant_id=asset.tenant_id, asset_id=asset.id, status=LIVE,
                   created_at=now, updated_at=now, **fields)
    session.add(row)
    session.flush()
    record_offer_event(session, row, CREATED, now, 0.0)
    return row


def peak_committed(blocks: list[tuple[float, float, float]], start: float, end: float) -> float:
    """Most quantity committed at any moment of ``[start, end)`` by ``(s, e, q)`` blocks."""
    edges = sorted({start, *(s for s, _, _ in blocks if start < s < end)})
    return max((sum(q for s, e, q in blocks if s <= t < e) for t in edges), default=0.0)


def _allowed(offers: np.ndarray, start: float, end: float) -> float:
    """Least quantity the analysis allows at any moment of ``[start, end)``; 0 if uncovered."""
    covering = [(s, e, q) for s, e, q, _ in offers.tolist() if s < end and e > start]
    edges = sorted({start, *(e for _, e, _ in covering if start < e < end)})
    return min((next((q for s, e, q in covering if s <= t < e), 0.0) for t in edges),
               default=0.0)


def publish(session: Session, asset: AssetRow, policy: SharingPolicy, analysis: Analysis,
            now: float) -> PublishCounts:
    """Store ``analysis`` for ``asset`` in ``session`` (the caller commits).

    Idle windows are replaced wholesale. Live offers that have started are left alone. Booked
    offers that have not started are kept, shrunk if the analysis now allows less (never
    below their bookings). Other live offers that have not started are matched by window to
    the new offers (less what is committed): same window keeps the row (updated if the
    listing or confidence changed, or window or quantity meaningfully:
    :mod:`analytics.churn`), the rest are withdrawn, and new windows are inserted.
    """
    lock_asset(session, asset.tenant_id, asset.id)
    # Leg offers (a destination) are reconciled by analytics.leg_offers, by-product offers
    # (a material) by analytics.byproduct_offers, not here.
    live = lock_offers(session, OfferRow.tenant_id == asset.tenant_id,
                       OfferRow.asset_id == asset.id, OfferRow.status == LIVE,
                       OfferRow.dest_lat.is_(None), OfferRow.material.is_(None))
    owner = (IdleWindowRow.tenant_id == asset.tenant_id, IdleWindowRow.asset_id == asset.id)
    session.execute(delete(IdleWindowRow).where(*owner))
    session.add_all(
        IdleWindowRow(tenant_id=asset.tenant_id, asset_id=asset.id, start=w.start, end=w.end,
                      min_free=w.min_free, mean_free=w.mean_free, ongoing=w.ongoing)
        for w in analysis.windows
    )
    offers = np.asarray(analysis.offers, dtype=float).reshape(-1, 4)
    booked: dict[int, float] = {}
    bookings = counting_bookings(session, asset, now)
    for b in bookings:
        booked[b.offer_id] = booked.get(b.offer_id, 0.0) + b.quantity

    listing = dict(kind=asset.kind, unit=asset.unit, lat=asset.lat, lon=asset.lon,
                   price_per_unit_hour=policy.price_per_unit_hour, currency=policy.currency,
                   visibility=policy.visibility, capabilities=list(policy.capabilities),
                   method=analysis.method)
    updated = withdrawn = 0
    committed: list[tuple[float, float, float]] = []
    pending: dict[tuple[float, float], OfferRow] = {}
    for o in live:
        if o.start <= now:
            committed.append((o.start, o.end, o.quantity))
        elif booked.get(o.id, 0.0) > 0:
            keep = max(booked[o.id], min(o.quantity, _allowed(offers, o.start, o.end)))
            if keep != o.quantity:
                o.quantity, o.updated_at = keep, now
                record_offer_event(session, o, UPDATED, now, booked[o.id])
                updated += 1
            committed.append((o.start, o.end, o.quantity))
        elif _slot(o.start, o.end) in pending:  # a duplicate can only come from an old fault
            withdrawn += _withdraw(session, o, now)
        else:
            pending[_slot(o.start, o.end)] = o
    kept_ids = {o.id for o in live if o.start <= now or booked.get(o.id, 0.0) > 0}
    committed += [(b.start, b.end, b.quantity) for b in bookings if b.offer_id not in kept_ids]

    wanted = []
    for start, end, quantity, confidence in offers.tolist():
        quantity = float(floor_quantity(quantity - peak_committed(committed, start, end)))
        if quantity >= policy.min_quantity:
            wanted.append((start, end, dict(listing, quantity=quantity, confidence=confidence)))
    # Same window first, then the largest overlap: an offer whose window moved or grew keeps
    # its id (platforms may be about to book it) and is updated, not withdrawn and recreated.
    matched = {i: pending.pop(_slot(a, b)) for i, (a, b, _) in enumerate(wanted)
               if _slot(a, b) in pending}
    for i, (a, b, _) in enumerate(wanted):
        if i in matched:
            continue
        overlaps = [(min(b, o.end) - max(a, o.start), key) for key, o in pending.items()
                    if o.start < b and o.end > a]
        if overlaps:
            matched[i] = pending.pop(max(overlaps)[1])
    changes: list[tuple[OfferRow, str]] = []
    for i, (start, end, fields) in enumerate(wanted):
        fields = dict(fields, start=start, end=end)
        row = matched.get(i)
        if row is None:
            row = OfferRow(tenant_id=asset.tenant_id, asset_id=asset.id, status=LIVE,
                           created_at=now, updated_at=now, **fields)
            session.add(row)
            changes.append((row, CREATED))
        elif worth_updating(row, fields):
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = now
            changes.append((row, UPDATED))
    # New offers inserted in one batch (one round trip for their ids, not one each); the
    # events then in the order of the offers. New offers have nothing booked.
    session.flush()
    for row, type_ in changes:
        record_offer_event(session, row, type_, now, booked.get(row.id, 0.0))
    created = sum(t == CREATED for _, t in changes)
    updated += len(changes) - created
    for row in pending.values():
        withdrawn += _withdraw(session, row, now)
    return PublishCounts(windows=len(analysis.windows), created=created, withdrawn=withdrawn,
                         updated=updated)


def worth_updating(row: OfferRow, fields: dict[str, object]) -> bool:
    """Whether ``row`` should take ``fields``: a listing change always, a window or quantity
    change only when meaningful (:func:`analytics.churn.meaningful_change`)."""
    window = ("start", "end", "quantity")
    if any(getattr(row, name) != value for name, value in fields.items() if name not in window):
        return True
    new = tuple(float(fields[name]) for name in window)  # type: ignore[arg-type]
    return meaningful_change((row.start, row.end, row.quantity), (new[0], new[1], new[2]))


def _withdraw(session: Session, row: OfferRow, now: float) -> int:
    """Withdraw an offer without bookings (publish keeps booked ones)."""
    row.status, row.updated_at = WITHDRAWN, now
    record_offer_event(session, row, WITHDRAWN, now, 0.0)
    return 1
