"""Which bookings take an offer's capacity: the one definition that booking, search, feeds and
the publishing of new offers all apply, so they never disagree about what is still free."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from storage.catalog.models import BookingRow

#: Booking states that take capacity: a hold until it expires, a confirmed booking always.
HELD, CONFIRMED = "held", "confirmed"


def counts(now: float) -> ColumnElement[bool]:
    """The SQL condition on :class:`BookingRow` for "takes capacity at ``now``": confirmed, or
    held with the hold not yet expired. A condition rather than a query, so each caller adds
    its own scope (one offer, one asset, correlated per offer)."""
    b = BookingRow
    return or_(b.status == CONFIRMED, and_(b.status == HELD, b.hold_expires_at > now))


def booked_quantity(session: Session, offer_id: int, now: float) -> float:
    """Quantity of an offer taken by live holds and confirmed bookings."""
    b = BookingRow
    taken = session.scalar(
        select(func.coalesce(func.sum(b.quantity), 0.0)).where(b.offer_id == offer_id, counts(now))
    )
    return float(taken or 0.0)
