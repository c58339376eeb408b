"""Holds, confirmations and cancellations that never overbook an offer.

Every change starts with a write to the offer's row. On SQLite that takes the database's
write lock before anything is read, and on a server database it locks the row; either way the
check "quantity still available" and the insert that uses it cannot interleave with another
booking's, in this process or any other.
"""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from market.caller import Caller
from market.errors import Conflict, Forbidden, NotFound
from market.visibility import can_see
from storage.catalog import (
    CONFIRMED,
    HELD,
    BookingRow,
    Catalog,
    OfferRow,
    booked_quantity,
    record_offer_event,
)

CANCELLED, EXPIRED = "cancelled", "expired"


def _lock_offer(s: Session, offer_id: int, now: float) -> OfferRow | None:
    s.execute(update(OfferRow).where(OfferRow.id == offer_id).values(updated_at=now))
    return s.get(OfferRow, offer_id)


def expire_holds(catalog: Catalog, now: float) -> int:
    """Mark lapsed holds expired, recording an ``updated`` event for each offer whose
    availability rose; returns how many holds expired."""
    with catalog.session() as s:
        return _expire_holds(s, now)


def _expire_holds(s: Session, now: float) -> int:
    lapsed = s.scalars(
        select(BookingRow).where(BookingRow.status == HELD, BookingRow.hold_expires_at <= now)
    ).all()
    for b in lapsed:
        b.status, b.updated_at = EXPIRED, now
    for offer_id in sorted({b.offer_id for b in lapsed}):
        offer = _lock_offer(s, offer_id, now)
        if offer is not None and offer.status == "live":  # a withdrawn offer stays a tombstone
            record_offer_event(s, offer, "updated", now)
    return len(lapsed)


def hold(
    catalog: Catalog, caller: Caller, offer_id: int, quantity: float, hold_s: float, now: float
) -> BookingRow:
    """Hold ``quantity`` of a visible offer for ``hold_s`` seconds, after expiring lapsed
    holds so their quantity counts as available again."""
    with catalog.session() as s:
        _expire_holds(s, now)
        booking = _hold(s, caller, offer_id, quantity, hold_s, now)
        s.flush()
        return booking


def _hold(
    s: Session, caller: Caller, offer_id: int, quantity: float, hold_s: float, now: float
) -> BookingRow:
    offer = _lock_offer(s, offer_id, now)
    if offer is None or not can_see(s, caller, offer.tenant_id, offer.visibility):
        raise NotFound(f"no offer {offer_id}")
    if offer.tenant_id == caller.tenant_id:
        raise Conflict("a tenant cannot book its own offer")
    if offer.status != "live" or offer.end <= now:
        raise Conflict(
            f"offer {offer_id} is not bookable: it is {offer.status}"
            + (" and over" if offer.end <= now else "")
        )
    available = offer.quantity - booked_quantity(s, offer_id, now)
    if quantity > available + 1e-9:
        raise Conflict(
            f"offer {offer_id} has {max(available, 0.0):g} {offer.unit} available: "
            f"asked for {quantity:g}"
        )
    booking = BookingRow(
        offer_id=offer_id,
        tenant_id=caller.tenant_id,
        owner_tenant_id=offer.tenant_id,
        asset_id=offer.asset_id,
        quantity=quantity,
        start=offer.start,
        end=offer.end,
        status=HELD,
        hold_expires_at=now + hold_s,
        created_at=now,
        updated_at=now,
    )
    s.add(booking)
    record_offer_event(s, offer, "booked", now)
    return booking


def _find(s: Session, caller: Caller, booking_id: int) -> BookingRow:
    row = s.get(BookingRow, booking_id)
    if row is None or caller.tenant_id not in (row.tenant_id, row.owner_tenant_id):
        raise NotFound(f"no booking {booking_id}")
    return row


def find(catalog: Catalog, caller: Caller, booking_id: int) -> BookingRow:
    """A booking the caller made or that is on the caller's asset; else :class:`NotFound`."""
    with catalog.session() as s:
        return _find(s, caller, booking_id)


def of_caller(
    catalog: Catalog, caller: Caller, status: str | None, before: int | None, limit: int
) -> list[BookingRow]:
    """Bookings the caller's tenant made or that are on its assets, newest first, with id
    below ``before``."""
    b = BookingRow
    q = select(b).where(or_(b.tenant_id == caller.tenant_id, b.owner_tenant_id == caller.tenant_id))
    if status is not None:
        q = q.where(b.status == status)
    if before is not None:
        q = q.where(b.id < before)
    with catalog.session() as s:
        return list(s.scalars(q.order_by(b.id.desc()).limit(limit)).all())


def confirm(catalog: Catalog, caller: Caller, booking_id: int, now: float) -> BookingRow:
    """The booker turns a live hold into a booking."""
    with catalog.session() as s:
        row = _find(s, caller, booking_id)
        _lock_offer(s, row.offer_id, now)
        s.refresh(row)  # read before the lock: another request may have changed it since
        if row.tenant_id != caller.tenant_id:
            raise Forbidden("only the booker confirms")
        if row.status == HELD and row.hold_expires_at <= now:
            _expire_holds(s, now)
        if row.status != HELD:
            raise Conflict(f"booking {booking_id} is {row.status}, not held")
        row.status, row.updated_at = CONFIRMED, now
        return row


def cancel(catalog: Catalog, caller: Caller, booking_id: int, now: float) -> BookingRow:
    """The booker (platform key) or the asset's owner (owner key) cancels."""
    with catalog.session() as s:
        row = _find(s, caller, booking_id)
        booker = row.tenant_id == caller.tenant_id and caller.role == "platform"
        owner = row.owner_tenant_id == caller.tenant_id and caller.role == "owner"
        if not (booker or owner):
            raise Forbidden("the booker's platform key or the asset owner's owner key cancels")
        offer = _lock_offer(s, row.offer_id, now)
        s.refresh(row)
        if row.status not in (HELD, CONFIRMED):
            raise Conflict(f"booking {booking_id} is already {row.status}")
        row.status, row.updated_at = CANCELLED, now
        if offer is not None and offer.status == "live":
            record_offer_event(s, offer, "updated", now)
        return row
