"""Holds, confirmations and cancellations that never overbook an offer.

Every change first locks the offer's asset and then the offer (:mod:`storage.catalog.locks`,
the one lock order analytics' publishing follows too), so the check "quantity still
available" and the insert that uses it cannot interleave with another booking's or with a
publish of the asset's offers, in this process or any other, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import ColumnElement, delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idleshare.errors import StoreError
from market import audit
from market.caller import Caller
from market.errors import Conflict, Forbidden, Invalid, NotFound
from market.rows import newest_first
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
from storage.catalog.locks import lock_asset, lock_offer, lock_offers
from storage.catalog.models import BookingIdempotencyRow

CANCELLED, EXPIRED = "cancelled", "expired"

#: How long a hold's Idempotency-Key is remembered: a retry within this answers the same
#: booking; after it the key is forgotten and may be used again.
IDEMPOTENCY_WINDOW_S = 24 * 3600.0


class KeyReused(Invalid):
    """The Idempotency-Key was sent before with a different request."""


def _lock_offer(s: Session, offer_id: int, now: float) -> OfferRow | None:
    offer = lock_offer(s, offer_id)
    if offer is not None:
        offer.updated_at = now
    return offer


def expire_holds(catalog: Catalog, now: float) -> int:
    """Mark lapsed holds expired, recording an ``updated`` event for each offer whose
    availability rose; returns how many holds expired. One transaction per asset, its locks
    taken in order; hosts running this at once expire each hold once (the second finds it no
    longer held) and record its event once."""
    with catalog.session() as s:
        assets = s.execute(
            select(BookingRow.owner_tenant_id, BookingRow.asset_id).distinct()
            .where(BookingRow.status == HELD, BookingRow.hold_expires_at <= now)
            .order_by(BookingRow.owner_tenant_id, BookingRow.asset_id)
        ).all()
    expired = 0
    for tenant_id, asset_id in assets:
        with catalog.session() as s:
            lock_asset(s, tenant_id, asset_id)
            expired += _expire_holds(s, now, BookingRow.owner_tenant_id == tenant_id,
                                     BookingRow.asset_id == asset_id)
    forget_lapsed_keys(catalog, now)
    return expired


def forget_lapsed_keys(catalog: Catalog, now: float) -> int:
    """Delete the Idempotency-Keys older than :data:`IDEMPOTENCY_WINDOW_S`; returns how many.
    Looks first, so the usual run (nothing lapsed) takes no write lock."""
    lapsed = BookingIdempotencyRow.expires_at <= now
    with catalog.session() as s:
        if not s.scalar(select(exists().where(lapsed))):
            return 0
        deleted = s.execute(delete(BookingIdempotencyRow).where(lapsed))
        return int(getattr(deleted, "rowcount", 0) or 0)


def _expire_holds(s: Session, now: float, *scope: ColumnElement[bool]) -> int:
    """Expire the lapsed holds in ``scope``; the caller holds the lock of their asset."""
    lapsed = s.execute(
        update(BookingRow)
        .where(BookingRow.status == HELD, BookingRow.hold_expires_at <= now, *scope)
        .values(status=EXPIRED, updated_at=now)
        .returning(BookingRow.offer_id)
        .execution_options(synchronize_session="fetch")
    )
    offer_ids = list(lapsed.scalars().all())
    for offer in lock_offers(s, OfferRow.id.in_(set(offer_ids))):
        if offer.status == "live":  # a withdrawn offer stays a tombstone
            offer.updated_at = now
            record_offer_event(s, offer, "updated", now)
    return len(offer_ids)


def hold(
    catalog: Catalog, caller: Caller, offer_id: int, quantity: float, hold_s: float, now: float
) -> BookingRow:
    """Hold ``quantity`` of a visible offer for ``hold_s`` seconds, after expiring the offer's
    lapsed holds (their quantity counts as available again)."""
    with catalog.session() as s:
        booking = _hold(s, caller, offer_id, quantity, hold_s, now)
        s.flush()
        return booking


def hold_once(
    catalog: Catalog,
    caller: Caller,
    key: str,
    offer_id: int,
    quantity: float,
    hold_s: float,
    now: float,
) -> tuple[BookingRow, bool]:
    """:func:`hold`, at most once per Idempotency-Key of the caller's tenant in
    :data:`IDEMPOTENCY_WINDOW_S`: returns the booking and whether it was made before (a retry).
    The same key with another offer, quantity or hold time is :class:`KeyReused`. A refused
    hold remembers nothing (it changed nothing), so its retry is tried afresh.

    The key row is written before anything else in the hold's transaction; of two requests
    racing with one key, the second's insert waits for the first to commit and then fails
    on the primary key, and that request answers the first one's booking."""
    fingerprint = _fingerprint(offer_id, quantity, hold_s)
    for attempt in (1, 2):
        made = _remembered(catalog, caller.tenant_id, key, fingerprint, now)
        if made is not None:
            return made, True
        try:
            with catalog.session() as s:
                mark = BookingIdempotencyRow(
                    tenant_id=caller.tenant_id, key=key, fingerprint=fingerprint,
                    created_at=now, expires_at=now + IDEMPOTENCY_WINDOW_S,
                )
                # A lapsed row of the key (not yet purged) makes way for the new one.
                s.execute(delete(BookingIdempotencyRow).where(
                    *_same_key(caller.tenant_id, key), BookingIdempotencyRow.expires_at <= now))
                s.add(mark)
                s.flush()
                booking = _hold(s, caller, offer_id, quantity, hold_s, now)
                s.flush()
                mark.booking_id = booking.id
                return booking, False
        except StoreError as err:
            if attempt == 2 or not isinstance(err.__cause__, IntegrityError):
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


