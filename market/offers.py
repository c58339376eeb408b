"""One offer as the caller may see it and withdrawing an offer; offers as JSON-ready data,
the shape the API's ``OfferPublic`` documents and webhooks send."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from market.caller import Caller
from market.errors import Conflict, NotFound
from market.visibility import can_see
from storage.catalog import Catalog, OfferRow, booked_quantity, record_offer_event


def iso(epoch: float) -> str:
    """ISO 8601 UTC with a ``Z``, as pydantic writes a UTC datetime."""
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def leg_json(leg: Mapping[str, Any] | str | bytes | None) -> dict[str, Any] | None:
    """A leg offer's stored ``leg`` (epoch seconds; text from a raw SQLite row) as the API
    answers it, ISO times; None for other offers. The one rendering of a leg: search, one
    offer, the snapshot and the change feed (so webhooks) all answer through it."""
    if leg is None:
        return None
    if isinstance(leg, str | bytes):
        leg = orjson.loads(leg)
        if leg is None:
            return None
    assert isinstance(leg, Mapping)
    return {**leg, "arrival_estimate": iso(leg["arrival_estimate"])}


def material_json(material: Mapping[str, Any] | str | bytes | None) -> dict[str, Any] | None:
    """A by-product offer's stored ``material`` (text from a raw SQLite row) as the API
    answers it: the declared material and the emptying its cycle began with (ISO time, null
    if none seen); None for other offers. The one rendering, as :func:`leg_json` is of legs."""
    if isinstance(material, str | bytes):
        material = orjson.loads(material)
    if material is None:
        return None
    assert isinstance(material, Mapping)
    emptied = material.get("emptied_at")
    return {**material, "emptied_at": None if emptied is None else iso(emptied)}


def offer_json(row: Any, booked: float) -> dict[str, Any]:
    """An offer straight from an ``offers`` row (ORM object or plain table row): the search hot
    path, where building and re-validating models took most of the time."""
    return {
        "id": row.id,
        "tenant": row.tenant_id,
        "asset": row.asset_id,
        "kind": row.kind,
        "quantity": row.quantity,
        "unit": row.unit,
        "start": iso(row.start),
        "end": iso(row.end),
        "confidence": row.confidence,
        "method": row.method,
        "location": {"lat": row.lat, "lon": row.lon},
        "price_per_unit_hour": row.price_per_unit_hour,
        "currency": row.currency,
        "visibility": row.visibility,
        "status": row.status,
        "available": max(row.quantity - booked, 0.0),
        "capabilities": list(row.capabilities or ()),
        "leg": leg_json(row.leg),
        "material": material_json(row.material),
    }


def snapshot_json(snap: Mapping[str, Any], leg: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The same shape from an offer event's snapshot (:func:`storage.catalog.offer_snapshot`);
    ``leg``: the offer's leg as its row holds it now, which the snapshot does not hold."""
    return {
        "id": snap["id"],
        "tenant": snap["tenant"],
        "asset": snap["asset"],
        "kind": snap["kind"],
        "quantity": snap["quantity"],
        "unit": snap["unit"],
        "start": iso(snap["start"]),
        "end": iso(snap["end"]),
        "confidence": snap["confidence"],
        "method": snap["method"],
        "location": {"lat": snap["lat"], "lon": snap["lon"]},
        "price_per_unit_hour": snap["price_per_unit_hour"],
        "currency": snap["currency"],
        "visibility": snap["visibility"],
        "status": snap["status"],
        "available": snap.get("available", snap["quantity"]),
        "capabilities": list(snap.get("capabilities", ())),
        "leg": leg_json(snap.get("leg", leg)),
        "material": material_json(snap.get("material")),
    }


def loadboard_json(offer: Mapping[str, Any]) -> dict[str, Any]:
    """A leg offer (:func:`offer_json`'s shape) as a freight load board lists capacity: origin,
    destination, pick-up window, equipment, weight still free (t); :class:`NotFound` for an
    offer without a leg."""
    leg = offer.get("leg")
    if leg is None:
        raise NotFound(f"offer {offer['id']} is not a leg offer")
    return {
        "id": offer["id"], "carrier": offer["tenant"], "vehicle": offer["asset"],
        "origin": leg["origin"], "destination": leg["destination"],
        "pickup_window": {"earliest": offer["start"], "latest": offer["end"]},
        "delivery_estimate": leg["arrival_estimate"], "distance_km": leg["distance_km"],
        "equipment": offer["capabilities"], "weight_t": offer["available"],
        "rate_per_tonne": leg["price_per_tonne"], "currency": offer["currency"],
        "status": offer["status"],
    }


def _visible(s: Session, caller: Caller, offer_id: int) -> OfferRow:
    row = s.get(OfferRow, offer_id)
    if row is None or not can_see(s, caller, row.tenant_id, row.visibility):
        raise NotFound(f"no offer {offer_id}")
    return row


def read(catalog: Catalog, caller: Caller, offer_id: int) -> dict[str, Any]:
    """The offer if the caller may see it, else :class:`NotFound`."""
    with catalog.session() as s:
        row = _visible(s, caller, offer_id)
        return offer_json(row, booked_quantity(s, row.id, time.time()))


def withdraw(catalog: Catalog, caller: Caller, offer_id: int, now: float) -> dict[str, Any]:
    """Take one of the caller's live offers off the market, recording a tombstone event;
    bookings already made stand."""
    with catalog.session() as s:
        row = s.get(OfferRow, offer_id)
        if row is None or row.tenant_id != caller.tenant_id:
            raise NotFound(f"no offer {offer_id}")
        if row.status != "live":
            raise Conflict(f"offer {offer_id} is {row.status}")
        row.status, row.updated_at = "withdrawn", now
        record_offer_event(s, row, "withdrawn", now)
        return offer_json(row, booked_quantity(s, row.id, now))
