"""The offer change log that feeds and webhooks read: each change of an offer appends an event
holding the offer's full state, in the transaction of the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from storage.catalog.bookings import booked_quantity
from storage.catalog.models import OfferEventRow, OfferRow


def offer_snapshot(offer: OfferRow) -> dict[str, Any]:
    """The fields of an offer a feed consumer needs, as stored in its events."""
    return {
        "id": offer.id, "tenant": offer.tenant_id, "asset": offer.asset_id, "kind": offer.kind,
        "quantity": offer.quantity, "unit": offer.unit, "start": offer.start, "end": offer.end,
        "confidence": offer.confidence, "method": offer.method, "lat": offer.lat,
        "lon": offer.lon, "price_per_unit_hour": offer.price_per_unit_hour,
        "currency": offer.currency, "visibility": offer.visibility, "status": offer.status,
        "capabilities": list(offer.capabilities or ()),
        "material": offer.material,
    }


def record_offer_event(session: Session, offer: OfferRow, type_: str, at: float,
                       booked: float | None = None) -> None:
    """Append an event for ``offer`` in the caller's transaction: the change and its event
    commit together or not at all. A new offer is flushed first, for its id; ``booked``, when
    the caller knows it (analytics' publish), saves a query per event."""
    if offer.id is None:
        session.flush()
    if booked is None:
        session.flush()  # the caller's pending booking changes count
        booked = booked_quantity(session, offer.id, at)
    # "available" makes each event a full state, so feed consumers can replay idempotently.
    snapshot = offer_snapshot(offer)
    snapshot["available"] = max(offer.quantity - booked, 0.0)
    session.add(OfferEventRow(offer_id=offer.id, tenant_id=offer.tenant_id, type=type_, at=at,
                              visibility=offer.visibility, snapshot=snapshot))
