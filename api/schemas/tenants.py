"""The caller's tenant (groups, partners) and its API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from api.schemas.common import RowPublic, UtcTime, UtcTimeOrNever, examples

Role = Literal["owner", "viewer", "platform"]


class TenantPublic(RowPublic):
    model_config = examples(
        {
            "id": "acme",
            "name": "ACME Logistics",
            "groups": ["acme-group"],
            "partners": ["globex"],
            "partner_of": ["initech"],
            "role": "owner",
        },
        forbid=True,
    )

    id: str
    name: str
    groups: list[str] = Field(description="groups the tenant belongs to")
    partners: list[str] = Field(description="tenants this one shares `partners` offers with")
    partner_of: list[str] = Field(description="tenants that share `partners` offers with this one")
    role: Role = Field(description="the role of the key that asked (what it may see and do)")


def _iso_only(value: object) -> object:
    # The schema says string (date-time): a number is refused, not read as epoch seconds.
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 time, e.g. 2024-05-01T10:00:00Z")
    return value


IsoTime = Annotated[datetime, BeforeValidator(_iso_only)]

#: Longest lifetime or grace period a key may be given: ten years.
MAX_KEY_S = 10 * 366 * 86400.0


class KeyCreate(BaseModel):
    model_config = examples(
        {"role": "platform", "name": "marketplace sync", "expires_in_s": 7776000}, forbid=True
    )

    role: Role = "viewer"
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    expires_in_s: float | None = Field(
        None, gt=0, le=MAX_KEY_S, allow_inf_nan=False, strict=True,
        description="the key stops working this many seconds after its creation",
    )
    expires_at: IsoTime | None = Field(
        None,
        description="the key stops working at this time (with expires_in_s: the sooner)",
    )


class KeyRotate(BaseModel):
    model_config = examples({"grace_s": 3600}, forbid=True)

    grace_s: float | None = Field(
        None, ge=0, le=MAX_KEY_S, allow_inf_nan=False, strict=True,
        description="how long the old key keeps working (default: the server's "
        "IDLESHARE_KEY_ROTATION_GRACE_S, 24 h)",
    )


KEY_EXAMPLE: dict[str, object] = {
    "id": 3,
    "role": "viewer",
    "name": "dashboard",
    "prefix": "idl_Xy3k",
    "created_at": "2024-05-01T10:00:00Z",
}


class KeyPublic(RowPublic):
    model_config = examples(KEY_EXAMPLE, forbid=True)

    id: int
    role: str
    name: str
    prefix: str = Field(description="first characters of the key, to recognise it")
    created_at: UtcTime
    last_used_at: UtcTimeOrNever = Field(
        None, description="when the key last authenticated a request; null if never"
    )
    expires_at: UtcTime | None = Field(
        None, description="when the key stops working (rotated keys: end of grace); null: never"
    )


class KeyCreated(KeyPublic):
    model_config = examples({**KEY_EXAMPLE, "key": "idl_Xy3k..."}, forbid=True)

    key: str = Field(description="the key itself: shown this once, only its hash is stored")
