"""Offers as search, the offer routes and the feeds answer them. The data comes ready from
:func:`market.offers.offer_json`; this model documents and checks it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.common import Location, examples

#: The example offer of /docs, also used by the feeds' examples.
OFFER_EXAMPLE: dict[str, object] = {
    "id": 17,
    "tenant": "acme",
    "asset": "zone-a",
    "kind": "warehouse_zone",
    "quantity": 180.0,
    "unit": "pallet",
    "start": "2024-05-02T18:00:00Z",
    "end": "2024-05-03T06:00:00Z",
    "confidence": 0.8,
    "method": "seasonal_naive",
    "location": {"lat": 52.52, "lon": 13.405},
    "price_per_unit_hour": 0.05,
    "currency": "EUR",
    "visibility": "public",
    "status": "live",
    "available": 140.0,
    "capabilities": ["forklift"],
}


class OfferPublic(BaseModel):
    model_config = examples(OFFER_EXAMPLE)

    id: int
    tenant: str
    asset: str
    kind: str
    quantity: float
    unit: str
    start: datetime
    end: datetime
    confidence: float = Field(description="chance the quantity is free for the whole window")
    method: str = Field(description="forecasting method that produced the offer")
    location: Location
    price_per_unit_hour: float
    currency: str
    visibility: str
    status: str
    available: float = Field(description="quantity not held or booked yet")
    capabilities: list[str]
