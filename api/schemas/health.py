"""The health check's answer."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import examples


class HealthPublic(BaseModel):
    model_config = examples({"status": "ok", "catalog": "ok", "readings": "ok"})

    status: str = Field(description='"ok" when both stores answer, else "degraded"')
    catalog: str
    readings: str
