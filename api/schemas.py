"""Response models, kept apart from the catalog's rows: times are ISO 8601 UTC, names are the
API's own (``tenant``, ``asset``), and internal columns (policy, agent, key hashes) stay out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from storage.catalog import AssetRow, IdleWindowRow, OfferRow

T = TypeVar("T")


def utc(epoch: float) -> datetime:
    # Explicit, because pydantic would read numbers above 2e10 as milliseconds.
    return datetime.fromtimestamp(epoch, UTC)


def _examples(*examples: dict[str, object]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` as ``cursor`` for the next, until it is null."""

    items: list[T]
    next_cursor: str | None = Field(description="null on the last page")


class AssetPublic(BaseModel):
    model_config = _examples(
        {
            "id": "zone-a",
            "tenant": "acme",
            "kind": "warehouse_zone",
            "name": "Hall A, bays 1-40",
            "capacity": 400.0,
            "unit": "pallet",
            "lat": 52.52,
            "lon": 13.405,
            "metrics": ["occupied"],
            "online": True,
            "status_at": "2024-05-01T10:00:00Z",
        }
    )

    id: str
    tenant: str
    kind: str
    name: str
    capacity: float
    unit: str
    lat: float
    lon: float
    metrics: list[str]
    online: bool
    status_at: datetime | None = Field(description="when online last changed; null if never")

    @classmethod
    def from_row(cls, row: AssetRow) -> AssetPublic:
        return cls(
            id=row.id,
            tenant=row.tenant_id,
            kind=row.kind,
            name=row.name,
            capacity=row.capacity,
            unit=row.unit,
            lat=row.lat,
            lon=row.lon,
            metrics=list(row.metrics or ()),
            online=row.online,
            status_at=utc(row.status_at) if row.status_at else None,
        )


class UtilisationPoint(BaseModel):
    start: datetime = Field(description="start of the bucket")
    utilisation: float | None = Field(description="0..1; null where there is no data")
    coverage: float = Field(description="share of the bucket covered by readings, 0..1")


class UtilisationPublic(BaseModel):
    model_config = _examples(
        {
            "asset": "zone-a",
            "bucket_s": 3600.0,
            "points": [
                {"start": "2024-05-01T09:00:00Z", "utilisation": 0.62, "coverage": 1.0},
                {"start": "2024-05-01T10:00:00Z", "utilisation": None, "coverage": 0.0},
            ],
        }
    )

    asset: str
    bucket_s: float
    points: list[UtilisationPoint]


class IdleWindowPublic(BaseModel):
    model_config = _examples(
        {
            "asset": "zone-a",
            "start": "2024-05-01T18:00:00Z",
            "end": "2024-05-02T06:00:00Z",
            "min_free": 220.0,
            "mean_free": 260.5,
            "unit": "pallet",
            "ongoing": False,
        }
    )

    asset: str
    start: datetime
    end: datetime
    min_free: float = Field(description="least free quantity during the window")
    mean_free: float
    unit: str
    ongoing: bool = Field(description="true while the window has not closed yet")

    @classmethod
    def from_row(cls, row: IdleWindowRow, unit: str) -> IdleWindowPublic:
        return cls(
            asset=row.asset_id,
            start=utc(row.start),
            end=utc(row.end),
            min_free=row.min_free,
            mean_free=row.mean_free,
            unit=unit,
            ongoing=row.ongoing,
        )


class Location(BaseModel):
    lat: float
    lon: float


class OfferPublic(BaseModel):
    model_config = _examples(
        {
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
    )

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

    @classmethod
    def from_row(cls, row: OfferRow, booked: float = 0.0) -> OfferPublic:
        return cls(
            id=row.id,
            tenant=row.tenant_id,
            asset=row.asset_id,
            kind=row.kind,
            quantity=row.quantity,
            unit=row.unit,
            start=utc(row.start),
            end=utc(row.end),
            confidence=row.confidence,
            method=row.method,
            location=Location(lat=row.lat, lon=row.lon),
            price_per_unit_hour=row.price_per_unit_hour,
            currency=row.currency,
            visibility=row.visibility,
            status=row.status,
            available=max(row.quantity - booked, 0.0),
            capabilities=list(row.capabilities or ()),
        )


class HealthPublic(BaseModel):
    model_config = _examples({"status": "ok", "catalog": "ok", "readings": "ok"})

    status: str = Field(description='"ok" when both stores answer, else "degraded"')
    catalog: str
    readings: str


def iso(epoch: float) -> str:
    """What pydantic writes for ``utc(epoch)``, without building a model."""
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def offer_json(row: Any, booked: float) -> dict[str, Any]:
    """:class:`OfferPublic` as JSON-ready data straight from an ``offers`` table row: the
    search hot path, where building and re-validating models took most of the time.
    ``tests/api/routes/test_offers.py`` checks it matches the model."""
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
    }
