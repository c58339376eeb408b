"""The wire format between edge agents and ingest, defined once (see docs/wire-format.md).

Topics::

    idleshare/v1/{tenant}/{asset}/readings          SenML JSON pack, QoS 1
    idleshare/v1/{tenant}/agents/{agent}/status     JSON birth/last-will, QoS 1, retained

A readings payload is a SenML JSON pack (RFC 8428). The first record carries the base name
``urn:idleshare:{tenant}:{asset}:``, the base time, and two idleshare extension fields:
``agent`` (the publishing agent's id) and ``seq`` (that agent's message sequence number, which
only grows, so ingest can drop repeats and see gaps). Times are seconds since the Unix epoch.

This module uses only the standard library: the edge agent encodes with it, ingest validates
the same shape strictly with pydantic (``ingest/schema.py``) and resolves it with
:func:`resolve_pack`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from idleshare.assets import check_id
from idleshare.errors import ConfigError, WireError

VERSION = "v1"
ROOT = f"idleshare/{VERSION}"
READINGS = "readings"
STATUS = "status"
#: Subscription filters ingest uses.
READINGS_FILTER = f"{ROOT}/+/+/{READINGS}"
STATUS_FILTER = f"{ROOT}/+/agents/+/{STATUS}"
BASE_NAME_PREFIX = "urn:idleshare:"
#: Largest payload ingest accepts (bytes); agents split packs below it.
MAX_PAYLOAD_BYTES = 256 * 1024


def readings_topic(tenant: str, asset: str) -> str:
    return f"{ROOT}/{tenant}/{asset}/{READINGS}"


def status_topic(tenant: str, agent: str) -> str:
    return f"{ROOT}/{tenant}/agents/{agent}/{STATUS}"


def base_name(tenant: str, asset: str) -> str:
    return f"{BASE_NAME_PREFIX}{tenant}:{asset}:"


@dataclass(frozen=True)
class Topic:
    """A parsed idleshare topic: ``channel`` is ``readings`` or ``status``."""

    tenant: str
    channel: str
    asset: str = ""
    agent: str = ""

    @classmethod
    def parse(cls, topic: str) -> Topic:
        parts = topic.split("/")
        try:
            if parts[:2] == ["idleshare", VERSION] and len(parts) == 5 and parts[4] == READINGS:
                return cls(
                    tenant=check_id("tenant", parts[2]),
                    channel=READINGS,
                    asset=check_id("asset", parts[3]),
                )
            if (
                parts[:2] == ["idleshare", VERSION]
                and len(parts) == 6
                and parts[3] == "agents"
                and parts[5] == STATUS
            ):
                return cls(
                    tenant=check_id("tenant", parts[2]),
                    channel=STATUS,
                    agent=check_id("agent", parts[4]),
                )
        except ConfigError as err:
            raise WireError("bad_topic", str(err)) from err
        raise WireError("bad_topic", f"not an idleshare {VERSION} topic: {topic[:200]!r}")


@dataclass(frozen=True)
class Measurement:
    """One value of one metric at one time, as an agent samples it."""

    name: str
    value: float
    time: float
    unit: str = ""


@dataclass(frozen=True)
class Pack:
    """A resolved readings message: who sent it, in which order, and what it holds."""

    tenant: str
    asset: str
    agent: str
    seq: int
    measurements: tuple[Measurement, ...]


def encode_pack(
    tenant: str, asset: str, agent: str, seq: int, measurements: Sequence[Measurement]
) -> bytes:
    """Encode measurements of one asset as a SenML JSON pack (times relative to the first)."""
    if not measurements:
        raise ValueError("a pack needs at least one measurement")
    bt = measurements[0].time
    records: list[dict[str, object]] = []
    for i, m in enumerate(measurements):
        rec: dict[str, object] = {"n": m.name, "v": m.value}
        if m.unit:
            rec["u"] = m.unit
        if m.time != bt:
            rec["t"] = round(m.time - bt, 6)
        if i == 0:
            rec = {"bn": base_name(tenant, asset), "bt": bt, "agent": agent, "seq": seq, **rec}
        records.append(rec)
    return json.dumps(records, separators=(",", ":"), allow_nan=False).encode()


def resolve_pack(records: Iterable[dict[str, object]]) -> Pack:
    """Resolve base fields of an already type-checked pack into a :class:`Pack` (RFC 8428 §4.6).

    Raises :class:`WireError` with a reason when the pack is incomplete or inconsistent.
    """
    bn, bt, bu = "", 0.0, ""
    agent, seq = None, None
    out: list[Measurement] = []
    for rec in records:
        bn = str(rec.get("bn", bn) or bn)
        bt = float(rec.get("bt", bt) or bt)  # type: ignore[arg-type]
        bu = str(rec.get("bu", bu) or bu)
        if "agent" in rec:
            agent = str(rec["agent"])
        if "seq" in rec:
            seq = int(rec["seq"])  # type: ignore[call-overload]
        if rec.get("v") is None:
            raise WireError("missing_value", "every record needs a numeric 'v'")
        value = float(rec["v"])  # type: ignore[arg-type]
        t = float(rec.get("t", 0.0) or 0.0)  # type: ignore[arg-type]
        if not math.isfinite(value) or not math.isfinite(t):
            raise WireError("not_finite", "values and times must be finite numbers")
        out.append(
            Measurement(
                name=str(rec.get("n", "")),
                value=value,
                time=bt + t,
                unit=str(rec.get("u", bu) or bu),
            )
        )
    if not out:
        raise WireError("empty_pack", "a pack needs at least one record")
    if agent is None or seq is None:
        raise WireError("missing_sequence", "the first record needs 'agent' and 'seq'")
    parts = bn[len(BASE_NAME_PREFIX) : -1].split(":")
    if not bn.startswith(BASE_NAME_PREFIX) or not bn.endswith(":") or len(parts) != 2:
        raise WireError("bad_base_name", f"expected 'urn:idleshare:<tenant>:<asset>:', got {bn!r}")
    tenant, asset = parts
    return Pack(tenant=tenant, asset=asset, agent=agent, seq=seq, measurements=tuple(out))


def encode_status(
    agent: str,
    state: str,
    time: float,
    version: str = "",
    assets: Sequence[dict] = (),
    queued: int = 0,
    dropped: int = 0,
) -> bytes:
    """Birth (``online``) or last-will (``offline``) message of an agent.

    ``queued`` is the agent's outbox depth and ``dropped`` how many readings it has ever dropped
    to stay within its disk budget, so the loss is visible upstream.
    """
    return json.dumps(
        {"agent": agent, "state": state, "time": time, "version": version,
         "assets": list(assets), "queued": queued, "dropped": dropped},
        separators=(",", ":"),
    ).encode()
