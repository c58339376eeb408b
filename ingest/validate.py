"""Validate a readings message into storage rows, or say in one word why not.

Reasons (``WireError.reason``): oversize, bad_topic, bad_json, bad_schema, not_finite,
bad_base_name, tenant_mismatch, asset_mismatch, unknown_asset, unknown_metric, bad_unit,
out_of_range, too_old, in_future. A message is accepted or rejected whole.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

from pydantic import ValidationError

from idleshare import wire
from idleshare.assets import KINDS_BY_NAME, Asset, Metric
from idleshare.errors import WireError
from ingest.schema import parse_pack
from storage.readings import Reading

AssetLookup = Callable[[str, str], Asset | None]


class Checked(NamedTuple):  # a tuple: made once per message, far cheaper than a frozen dataclass
    """An accepted message: who sent it, its sequence number, and its rows."""

    tenant: str
    agent: str
    seq: int
    readings: list[Reading]


def schema_error(err: ValidationError) -> WireError:
    errors = err.errors(include_url=False)
    kinds = {e["type"] for e in errors}
    if "json_invalid" in kinds:
        return WireError("bad_json", errors[0]["msg"])
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"])
    detail = f"{where}: {first['msg']}" if where else first["msg"]
    return WireError("not_finite" if "finite_number" in kinds else "bad_schema", detail)


@functools.lru_cache(maxsize=1024)
def _metric(kind: str, name: str) -> Metric | None:
    return KINDS_BY_NAME[kind].metric(name)


class Validator:
    """Turns ``(topic, payload)`` into readings of a known asset, checked against its kind."""

    def __init__(self, lookup_asset: AssetLookup, max_age_s: float = 7 * 86400.0,
                 max_future_s: float = 300.0, max_bytes: int = wire.MAX_PAYLOAD_BYTES) -> None:
        self.lookup_asset = lookup_asset
        self.max_age_s = max_age_s
        self.max_future_s = max_future_s
        self.max_bytes = max_bytes

    def validate(self, topic: str, payload: bytes | bytearray, now: float) -> list[Reading]:
        return self.check(topic, payload, now).readings

    def check(self, topic: str, payload: bytes | bytearray, now: float,
              where: wire.Topic | None = None) -> Checked:
        """``where``: the topic already parsed, if the caller has it."""
        if len(payload) > self.max_bytes:
            raise WireError("oversize", f"{len(payload)} bytes > {self.max_bytes}")
        where = where or wire.parse_topic(topic)
        if where.channel != wire.READINGS:
            raise WireError("bad_topic", f"not a readings topic: {topic[:200]!r}")
        try:
            (bn, bt, bu, agent, seq), rows = parse_pack(payload)
        except ValidationError as err:
            raise schema_error(err) from err
        tenant, asset_id = wire.parse_base_name(bn)
        if tenant != where.tenant:
            raise WireError("tenant_mismatch", f"base name {tenant!r}, topic {where.tenant!r}")
        if asset_id != where.asset:
            raise WireError("asset_mismatch", f"base name {asset_id!r}, topic {where.asset!r}")
        asset = self.lookup_asset(tenant, asset_id)
        if asset is None:
            raise WireError("unknown_asset", f"{tenant}/{asset_id} is not in the catalog")
        bu = bu or ""
        readings = [self._reading(asset, n, v, bt + (t or 0.0), u or bu, now)
                    for n, v, t, u in rows]
        return Checked(tenant, agent, seq, readings)

    def _reading(self, asset: Asset, name: str, value: float, at: float, unit_sent: str,
                 now: float) -> Reading:
        metric = _metric(asset.kind, name)
        if metric is None:
            raise WireError("unknown_metric", f"{name!r} is not a metric of a {asset.kind}")
        # An empty metric unit means "the asset's own unit"; an agent may leave the unit out.
        unit = metric.unit or asset.unit
        if unit_sent and unit_sent != unit:
            raise WireError("bad_unit", f"{name} is in {unit!r}, not {unit_sent!r}")
        high = asset.capacity if metric.maximum is None else metric.maximum
        if not metric.minimum <= value <= high:
            raise WireError("out_of_range", f"{name}={value} outside {metric.minimum}..{high}")
        if at < now - self.max_age_s:
            raise WireError("too_old", f"{name} at {at} is over {self.max_age_s:g} s old")
        if at > now + self.max_future_s:
            raise WireError("in_future", f"{name} at {at} is ahead of {now} by over "
                            f"{self.max_future_s:g} s")
        return Reading(asset.tenant, asset.id, name, at, value, unit)
