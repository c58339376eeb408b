"""Read back what an agent published: a plain decoder of the packs ``wire.encode_pack`` writes
(the agent only encodes; ingest validates with pydantic), for assertions in tests."""

from __future__ import annotations

import json
from dataclasses import dataclass

from idleshare import wire
from idleshare.wire import Measurement


@dataclass(frozen=True)
class Pack:
    tenant: str
    asset: str
    agent: str
    seq: int
    measurements: tuple[Measurement, ...]


def decode_pack(payload: bytes) -> Pack:
    records = json.loads(payload)
    first = records[0]
    tenant, asset = wire.parse_base_name(first["bn"])
    bt, bu = first["bt"], first.get("bu", "")
    return Pack(tenant, asset, first["agent"], first["seq"], tuple(
        Measurement(r["n"], float(r["v"]), bt + r.get("t", 0.0), r.get("u", bu))
        for r in records))
