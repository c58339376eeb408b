"""Idle windows of the caller's assets."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.common import examples, utc
from storage.catalog import IdleWindowRow


class IdleWindowPublic(BaseModel):
    model_config = examples(
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
