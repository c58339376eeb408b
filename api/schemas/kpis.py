"""Utilisation KPIs of the caller's assets (definitions: docs/analytics.md, "KPIs")."""

from __future__ import annotations

import math
from datetime import datetime

from pydantic import BaseModel, Field

from analytics.kpis import AssetKpis, KindKpis
from api.schemas.common import examples, utc


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


class Headline(BaseModel):
    availability: float | None = Field(description="share of planned time the asset could run "
                                       "or be used; null where the kind has none")
    utilisation: float | None = Field(description="share of time with data in use")
    load_factor: float | None = Field(description="mean load while in use, share of capacity")
    idle_share: float | None = Field(description="share of time with data idle")


class AssetKpisPublic(Headline):
    asset: str
    kind: str
    seconds_with_data: float
    coverage: float | None = Field(description="share of the period with data")
    indicators: dict[str, float | None] = Field(description="every indicator of the kind")

    @classmethod
    def of(cls, k: AssetKpis) -> AssetKpisPublic:
        return cls(asset=k.asset, kind=k.kind, seconds_with_data=k.seconds_with_data,
                   coverage=_number(k.coverage), availability=_number(k.availability),
                   utilisation=_number(k.utilisation), load_factor=_number(k.load_factor),
                   idle_share=_number(k.idle_share),
                   indicators={n: _number(v) for n, v in k.indicators.items()})


class KindKpisPublic(Headline):
    kind: str
    assets: int
    seconds_with_data: float

    @classmethod
    def of(cls, k: KindKpis) -> KindKpisPublic:
        return cls(kind=k.kind, assets=k.assets, seconds_with_data=k.seconds_with_data,
                   availability=_number(k.availability), utilisation=_number(k.utilisation),
                   load_factor=_number(k.load_factor), idle_share=_number(k.idle_share))


class KpisPublic(BaseModel):
    model_config = examples(
        {
            "start": "2024-05-01T00:00:00Z",
            "end": "2024-05-08T00:00:00Z",
            "kinds": [{"kind": "machine", "assets": 3, "seconds_with_data": 1814400.0,
                       "availability": 0.92, "utilisation": 0.41, "load_factor": 0.77,
                       "idle_share": 0.51}],
            "assets": [],
        }
    )

    start: datetime
    end: datetime
    kinds: list[KindKpisPublic]
    assets: list[AssetKpisPublic]

    @classmethod
    def of(cls, start: float, end: float, assets: list[AssetKpis],
           kinds: dict[str, KindKpis]) -> KpisPublic:
        return cls(start=utc(start), end=utc(end),
                   kinds=[KindKpisPublic.of(k) for k in kinds.values()],
                   assets=[AssetKpisPublic.of(a) for a in assets])
