"""Alert rules and the alerts they fired (market/alerts.py RULES)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import examples, utc
from storage.catalog.models import AlertRow, AlertRuleRow

RuleKind = Literal["offline", "utilisation_above", "utilisation_below", "offer_booked",
                   "offer_cancelled"]


class AlertRuleCreate(BaseModel):
    model_config = examples({"kind": "offline", "asset": "zone-a", "minutes": 30},
                            {"kind": "utilisation_below", "threshold": 0.2, "minutes": 1440},
                            forbid=True)

    kind: RuleKind
    asset: str = Field("", max_length=64, description="one asset; empty: every asset")
    threshold: float = Field(0.0, ge=0, le=1, description="utilisation rules: share of capacity")
    minutes: float = Field(0.0, ge=0, le=92 * 1440,
                           description="offline: minutes offline; utilisation: period averaged")


class AlertRulePublic(BaseModel):
    id: int
    kind: str
    asset: str
    threshold: float
    minutes: float
    created_at: datetime

    @classmethod
    def from_row(cls, r: AlertRuleRow) -> AlertRulePublic:
        return cls(id=r.id, kind=r.kind, asset=r.asset_id, threshold=r.threshold,
                   minutes=r.minutes, created_at=utc(r.created_at))


class AlertPublic(BaseModel):
    id: int
    rule: int
    kind: str
    asset: str
    message: str
    at: datetime
    active: bool = Field(description="a condition alert whose condition still holds")
    cleared_at: datetime | None

    @classmethod
    def from_row(cls, a: AlertRow) -> AlertPublic:
        return cls(id=a.id, rule=a.rule_id, kind=a.kind, asset=a.asset_id, message=a.message,
                   at=utc(a.at), active=a.active,
                   cleared_at=utc(a.cleared_at) if a.cleared_at is not None else None)
