"""Strict pydantic validators of the shapes :mod:`idleshare.wire` defines.

The field lists and states come from ``wire``; this module only adds the strict types.

Strict mode: a JSON ``true`` is not the number 1, ``"1"`` is not a number, ``1.0`` is not a
sequence number, and an unknown field rejects the message rather than being silently dropped.
"""

from __future__ import annotations

import math
from typing import Annotated

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    RootModel,
    field_validator,
    model_validator,
)

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


#: A pack as :func:`parse_pack` gives it: the first record's ``bn``, ``bt``, ``bu``, ``agent``,
#: ``seq``, then ``(n, v, t, u)`` of every record (``None`` where absent).
Base = tuple[str, float, str | None, str, int]
Row = tuple[str, float, float | None, str | None]


def parse_pack(payload: bytes | bytearray) -> tuple[Base, list[Row]]:
    """A readings message as :class:`SenmlPack` validates it (raises its ``ValidationError``).

    The common case, a pack whose every field has exactly the strict type and bounds the model
    demands, is checked straight on ``orjson``'s parse: pydantic costs a subscriber a large
    share of its time per message. Anything else — a wrong type, a null, a missing or extra
    field, a bound crossed, JSON orjson will not take — goes through the model, so what is
    accepted, every rejection and its message stay the model's (``tests/ingest/test_validate``
    compares the two on every shape it rejects or accepts).
    """
    fast = _parse_plain(payload)
    if fast is not None:
        return fast
    records = SenmlPack.model_validate_json(payload).root
    first = records[0]
    assert first.bn is not None and first.bt is not None  # the model requires them
    assert first.agent is not None and first.seq is not None
    return ((first.bn, first.bt, first.bu, first.agent, first.seq),
            [(r.n, r.v, r.t, r.u) for r in records])


_REST_FIELDS = frozenset({"n", "v", "t", "u"})
_FIRST_FIELDS = _REST_FIELDS | _FIRST_ONLY
_ID_MATCH = ID_PATTERN.fullmatch  # fullmatch: "$" alone would accept a trailing newline
_EXACT_INT = 2**53  # a JSON integer a float holds exactly; larger ones are left to the model


def _parse_plain(payload: bytes | bytearray) -> tuple[Base, list[Row]] | None:
    """:func:`parse_pack` for packs that are plainly valid; None means "ask the model"."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not list or not data:
        return None
    rows: list[Row] = []
    allowed = _FIRST_FIELDS
    for record in data:
        if type(record) is not dict or not record.keys() <= allowed:
            return None
        row = _row(record)
        if row is None:
            return None
        rows.append(row)
        allowed = _REST_FIELDS
    first = data[0]
    bn, bt, bu = first.get("bn"), _finite(first.get("bt")), first.get("bu")
    agent, seq = first.get("agent"), first.get("seq")
    if not (type(bn) is str and 0 < len(bn) <= 200 and bt is not None
            and _text(bu, 32, "bu" in first) and type(agent) is str and _ID_MATCH(agent) is not None
            and type(seq) is int and 0 <= seq < 2**63):
        return None
    return (bn, bt, bu, agent, seq), rows


def _row(record: dict[str, object]) -> Row | None:
    n, v, u = record.get("n"), _finite(record.get("v")), record.get("u")
    t = _finite(record["t"]) if "t" in record else None
    if not (type(n) is str and 0 < len(n) <= 64 and v is not None
            and (t is not None or "t" not in record) and _text(u, 32, "u" in record)):
        return None
    return n, v, t, u  # type: ignore[return-value]  # u: str or absent, checked by _text


def _finite(x: object) -> float | None:
    """``x`` as the model's strict finite float takes it, else None (a bool is no number)."""
    if type(x) is float:
        return x if math.isfinite(x) else None
    if type(x) is int and -_EXACT_INT <= x <= _EXACT_INT:
        return float(x)
    return None


def _text(x: object, longest: int, present: bool) -> bool:
    """An optional string field: absent, or a string of at most ``longest`` characters."""
    return not present or (type(x) is str and len(x) <= longest)


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
    #: A container's material (``wire.material_of`` reads it). Any JSON here: a bad material
    #: leaves the rest of the birth applied (``ingest.status`` counts it), not rejected.
    material: JsonValue = None


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
