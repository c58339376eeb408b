"""The API's JSON as typed, immutable values: offers, changes of the change feed, bookings,
webhook subscriptions and deliveries. ``from_json`` reads the API's shape; ``Offer.to_json``
writes it back (what a store keeps)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def parse_time(text: str) -> datetime:
    """An API instant ("2024-05-02T18:00:00Z") as an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def format_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float


@dataclass(frozen=True)
class Offer:
    """An offer as search and the feeds answer it; ``available`` is what is not held yet."""

    id: int
    tenant: str
    asset: str
    kind: str
    quantity: float
    unit: str
    start: datetime
    end: datetime
    confidence: float
    method: str
    location: Location
    price_per_unit_hour: float
    currency: str
    visibility: str
    status: str
    available: float
    capabilities: tuple[str, ...]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Offer:
        return cls(
            id=int(d["id"]), tenant=d["tenant"], asset=d["asset"], kind=d["kind"],
            quantity=float(d["quantity"]), unit=d["unit"], start=parse_time(d["start"]),
            end=parse_time(d["end"]), confidence=float(d["confidence"]), method=d["method"],
            location=Location(float(d["location"]["lat"]), float(d["location"]["lon"])),
            price_per_unit_hour=float(d["price_per_unit_hour"]), currency=d["currency"],
            visibility=d["visibility"], status=d["status"], available=float(d["available"]),
            capabilities=tuple(d["capabilities"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "tenant": self.tenant, "asset": self.asset, "kind": self.kind,
            "quantity": self.quantity, "unit": self.unit, "start": format_time(self.start),
            "end": format_time(self.end), "confidence": self.confidence, "method": self.method,
            "location": {"lat": self.location.lat, "lon": self.location.lon},
            "price_per_unit_hour": self.price_per_unit_hour, "currency": self.currency,
            "visibility": self.visibility, "status": self.status, "available": self.available,
            "capabilities": list(self.capabilities),
        }


@dataclass(frozen=True)
class OfferChange:
    """One item of the change feed (also the ``event`` of a webhook delivery)."""

    cursor: int
    type: str  # created, updated, withdrawn, booked
    at: datetime
    offer_id: int
    offer: Offer | None  # None: a tombstone of an offer the caller can no longer see

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> OfferChange:
        offer = d.get("offer")
        return cls(cursor=int(d["cursor"]), type=d["type"], at=parse_time(d["at"]),
                   offer_id=int(d["offer_id"]),
                   offer=Offer.from_json(offer) if offer is not None else None)

    @property
    def live_offer(self) -> Offer | None:
        """The offer to keep after this change, or None: drop it (a tombstone, or an offer
        that is no longer live, such as a withdrawn one)."""
        return self.offer if self.offer is not None and self.offer.status == "live" else None


@dataclass(frozen=True)
class Booking:
    id: int
    offer_id: int
    tenant: str  # who booked
    owner: str  # whose asset it is
    asset: str
    quantity: float
    start: datetime
    end: datetime
    status: str  # held, confirmed, cancelled, expired
    hold_expires_at: datetime | None  # None once confirmed or ended
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Booking:
        expires = d.get("hold_expires_at")
        return cls(
            id=int(d["id"]), offer_id=int(d["offer_id"]), tenant=d["tenant"], owner=d["owner"],
            asset=d["asset"], quantity=float(d["quantity"]), start=parse_time(d["start"]),
            end=parse_time(d["end"]), status=d["status"],
            hold_expires_at=parse_time(expires) if expires is not None else None,
            created_at=parse_time(d["created_at"]), updated_at=parse_time(d["updated_at"]),
        )


@dataclass(frozen=True)
class Webhook:
    """A subscription; ``secret`` is only known from its creation (shown once)."""

    id: int
    url: str
    events: tuple[str, ...]
    last_event_id: int
    secret: str | None = None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Webhook:
        return cls(id=int(d["id"]), url=d["url"], events=tuple(d["events"]),
                   last_event_id=int(d["last_event_id"]), secret=d.get("secret"))


@dataclass(frozen=True)
class WebhookDelivery:
    """A verified webhook request: its subscription and the change it tells of. Deliveries
    are at least once: dedupe by ``event.cursor``."""

    webhook: int
    event: OfferChange