def _fingerprint(offer_id: int, quantity: float, hold_s: float) -> str:
    """What makes two holds the same request (the body after defaults, not its bytes)."""
    values = json.dumps([offer_id, float(quantity), float(hold_s)]).encode()
    return hashlib.sha256(values).hexdigest()


def _same_key(tenant_id: str, key: str) -> tuple[ColumnElement[bool], ...]:
    return BookingIdempotencyRow.tenant_id == tenant_id, BookingIdempotencyRow.key == key


def _remembered(
    catalog: Catalog, tenant_id: str, key: str, fingerprint: str, now: float
) -> BookingRow | None:
    """The booking a live key of the tenant made, else None; :class:`KeyReused` if the key
    came with another request."""
    with catalog.session() as s:
        mark = s.scalar(select(BookingIdempotencyRow).where(
            *_same_key(tenant_id, key), BookingIdempotencyRow.expires_at > now))
        if mark is None or mark.booking_id is None:
            return None
        if mark.fingerprint != fingerprint:
            raise KeyReused(
                "this Idempotency-Key was used with another request: use a new key for a "
                "new booking", field="Idempotency-Key",
            )
        return s.get(BookingRow, mark.booking_id)


def _hold(
    s: Session, caller: Caller, offer_id: int, quantity: float, hold_s: float, now: float
) -> BookingRow:
    offer = _lock_offer(s, offer_id, now)
    if offer is None or not can_see(s, caller, offer.tenant_id, offer.visibility):
        raise NotFound(f"no offer {offer_id}")
    _expire_holds(s, now, BookingRow.offer_id == offer_id)
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
    return newest_first(catalog, q, b.id, before, limit)


def confirm(catalog: Catalog, caller: Caller, booking_id: int, now: float) -> BookingRow:
    """The booker turns a live hold into a booking."""
    with catalog.session() as s:
        row = _find(s, caller, booking_id)
        _lock_offer(s, row.offer_id, now)
        s.refresh(row)  # read before the lock: another request may have changed it since
        if row.tenant_id != caller.tenant_id:
            raise Forbidden("only the booker confirms")
        if row.status == HELD and row.hold_expires_at <= now:
            _expire_holds(s, now, BookingRow.offer_id == row.offer_id)
            s.refresh(row)
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
        audit.record(s, caller.tenant_id, caller.key_id, "booking.cancelled", str(row.id), at=now)
        if offer is not None and offer.status == "live":
            record_offer_event(s, offer, "updated", now)
        return row
