"""Alert rules and the alerts they fired (market/alerts.py RULES)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import RowPublic, UtcTime, examples

RuleKind = Literal["offline", "utilisation_above", "utilisation_below", "agent_dropping",
                   "offer_booked", "offer_cancelled"]


class AlertRuleCreate(BaseModel):
    model_config = examples({"kind": "offline", "asset": "zone-a", "minutes": 30},
                            {"kind": "utilisation_below", "threshold": 0.2, "minutes": 1440},
                            forbid=True)

    kind: RuleKind
    asset: str = Field("", max_length=64, description="one asset; empty: every asset")
    threshold: float = Field(0.0, ge=0, le=1, description="utilisation rules: share of capacity")
    minutes: float = Field(0.0, ge=0, le=92 * 1440,
                           description="offline: minutes offline; utilisation: period "
                           "averaged; agent_dropping: period the dropped count grew in")


class AlertRulePublic(RowPublic):
    id: int
    kind: str
    asset: str = Field(validation_alias="asset_id")
    threshold: float
    minutes: float
    created_at: UtcTime


class AlertPublic(RowPublic):
    id: int
    rule: int = Field(validation_alias="rule_id")
    kind: str
    asset: str = Field(validation_alias="asset_id")
    message: str
    at: UtcTime
    active: bool = Field(description="a condition alert whose condition still holds")
    cleared_at: UtcTime | None
