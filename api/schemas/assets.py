"""Assets: the asset itself, its utilisation, status, forecast and sharing policy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from api.params import KindName
from api.schemas.common import Capability, Id, RowPublic, UtcTimeOrNever, examples
from storage.catalog import AssetRow

#: A declared material, as in /docs' examples.
MATERIAL_EXAMPLE: dict[str, object] = {
    "code": "03 01 05",
    "description": "sawdust and wood shavings from untreated timber",
    "hazardous": False,
    "density_t_per_m3": 0.21,
}


class MaterialBody(BaseModel):
    """What a by-product container holds: its European Waste Catalogue (EURAL) code, in
    pairs (`03 01 05`) or six digits; an asterisk (`10 02 07*`) marks it hazardous."""

    model_config = examples(MATERIAL_EXAMPLE, forbid=True)

    code: Annotated[str, StringConstraints(min_length=6, max_length=12)]
    description: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    hazardous: bool | None = Field(
        None, description="a hazardous entry of the EWC (starred); default: the code's star")
    density_t_per_m3: float | None = Field(
        None, gt=0, le=25, description="bulk density, to turn m³ into tonnes for impact")


class MaterialPublic(BaseModel):
    model_config = examples(MATERIAL_EXAMPLE)

    code: str = Field(description="EWC code in pairs, e.g. `03 01 05`")
    description: str
    hazardous: bool
    density_t_per_m3: float | None = Field(description="bulk density (t/m³); null: unknown")


class AssetPublic(RowPublic):
    model_config = examples(
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
    tenant: str = Field(validation_alias="tenant_id")
    kind: str
    name: str
    capacity: float
    unit: str
    lat: float
    lon: float
    metrics: list[str]
    online: bool
    status_at: UtcTimeOrNever = Field(description="when online last changed; null if never")
    material: MaterialPublic | None = Field(
        None, description="a container's declared material; null: none declared")

    @field_validator("metrics", mode="before")
    @classmethod
    def _null_metrics_as_empty(cls, metrics: object) -> object:
        return metrics or []


class AssetCreate(BaseModel):
    model_config = examples(
        {
            "id": "zone-b",
            "kind": "warehouse_zone",
            "name": "Hall B",
            "capacity": 250,
            "unit": "pallet",
            "lat": 52.5,
            "lon": 13.4,
        },
        forbid=True,
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

    model_config = examples({"name": "Hall B (north)", "capacity": 260}, forbid=True)

    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    capacity: float | None = Field(None, gt=0, le=1e9)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class UtilisationPoint(BaseModel):
    start: datetime = Field(description="start of the bucket")
    utilisation: float | None = Field(description="0..1; null where there is no data")
    coverage: float = Field(description="share of the bucket covered by readings, 0..1")


class UtilisationPublic(BaseModel):
    model_config = examples(
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


class AssetStatusPublic(BaseModel):
    model_config = examples(
        {
            "asset": "zone-a",
            "online": True,
            "status_at": "2024-05-01T10:00:00Z",
            "last_reading_at": "2024-05-01T10:04:00Z",
            "reading_age_s": 42.0,
            "agent": "gw-hall-a",
            "queued": 12,
            "dropped": 0,
            "agent_reported_at": "2024-05-01T10:03:00Z",
        },
        forbid=True,
    )

    asset: str
    online: bool = Field(description="from the agent's birth (online) and last will (offline)")
    status_at: datetime | None
    last_reading_at: datetime | None = Field(description="null: none in the last 7 days")
    reading_age_s: float | None
    agent: str | None = Field(description="the agent that registered the asset; null: none")
    queued: int | None = Field(description="readings waiting in the agent's outbox, as its "
                               "latest status said; null: no status recorded")
    dropped: int | None = Field(description="readings the agent ever dropped to stay within its "
                                "disk budget, as its latest status said")
    agent_reported_at: datetime | None = Field(description="when the agent sent that status")


class ForecastSlot(BaseModel):
    """One offer the seasonal-naive analysis would make now, and the history behind it."""

    start: datetime
    end: datetime
    quantity: float = Field(description="free quantity offerable for the whole slot: the least "
                            "free of the latest idle window less the owner's reserve")
    confidence: float = Field(description="share of the same slot in past days that was idle "
                              "(Laplace's rule of succession)")
    p10: float | None = Field(description="free quantity the same hours had in the past days "
                              "of the lookback, 10th percentile (time-weighted); null without "
                              "data")
    median: float | None = Field(description="the same past free quantity, median (P50)")


class ForecastPublic(BaseModel):
    model_config = examples(
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
                    "p10": 176.0,
                    "median": 204.0,
                }
            ],
        },
        forbid=True,
    )

    asset: str
    unit: str
    lookback_s: float
    slots: list[ForecastSlot]


#: One planned-use calendar: an iCalendar text or an https:// feed URL.
CalendarSource = Annotated[str, StringConstraints(min_length=1, max_length=100_000)]


class PolicyBody(BaseModel):
    """An owner's sharing rules for one asset; keys left out take the defaults."""

    model_config = examples(
        {
            "visibility": "partners",
            "price_per_unit_hour": 0.08,
            "reserve_fraction": 0.2,
            "blackout_hours": [7, 8],
            "timezone": "Europe/Berlin",
            "lead_time_s": 3600,
            "capabilities": ["forklift"],
        },
        forbid=True,
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
        None,
        min_length=1,
        max_length=64,
        description="IANA time zone of blackout_hours, e.g. Europe/Berlin (default: the "
        "asset's site's zone, else UTC)",
    )
    lead_time_s: float | None = Field(
        None, ge=0, le=30 * 86400, description="offers start at least this long after now"
    )
    capabilities: list[Capability] | None = Field(None, max_length=32)
    planned_use: list[CalendarSource] | None = Field(
        None, max_length=16, description="the owner's planned use, never offered: iCalendar "
        "texts or https:// feed URLs (recurrences in the event's zone)")
    price_per_tonne: float | None = Field(
        None, ge=0, le=1e6, description="a vehicle's leg offers: price per tonne carried")


class PolicyPublic(BaseModel):
    model_config = examples(
        {
            "asset": "zone-a",
            "overrides": {"visibility": "partners"},
            "effective": {"min_free_fraction": 0.5, "visibility": "partners"},
        },
        forbid=True,
    )

    asset: str
    overrides: dict[str, object] = Field(description="what the owner set")
    effective: dict[str, object] = Field(description="overrides merged over the defaults")

    @classmethod
    def from_row(cls, row: AssetRow) -> PolicyPublic:
        from analytics.policy import effective_policy  # numpy: only when needed

        return cls(
            asset=row.id, overrides=dict(row.policy or {}), effective=effective_policy(row.policy)
        )
