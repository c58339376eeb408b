"""The caller's tenant (groups, partners) and its API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from api.schemas.common import examples, utc
from market.tenants import TenantView
from storage.catalog import ApiKey

Role = Literal["owner", "viewer", "platform"]


class TenantPublic(BaseModel):
    model_config = examples(
        {
            "id": "acme",
            "name": "ACME Logistics",
            "groups": ["acme-group"],
            "partners": ["globex"],
            "partner_of": ["initech"],
        },
        forbid=True,
    )

    id: str
    name: str
    groups: list[str] = Field(description="groups the tenant belongs to")
    partners: list[str] = Field(description="tenants this one shares `partners` offers with")
    partner_of: list[str] = Field(description="tenants that share `partners` offers with this one")

    @classmethod
    def from_view(cls, v: TenantView) -> TenantPublic:
        return cls(
            id=v.id, name=v.name, groups=v.groups, partners=v.partners, partner_of=v.partner_of
        )


class KeyCreate(BaseModel):
    model_config = examples({"role": "platform", "name": "marketplace sync"}, forbid=True)

    role: Role = "viewer"
    name: Annotated[str, StringConstraints(max_length=200)] = ""


class KeyPublic(BaseModel):
    model_config = examples(
        {
            "id": 3,
            "role": "viewer",
            "name": "dashboard",
            "prefix": "idl_Xy3k",
            "created_at": "2024-05-01T10:00:00Z",
        },
        forbid=True,
    )

    id: int
    role: str
    name: str
    prefix: str = Field(description="first characters of the key, to recognise it")
    created_at: datetime
    last_used_at: datetime | None = Field(
        None, description="when the key last authenticated a request; null if never"
    )

    @classmethod
    def from_row(cls, row: ApiKey) -> KeyPublic:
        return cls(
            id=row.id,
            role=row.role,
            name=row.name,
            prefix=row.prefix,
            created_at=utc(row.created_at),
            last_used_at=utc(row.last_used_at) if row.last_used_at else None,
        )


class KeyCreated(KeyPublic):
    model_config = examples(
        {
            "id": 3,
            "role": "viewer",
            "name": "dashboard",
            "prefix": "idl_Xy3k",
            "created_at": "2024-05-01T10:00:00Z",
            "key": "idl_Xy3k...",
        },
        forbid=True,
    )

    key: str = Field(description="the key itself: shown this once, only its hash is stored")
