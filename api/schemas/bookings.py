"""Bookings: a hold asked for, and a booking as its booker and the asset's owner see it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from api.schemas.common import RowPublic, UtcTime, examples
from storage.catalog import HELD

BookingStatus = Literal["held", "confirmed", "cancelled", "expired"]


class BookingCreate(BaseModel):
    model_config = examples({"offer_id": 17, "quantity": 40, "hold_s": 900}, forbid=True)

    offer_id: int = Field(ge=1, le=2**53)
    quantity: float = Field(gt=0, le=1e12, description="in the offer's unit")
    hold_s: float = Field(900.0, ge=10, le=86400, description="the hold expires after this")


class BookingPublic(RowPublic):
    model_config = examples(
        {
            "id": 5,
            "offer_id": 17,
            "tenant": "marketplace",
            "owner": "acme",
            "asset": "zone-a",
            "quantity": 40.0,
            "start": "2024-05-02T18:00:00Z",
            "end": "2024-05-03T06:00:00Z",
            "status": "held",
            "hold_expires_at": "2024-05-02T10:15:00Z",
            "created_at": "2024-05-02T10:00:00Z",
            "updated_at": "2024-05-02T10:00:00Z",
        },
        forbid=True,
    )

    id: int
    offer_id: int
    tenant: str = Field(validation_alias="tenant_id", description="who booked")
    owner: str = Field(validation_alias="owner_tenant_id", description="whose asset it is")
    asset: str = Field(validation_alias="asset_id")
    quantity: float
    start: UtcTime
    end: UtcTime
    status: BookingStatus
    hold_expires_at: UtcTime | None = Field(description="null once confirmed or ended")
    created_at: UtcTime
    updated_at: UtcTime

    @field_validator("hold_expires_at", mode="before")
    @classmethod
    def _only_while_held(cls, expires_at: object, info: ValidationInfo) -> object:
        # The column keeps the hold's end after it was confirmed or ended.
        return expires_at if info.data.get("status") == HELD else None
