"""The impact of a tenant's confirmed bookings over a period (method: docs/impact.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import examples, utc
from market.impact import ImpactReport, Tally
from market.impact_factors import FACTORS, EmissionFactor


class Measures(BaseModel):
    bookings: int = Field(description="confirmed bookings counted")
    tonne_km: float | None = Field(description="freight moved on existing legs; null if none")
    tonnes_diverted: float | None = Field(
        description="by-product collected for use instead of disposal, in tonnes; null where "
        "no booking's quantity is a mass")
    kg_co2e_avoided: float | None = Field(
        description="estimated, with the factors listed; null where no sourced factor applies")
    bookings_without_co2e: int = Field(description="bookings with no CO2e figure")
    factors: list[str] = Field(description="ids of the emission factors used")
    revenue: dict[str, float] = Field(
        description="what the bookings are worth at their offers' prices, per currency (a "
        "leg priced per tonne: tonnes x that price; else quantity x hours x the unit-hour "
        "price)")

    @staticmethod
    def values(t: Tally) -> dict[str, Any]:
        return {"bookings": t.bookings, "tonne_km": t.tonne_km,
                "tonnes_diverted": t.tonnes_diverted, "kg_co2e_avoided": t.kg_co2e_avoided,
                "bookings_without_co2e": t.bookings_without_co2e, "factors": sorted(t.factors),
                "revenue": {c: round(v, 2) for c, v in sorted(t.revenue.items())}}


class KindImpact(Measures):
    kind: str
    unit: str
    quantity: float = Field(description="quantity booked, in unit")
    capacity_hours: float | None = Field(
        description="quantity x hours of the bookings accounted as shared capacity, in unit-h")


class ImpactPublic(BaseModel):
    model_config = examples(
        {
            "start": "2024-05-01T00:00:00Z",
            "end": "2024-06-01T00:00:00Z",
            "total": {"bookings": 3, "tonne_km": None, "tonnes_diverted": 4.5,
                      "kg_co2e_avoided": None, "bookings_without_co2e": 3, "factors": [],
                      "revenue": {"EUR": 64.8}},
            "kinds": [
                {"kind": "warehouse_zone", "unit": "pallet", "bookings": 2, "quantity": 60.0,
                 "capacity_hours": 720.0, "tonne_km": None, "tonnes_diverted": None,
                 "kg_co2e_avoided": None, "bookings_without_co2e": 2, "factors": [],
                 "revenue": {"EUR": 57.6}},
                {"kind": "container", "unit": "t", "bookings": 1, "quantity": 4.5,
                 "capacity_hours": None, "tonne_km": None, "tonnes_diverted": 4.5,
                 "kg_co2e_avoided": None, "bookings_without_co2e": 1, "factors": [],
                 "revenue": {"EUR": 7.2}},
            ],
            "factors": [],
        }
    )

    start: datetime
    end: datetime
    total: Measures = Field(description="over every kind (quantities of different units are "
                            "not added: see kinds)")
    kinds: list[KindImpact]
    # The table's own rows (a dataclass pydantic documents and serialises as it is).
    factors: list[EmissionFactor] = Field(description="the factors used, with their sources")

    @classmethod
    def of(cls, start: float, end: float, report: ImpactReport) -> ImpactPublic:
        kinds = [KindImpact(kind=kind, unit=unit, quantity=t.quantity,
                            capacity_hours=t.capacity_hours, **Measures.values(t))
                 for (kind, unit), t in report.kinds.items()]
        return cls(start=utc(start), end=utc(end),
                   total=Measures(**Measures.values(report.total)), kinds=kinds,
                   factors=[FACTORS[i] for i in sorted(report.total.factors)])
