"""The audit log's entries."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from api.schemas.common import RowPublic, UtcTime, examples


class AuditEntry(RowPublic):
    model_config = examples(
        {
            "id": 12,
            "at": "2024-05-01T10:00:00Z",
            "key_id": 3,
            "action": "key.revoked",
            "target": "7",
            "detail": {},
        }
    )

    id: int
    at: UtcTime
    key_id: int | None = Field(description="the key that did it; null: the operator (CLI)")
    action: str = Field(description="key.created, key.revoked, key.rotated, policy.changed, "
                        "device.added, partner.added, partner.removed, booking.cancelled, "
                        "group.joined")
    target: str = Field(description="what it was done to: a key id, asset id, tenant id...")
    detail: dict[str, Any]

    @field_validator("detail", mode="before")
    @classmethod
    def _null_detail_as_empty(cls, detail: object) -> object:
        return detail or {}
