"""Request and response models for tenants, keys, asset changes and sharing policies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.params import KindName

#: Ids as the wire format allows them in topics (see idleshare.assets.check_id).
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Capability = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,32}$")]
Role = Literal["owner", "viewer", "platform"]


def _examples(*examples: dict[str, object]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


class TenantPublic(BaseModel):
    model_config = _examples(
        {
            "id": "acme",
            "name": "ACME Logistics",
            "groups": ["acme-group"],
            "partners": ["globex"],
            "partner_of": ["initech"],
        }
    )

    id: str
    name: str
    groups: list[str] = Field(description="groups the tenant belongs to")
    partners: list[str] = Field(description="tenants this one shares `partners` offers with")
    partner_of: list[str] = Field(description="tenants that share `partners` offers with this one")


class KeyCreate(BaseModel):
    model_config = _examples({"role": "platform", "name": "marketplace sync"})

    role: Role = "viewer"
    name: Annotated[str, StringConstraints(max_length=200)] = ""


class KeyPublic(BaseModel):
    model_config = _examples(
        {
            "id": 3,
            "role": "viewer",
            "name": "dashboard",
            "prefix": "idl_Xy3k",
            "created_at": "2024-05-01T10:00:00Z",
        }
    )

    id: int
    role: str
    name: str
    prefix: str = Field(description="first characters of the key, to recognise it")
    created_at: datetime


class KeyCreated(KeyPublic):
    model_config = _examples(
        {
            "id": 3,
            "role": "viewer",
            "name": "dashboard",
            "prefix": "idl_Xy3k",
            "created_at": "2024-05-01T10:00:00Z",
            "key": "idl_Xy3k...",
        }
    )

    key: str = Field(description="the key itself: shown this once, only its hash is stored")


class AssetCreate(BaseModel):
    model_config = _examples(
        {
            "id": "zone-b",
            "kind": "warehouse_zone",
            "name": "Hall B",
            "capacity": 250,
            "unit": "pallet",
            "lat": 52.5,
            "lon": 13.4,
        }
    )

    id: Id
    kind: KindName
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    capacity: float = Field(gt=0, le=1e9)
    unit: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    lat: float = Field(0.0, ge=-90, le=90)
    lon: float = Field(0.0, ge=-180, le=180)


class AssetUpdate(BaseModel):
    """Only the fields given change."""

    model_config = _examples({"name": "Hall B (north)", "capacity": 260})

    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    capacity: float | None = Field(None, gt=0, le=1e9)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class PolicyBody(BaseModel):
    """An owner's sharing rules for one asset; keys left out take the defaults."""

    model_config = _examples(
        {
            "visibility": "partners",
            "price_per_unit_hour": 0.08,
            "reserve_fraction": 0.2,
            "blackout_hours": [7, 8],
            "timezone": "Europe/Berlin",
            "lead_time_s": 3600,
            "capabilities": ["forklift"],
        }
    )

    min_free_fraction: float | None = Field(None, gt=0, le=1)
    min_duration_s: float | None = Field(None, gt=0, le=366 * 86400)
    reserve_fraction: float | None = Field(None, ge=0, lt=1)
    min_quantity: float | None = Field(None, ge=0, le=1e9)
    price_per_unit_hour: float | None = Field(None, ge=0, le=1e6)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    visibility: Literal["private", "group", "partners", "public"] | None = None
    blackout_hours: list[Annotated[int, Field(ge=0, le=23)]] | None = Field(
        None, max_length=24, description="hours of the day never offered, in `timezone`"
    )
    timezone: str | None = Field(
        None, min_length=1, max_length=64,
        description="IANA time zone of the site (default UTC), e.g. Europe/Berlin",
    )
    lead_time_s: float | None = Field(
        None, ge=0, le=30 * 86400, description="offers start at least this long after now"
    )
    capabilities: list[Capability] | None = Field(None, max_length=32)


class PolicyPublic(BaseModel):
    model_config = _examples(
        {
            "asset": "zone-a",
            "overrides": {"visibility": "partners"},
            "effective": {"min_free_fraction": 0.5, "visibility": "partners"},
        }
    )

    asset: str
    overrides: dict[str, object] = Field(description="what the owner set")
    effective: dict[str, object] = Field(description="overrides merged over the defaults")


class AssetStatusPublic(BaseModel):
    model_config = _examples(
        {
            "asset": "zone-a",
            "online": True,
            "status_at": "2024-05-01T10:00:00Z",
            "last_reading_at": "2024-05-01T10:04:00Z",
            "reading_age_s": 42.0,
        }
    )

    asset: str
    online: bool = Field(description="from the agent's birth (online) and last will (offline)")
    status_at: datetime | None
    last_reading_at: datetime | None = Field(description="null: none in the last 7 days")
    reading_age_s: float | None


class ForecastSlot(BaseModel):
    start: datetime
    end: datetime
    quantity: float = Field(description="free quantity expected for the whole slot")
    confidence: float


class ForecastPublic(BaseModel):
    model_config = _examples(
        {
            "asset": "zone-a",
            "unit": "pallet",
            "lookback_s": 604800.0,
            "slots": [
                {
                    "start": "2024-05-02T18:00:00Z",
                    "end": "2024-05-03T06:00:00Z",
                    "quantity": 180.0,
                    "confidence": 0.86,
                }
            ],
        }
    )

    asset: str
    unit: str
    lookback_s: float
    slots: list[ForecastSlot]
