"""The audit log's entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import examples, utc
from storage.catalog.models import AuditRow


class AuditEntry(BaseModel):
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
    at: datetime
    key_id: int | None = Field(description="the key that did it; null: the operator (CLI)")
    action: str = Field(description="key.created, key.revoked, key.rotated, policy.changed, "
                        "device.added, partner.added, partner.removed, booking.cancelled, "
                        "group.joined")
    target: str = Field(description="what it was done to: a key id, asset id, tenant id...")
    detail: dict[str, Any]

    @classmethod
    def from_row(cls, row: AuditRow) -> AuditEntry:
        return cls(id=row.id, at=utc(row.at), key_id=row.key_id, action=row.action,
                   target=row.target, detail=row.detail or {})
