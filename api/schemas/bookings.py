"""Bookings: a hold asked for, and a booking as its booker and the asset's owner see it."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import Header
from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator

from api.schemas.common import RowPublic, UtcTime, examples
from market.bookings import IDEMPOTENCY_WINDOW_S
from storage.catalog import HELD

BookingStatus = Literal["held", "confirmed", "cancelled", "expired"]

#: The Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header): a Structured Field
#: String (RFC 8941: in double quotes, a backslash escaping ``"`` and itself), or the same
#: characters bare, as many clients send it.
_SF_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_BARE_KEY = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
MAX_KEY_LENGTH = 200


def idempotency_key(value: str | None) -> str | None:
    """The key an Idempotency-Key header carries (quotes and escapes removed)."""
    if value is None:
        return None
    quoted = _SF_STRING.fullmatch(value)
    if quoted:
        key = re.sub(r"\\(.)", r"\1", quoted.group(1))
    elif _BARE_KEY.fullmatch(value):
        key = value
    else:
        raise ValueError('expected a quoted string of printable ASCII, e.g. "8e03978e-40d5-43e8"')
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValueError(f"an Idempotency-Key has 1 to {MAX_KEY_LENGTH} characters")
    return key


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="One key per booking you mean to make (a UUID), sent again with every "
        "retry of it: a retry answers the booking the first request made, never a second "
        f"hold. Remembered for {IDEMPOTENCY_WINDOW_S / 3600:g} h per tenant; another request "
        "with the same key is a 422.",
        examples=['"8e03978e-40d5-43e8-bc93-6894a57f9324"'],
    ),
    AfterValidator(idempotency_key),
]


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
