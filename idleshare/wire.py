"""The wire format between edge agents and ingest, defined once (see docs/wire-format.md).

Topics::

    idleshare/v1/{tenant}/{asset}/readings          SenML JSON pack, QoS 1
    idleshare/v1/{tenant}/agents/{agent}/status     JSON birth/last-will, QoS 1, retained
    idleshare/v1/{tenant}/agents/{agent}/receipts   JSON storage receipts to the agent, QoS 1

A readings payload is a SenML JSON pack (RFC 8428). The first record carries the base name
``urn:idleshare:{tenant}:{asset}:``, the base time, and two idleshare extension fields:
``agent`` (the publishing agent's id) and ``seq`` (that agent's message sequence number, which
only grows, so ingest can drop repeats and see gaps). Times are seconds since the Unix epoch.

This module uses only the standard library: the edge agent encodes packs and decodes receipts
with it; ingest validates the shape defined here strictly with pydantic (``ingest/schema.py``),
parses topics and base names with :func:`parse_topic` and :func:`parse_base_name`, and encodes
receipts with :func:`encode_receipt`. A birth lists each asset as :func:`announced_asset` gives
it, a container's declared material included (:func:`material_of` reads it back).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from idleshare.assets import Asset, check_id
from idleshare.errors import ConfigError, WireError
from idleshare.materials import Material, MaterialError

VERSION = "v1"
ROOT = f"idleshare/{VERSION}"
READINGS = "readings"
STATUS = "status"
RECEIPTS = "receipts"
#: Subscription filters ingest uses.
READINGS_FILTER = f"{ROOT}/+/+/{READINGS}"
STATUS_FILTER = f"{ROOT}/+/agents/+/{STATUS}"
#: Where ingest republishes what it rejected, with the reason.
DEADLETTER_TOPIC = f"{ROOT}/deadletter"
BASE_NAME_PREFIX = "urn:idleshare:"
#: Fields only the first record of a pack may carry (base fields and idleshare's extensions),
#: and those it must carry.
FIRST_RECORD_ONLY = ("bn", "bt", "bu", "agent", "seq")
FIRST_RECORD_REQUIRED = ("bn", "bt", "agent", "seq")
#: Status messages: the two states, and every field of the message (encode_status writes all).
ONLINE, OFFLINE = "online", "offline"
STATES = (ONLINE, OFFLINE)
STATUS_FIELDS = ("agent", "state", "time", "version", "assets", "queued", "dropped",
                 "receipts")
#: Largest payload ingest accepts (bytes); agents split packs below it.
MAX_PAYLOAD_BYTES = 256 * 1024


def readings_topic(tenant: str, asset: str) -> str:
    return f"{ROOT}/{tenant}/{asset}/{READINGS}"


def status_topic(tenant: str, agent: str) -> str:
    return f"{ROOT}/{tenant}/agents/{agent}/{STATUS}"


def receipts_topic(tenant: str, agent: str) -> str:
    return f"{ROOT}/{tenant}/agents/{agent}/{RECEIPTS}"


def base_name(tenant: str, asset: str) -> str:
    return f"{BASE_NAME_PREFIX}{tenant}:{asset}:"


@functools.lru_cache(maxsize=4096)
def parse_base_name(bn: str) -> tuple[str, str]:
    """``urn:idleshare:<tenant>:<asset>:`` -> (tenant, asset). Cached: an agent sends the same
    few base names again and again (a bad one raises, and exceptions are not cached)."""
    parts = bn[len(BASE_NAME_PREFIX): -1].split(":")
    if not bn.startswith(BASE_NAME_PREFIX) or not bn.endswith(":") or len(parts) != 2:
        raise WireError("bad_base_name", f"expected 'urn:idleshare:<tenant>:<asset>:', got {bn!r}")
    return parts[0], parts[1]


@dataclass(frozen=True)
class Topic:
    """A parsed idleshare topic: ``channel`` is ``readings``, ``status`` or ``receipts``."""

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
                and parts[5] in (STATUS, RECEIPTS)
            ):
                return cls(
                    tenant=check_id("tenant", parts[2]),
                    channel=parts[5],
                    agent=check_id("agent", parts[4]),
                )
        except ConfigError as err:
            raise WireError("bad_topic", str(err)) from err
        raise WireError("bad_topic", f"not an idleshare {VERSION} topic: {topic[:200]!r}")


#: Topics repeat (one per asset): parse each once. Topic is immutable; a bad topic raises, and
#: exceptions are not cached, so a flood of made-up topics only cycles the bounded cache.
parse_topic = functools.lru_cache(maxsize=8192)(Topic.parse)


@dataclass(frozen=True)
class Measurement:
    """One value of one metric at one time, as an agent samples it."""

    name: str
    value: float
    time: float
    unit: str = ""


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


def encode_status(
    agent: str,
    state: str,
    time: float,
    version: str = "",
    assets: Sequence[dict] = (),
    queued: int = 0,
    dropped: int = 0,
    receipts: bool = False,
) -> bytes:
    """Birth (``online``) or last-will (``offline``) message of an agent.

    ``queued`` is the agent's outbox depth and ``dropped`` how many readings it has ever dropped
    to stay within its disk budget, so the loss is visible upstream. ``receipts`` announces that
    the agent subscribes to its receipts topic and keeps each message until receipted.
    """
    if state not in STATES:
        raise ValueError(f"state must be one of {STATES}: got {state!r}")
    values = (agent, state, time, version, list(assets), queued, dropped, receipts)
    return json.dumps(dict(zip(STATUS_FIELDS, values, strict=True)),
                      separators=(",", ":")).encode()


#: The keys of a material in a birth (:meth:`idleshare.materials.Material.to_dict`).
MATERIAL_FIELDS = ("code", "description", "hazardous", "density_t_per_m3")


def announced_asset(asset: Asset, site: str = "", material: Material | None = None
                    ) -> dict[str, object]:
    """An asset as a birth lists it: :meth:`Asset.to_dict`, with ``site`` and ``material``
    (the container's, code in pairs) only when set."""
    fields = asset.to_dict()
    if site:
        fields["site"] = site
    if material is not None:
        fields["material"] = material.to_dict()
    return fields


def material_of(data: object) -> Material:
    """A material as a birth (or the agent's config) gives it: an object of
    :data:`MATERIAL_FIELDS` (``code`` required, ``hazardous`` true or false if given);
    :class:`MaterialError` naming the field at fault otherwise."""
    if not isinstance(data, Mapping):
        raise MaterialError("material", f"a material is an object of {list(MATERIAL_FIELDS)}: "
                            f"got {data!r:.100}")
    unknown = sorted(set(data) - set(MATERIAL_FIELDS))
    if unknown:
        raise MaterialError(str(unknown[0])[:64], f"{str(unknown[0])[:64]!r} is not a key of "
                            f"a material: expected one of {list(MATERIAL_FIELDS)}")
    if "code" not in data:
        raise MaterialError("code", "a material needs its EWC code, as in '03 01 05'")
    hazardous = data.get("hazardous")
    if hazardous is not None and not isinstance(hazardous, bool):
        raise MaterialError("hazardous", f"hazardous must be true or false: got "
                            f"{hazardous!r:.100}")
    return Material.from_dict(dict(data))


# -- storage receipts ------------------------------------------------------------------------

Ranges = list[tuple[int, int]]


def to_ranges(seqs: Iterable[int]) -> Ranges:
    """Sequence numbers as sorted, inclusive ``(first, last)`` runs: 3,4,5,9 -> (3,5),(9,9)."""
    out: Ranges = []
    for seq in sorted(set(seqs)):
        if out and seq == out[-1][1] + 1:
            out[-1] = (out[-1][0], seq)
        else:
            out.append((seq, seq))
    return out


@dataclass(frozen=True)
class Receipt:
    """What ingest did with an agent's messages: ``stored`` (durably written, or a repeat of a
    stored one) and ``rejected`` (dead-lettered for good, by reason), as seq ranges."""

    stored: Ranges
    rejected: Mapping[str, Ranges]

    def seqs(self) -> Iterable[tuple[int, int, str]]:
        """``(first, last, reason)``; the reason is empty for stored messages."""
        for first, last in self.stored:
            yield first, last, ""
        for reason, ranges in self.rejected.items():
            for first, last in ranges:
                yield first, last, reason


def encode_receipt(stored: Iterable[int], rejected: Mapping[str, Iterable[int]]) -> bytes:
    """``{"stored": [[first, last], ...], "rejected": {"<reason>": [[first, last], ...]}}``."""
    return json.dumps(
        {"stored": to_ranges(stored),
         "rejected": {reason: to_ranges(seqs) for reason, seqs in rejected.items()}},
        separators=(",", ":")).encode()


#: Most ranges one receipt may carry; a bigger one is refused rather than looped over.
MAX_RECEIPT_RANGES = 100_000


def decode_receipt(payload: bytes) -> Receipt:
    """Raises :class:`WireError` ``bad_receipt`` for anything but the shape above."""
    try:
        data = json.loads(payload)
        stored = _ranges(data.get("stored", []))
        rejected = {str(reason): _ranges(r) for reason, r in dict(data.get("rejected", {})
                                                                  ).items()}
    except (ValueError, TypeError, AttributeError) as err:
        raise WireError("bad_receipt", f"not a receipt: {err}") from err
    if len(stored) + sum(len(r) for r in rejected.values()) > MAX_RECEIPT_RANGES:
        raise WireError("bad_receipt", "too many ranges")
    return Receipt(stored, rejected)


def _ranges(value: object) -> Ranges:
    if not isinstance(value, list):
        raise TypeError(f"ranges must be a list: got {value!r:.100}")
    out: Ranges = []
    for item in value:
        if (not isinstance(item, list) or len(item) != 2
                or not all(type(n) is int and n >= 0 for n in item) or item[0] > item[1]):
            raise ValueError(f"a range is [first, last] with 0 <= first <= last: got {item!r:.100}")
        out.append((item[0], item[1]))
    return out
