"""Bookings: a hold asked for, and a booking as its booker and the asset's owner see it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast

from pydantic import BaseModel, Field

from api.schemas.common import examples, utc
from storage.catalog import HELD, BookingRow

BookingStatus = Literal["held", "confirmed", "cancelled", "expired"]


class BookingCreate(BaseModel):
    model_config = examples({"offer_id": 17, "quantity": 40, "hold_s": 900}, forbid=True)

    offer_id: int = Field(ge=1, le=2**53)
    quantity: float = Field(gt=0, le=1e12, description="in the offer's unit")
    hold_s: float = Field(900.0, ge=10, le=86400, description="the hold expires after this")


class BookingPublic(BaseModel):
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
    tenant: str = Field(description="who booked")
    owner: str = Field(description="whose asset it is")
    asset: str
    quantity: float
    start: datetime
    end: datetime
    status: BookingStatus
    hold_expires_at: datetime | None = Field(description="null once confirmed or ended")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: BookingRow) -> BookingPublic:
        return cls(
            id=row.id,
            offer_id=row.offer_id,
            tenant=row.tenant_id,
            owner=row.owner_tenant_id,
            asset=row.asset_id,
            quantity=row.quantity,
            start=utc(row.start),
            end=utc(row.end),
            status=cast(BookingStatus, row.status),
            hold_expires_at=utc(row.hold_expires_at) if row.status == HELD else None,
            created_at=utc(row.created_at),
            updated_at=utc(row.updated_at),
        )
