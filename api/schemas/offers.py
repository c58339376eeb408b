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
    "leg": None,
    "material": None,
}

#: A leg offer's ``leg``, as in /docs' example of a leg offer.
LEG_EXAMPLE: dict[str, object] = {
    "leg_id": "truck-7:Duisburg>Rotterdam@0630",
    "origin": {"lat": 51.43, "lon": 6.76, "radius_km": 10.0, "name": "Duisburg"},
    "destination": {"lat": 51.92, "lon": 4.48, "radius_km": 10.0, "name": "Rotterdam"},
    "arrival_estimate": "2024-05-02T09:10:00Z",
    "distance_km": 205.4,
    "price_per_tonne": 12.5,
    "run_share": 0.92,
}


class Area(BaseModel):
    lat: float
    lon: float
    radius_km: float = Field(description="the area's radius around the point")
    name: str | None = Field(None, description="the nearest named place, if one is near")


class LegPublic(BaseModel):
    """The kind-specific part of a leg offer: capacity on a recurring trip of a vehicle. The
    offer's `start`/`end` are the departure window, `location` the origin, `quantity` the
    free payload (t) after the owner's reserve."""

    model_config = examples(LEG_EXAMPLE)

    leg_id: str
    origin: Area
    destination: Area
    arrival_estimate: datetime
    distance_km: float
    price_per_tonne: float | None = Field(description="the owner's price per tonne on the leg")
    run_share: float = Field(description="share of its scheduled dates on which the leg ran")


#: A by-product offer's ``material``, as in /docs' example.
MATERIAL_OFFERED_EXAMPLE: dict[str, object] = {
    "code": "03 01 05",
    "description": "sawdust and wood shavings from untreated timber",
    "hazardous": False,
    "density_t_per_m3": 0.21,
    "emptied_at": "2024-05-01T07:40:00Z",
}


class MaterialOffered(BaseModel):
    """The kind-specific part of a by-product offer: the material a container holds, for
    collection. The offer's `start`/`end` are the collection window (from when the fill is
    expected worth collecting until it is expected full), `location` the container's,
    `quantity` the fill's lower estimate at the window's opening after the owner's reserve."""

    model_config = examples(MATERIAL_OFFERED_EXAMPLE)

    code: str = Field(description="European Waste Catalogue (EURAL) code in pairs")
    description: str
    hazardous: bool = Field(description="a hazardous (starred) entry of the EWC")
    density_t_per_m3: float | None = Field(description="bulk density; null: not declared")
    emptied_at: datetime | None = Field(
        description="the emptying this fill began after; null: none seen")


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
    leg: LegPublic | None = Field(None, description="a leg offer's leg; null for other offers")
    material: MaterialOffered | None = Field(
        None, description="a by-product offer's material; null for other offers")
