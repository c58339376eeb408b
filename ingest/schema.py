"""Strict pydantic validators of the shapes :mod:`idleshare.wire` defines.

The field lists and states come from ``wire``; this module only adds the strict types.

Strict mode: a JSON ``true`` is not the number 1, ``"1"`` is not a number, ``1.0`` is not a
sequence number, and an unknown field rejects the message rather than being silently dropped.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

from idleshare import wire
from idleshare.assets import ID_PATTERN

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
#: A unit becomes an InfluxDB tag: no control characters, no backslash (line protocol cannot
#: carry a value ending in one or escaping with one). Empty means no unit tag.
Unit = Annotated[str, Field(max_length=32, pattern=r"^[^\x00-\x1f\x7f\\]*$")]
Id = Annotated[str, Field(pattern=ID_PATTERN.pattern)]
_FIRST_ONLY = frozenset(wire.FIRST_RECORD_ONLY)


class Record(BaseModel):
    """One SenML record (RFC 8428 §4) with idleshare's ``agent`` and ``seq`` extensions."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    bn: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    bt: FiniteFloat | None = None
    bu: Annotated[str, Field(max_length=32)] | None = None
    n: Annotated[str, Field(min_length=1, max_length=64)]
    u: Annotated[str, Field(max_length=32)] | None = None
    v: FiniteFloat
    t: FiniteFloat | None = None
    agent: Id | None = None
    seq: Annotated[int, Field(ge=0, lt=2**63)] | None = None


class SenmlPack(RootModel[list[Record]]):
    """A readings message: 1..N records; the first names the asset, time base and sender."""

    model_config = ConfigDict(strict=True)

    root: Annotated[list[Record], Field(min_length=1)]

    @model_validator(mode="after")
    def _first_record_carries_the_base(self) -> SenmlPack:
        first, rest = self.root[0], self.root[1:]
        missing = [f for f in wire.FIRST_RECORD_REQUIRED if getattr(first, f) is None]
        if missing:
            raise ValueError(f"the first record needs {', '.join(missing)}")
        for i, rec in enumerate(rest, start=1):
            if _FIRST_ONLY & rec.model_fields_set:  # one set operation per record: hot path
                extra = [f for f in wire.FIRST_RECORD_ONLY if getattr(rec, f) is not None]
                if extra:
                    raise ValueError(f"record {i}: only the first record may carry "
                                     f"{', '.join(extra)}")
        return self

    def records(self) -> list[dict[str, object]]:
        return [r.model_dump(exclude_none=True) for r in self.root]


class AnnouncedAsset(BaseModel):
    """An asset as an agent's birth message lists it (``idleshare.assets.Asset.to_dict``).

    Attributes ingest does not use are ignored, so agents can announce more; ``tenant`` is
    accepted but ignored, as the status topic names the owner."""

    model_config = ConfigDict(strict=True, extra="ignore")

    id: Id
    kind: str
    capacity: FiniteFloat
    unit: Unit
    lat: FiniteFloat = 0.0
    lon: FiniteFloat = 0.0
    name: Annotated[str, Field(max_length=200)] = ""
    metrics: tuple[str, ...] = ()
    #: The tenant's site the asset stands at (``/v1/sites``); none: unchanged.
    site: Id | None = None


class AgentStatus(BaseModel):
    """Birth (``online``) or last will (``offline``) of an agent (``wire.encode_status``)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    agent: Id
    state: str
    time: FiniteFloat
    version: Annotated[str, Field(max_length=64)] = ""
    assets: list[AnnouncedAsset] = []
    queued: Annotated[int, Field(ge=0, lt=2**63)] = 0
    dropped: Annotated[int, Field(ge=0, lt=2**63)] = 0
    #: The agent keeps each message until receipted and listens on its receipts topic.
    receipts: bool = False

    @field_validator("state")
    @classmethod
    def _known_state(cls, v: str) -> str:
        if v not in wire.STATES:
            raise ValueError(f"state must be one of {wire.STATES}")
        return v
