"""The mapping file: which measurement to read, which tag values are which asset, and which
field is which metric. Errors are :class:`ConfigError` naming the file and the key.

A row the mapping cannot place (an unmapped tag value) or a value it cannot store (a string,
NaN, out of the metric's range) is a :class:`Rejection` with a reason; the row's other values
and every other row are still stored. Reasons: ``missing_tag``, ``unmapped_asset``,
``non_numeric``, ``not_finite``, ``out_of_range``.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from idleshare.assets import KINDS_BY_NAME, Asset, check_id
from idleshare.errors import ConfigError
from storage.readings import Reading

_TOP_KEYS = {"name", "measurement", "tenant", "asset_tags", "fields", "assets"}
_ASSET_KEYS = {"id", "match", "kind", "capacity", "unit", "name", "tenant", "lat", "lon",
               "fields"}
_FIELD_KEYS = {"metric", "scale", "offset"}


@dataclass(frozen=True, slots=True)
class Row:
    """One point of the source: its time, its tags and the fields it carries."""

    time_ns: int
    tags: Mapping[str, str]
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str
    detail: str


@dataclass(frozen=True)
class FieldMap:
    """A source field read as an idleshare metric: ``metric = value * scale + offset``."""

    metric: str
    scale: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True)
class AssetMap:
    asset: Asset
    #: The values of the mapping's ``asset_tags``, in that order.
    match: tuple[str, ...]
    fields: Mapping[str, FieldMap]


@dataclass(frozen=True)
class SourceMap:
    #: Names this source's cursor file; the measurement unless set.
    name: str
    measurement: str
    asset_tags: tuple[str, ...]
    assets: tuple[AssetMap, ...]
    _by_match: dict[tuple[str, ...], AssetMap] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_match", {a.match: a for a in self.assets})

    @property
    def field_names(self) -> tuple[str, ...]:
        """Every source field some asset maps, sorted: what the queries select."""
        return tuple(sorted({f for a in self.assets for f in a.fields}))

    def asset_for(self, tags: Mapping[str, str]) -> AssetMap | Rejection:
        values = []
        for tag in self.asset_tags:
            value = tags.get(tag) or ""
            if not value:
                return Rejection("missing_tag", f"no {tag!r} tag in {dict(tags)}")
            values.append(value)
        found = self._by_match.get(tuple(values))
        if found is None:
            shown = ", ".join(f"{t}={v}" for t, v in zip(self.asset_tags, values, strict=True))
            return Rejection("unmapped_asset", f"no asset has {shown}")
        return found

    def map_row(self, row: Row) -> tuple[list[Reading], list[Rejection]]:
        """The readings of a row, and the rejections of what in it cannot be stored."""
        found = self.asset_for(row.tags)
        if isinstance(found, Rejection):
            return [], [found]
        readings: list[Reading] = []
        rejected: list[Rejection] = []
        for name, raw in row.fields.items():
            wanted = found.fields.get(name)
            if wanted is None or raw is None:  # not mapped for this asset, or not in this row
                continue
            value = _reading(found.asset, wanted, name, raw, row.time_ns)
            if isinstance(value, Rejection):
                rejected.append(value)
            else:
                readings.append(value)
        return readings, rejected


def _reading(asset: Asset, wanted: FieldMap, name: str, raw: Any,
             time_ns: int) -> Reading | Rejection:
    where = f"{asset.tenant}/{asset.id} {name} at {time_ns}"
    # A boolean (a Telegraf coil, a JSON true) is a state: 1 or 0. A string is not a number,
    # even one that looks like it: the source declared its type.
    if not isinstance(raw, int | float):
        return Rejection("non_numeric", f"{where}: {raw!r}")
    value = float(raw) * wanted.scale + wanted.offset
    if not math.isfinite(value):
        return Rejection("not_finite", f"{where}: {raw!r}")
    metric = asset.asset_kind.metric(wanted.metric)
    assert metric is not None  # checked when the mapping was loaded
    high = asset.capacity if metric.maximum is None else metric.maximum
    if not metric.minimum <= value <= high:
        return Rejection("out_of_range", f"{where}: {wanted.metric}={value} outside "
                         f"{metric.minimum}..{high}")
    return Reading(asset.tenant, asset.id, wanted.metric, time_ns / 1_000_000_000, value,
                   metric.unit or asset.unit)


def load_mapping(path: str | Path) -> SourceMap:
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"cannot read the mapping file {str(path)!r}: {err.strerror}"
                          ) from err
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err
    try:
        return parse_mapping(doc)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from err


def parse_mapping(doc: Mapping[str, Any]) -> SourceMap:
    _known_keys("", doc, _TOP_KEYS)
    measurement = _string(doc, "measurement")
    asset_tags = doc.get("asset_tags")
    if (not isinstance(asset_tags, list) or not asset_tags
            or not all(isinstance(t, str) and t for t in asset_tags)):
        raise ConfigError(f"asset_tags must be a list of tag names: got {asset_tags!r}")
    default_fields = _fields("fields", doc.get("fields", {}))
    entries = doc.get("assets")
    if not isinstance(entries, list) or not entries:
        raise ConfigError("assets: at least one [[assets]] entry is needed")
    tenant = doc.get("tenant", "")
    assets = tuple(_asset(f"assets[{i}]", entry, tuple(asset_tags), tenant, default_fields)
                   for i, entry in enumerate(entries))
    seen: dict[tuple[str, ...], str] = {}
    for i, a in enumerate(assets):
        if a.match in seen:
            raise ConfigError(f"assets[{i}].match: the same tags as {seen[a.match]}")
        seen[a.match] = f"assets[{i}]"
    name = doc.get("name") or re.sub(r"[^A-Za-z0-9_.-]", "_", measurement)[:64]
    check_id("name", name)
    return SourceMap(name=name, measurement=measurement, asset_tags=tuple(asset_tags),
                     assets=assets)


def _asset(where: str, entry: Any, asset_tags: tuple[str, ...], tenant: Any,
           default_fields: dict[str, FieldMap]) -> AssetMap:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table")
    _known_keys(f"{where}.", entry, _ASSET_KEYS)
    match = entry.get("match")
    if not isinstance(match, dict) or set(match) != set(asset_tags):
        raise ConfigError(f"{where}.match must give exactly the tags {list(asset_tags)}: "
                          f"got {match!r}")
    # TOML's slave_id = 1 and the tag's "1" are the same thing to a reader of the file.
    values = tuple(_tag_value(f"{where}.match.{t}", match[t]) for t in asset_tags)
    kind = _string(entry, "kind", where)
    if kind not in KINDS_BY_NAME:
        raise ConfigError(f"{where}.kind: unknown asset kind {kind!r}: expected one of "
                          f"{sorted(KINDS_BY_NAME)}")
    try:
        asset = Asset(
            id=entry.get("id", ""), tenant=entry.get("tenant", tenant), kind=kind,
            capacity=_number(entry, "capacity", where),
            unit=entry.get("unit") or KINDS_BY_NAME[kind].default_unit,
            lat=_number(entry, "lat", where, 0.0), lon=_number(entry, "lon", where, 0.0),
            name=str(entry.get("name", "")))
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from err
    fields = _fields(f"{where}.fields", entry["fields"]) if "fields" in entry else default_fields
    if not fields:
        raise ConfigError(f"{where}: no fields to read (a [fields] table or {where}.fields)")
    for source_field, wanted in fields.items():
        if asset.asset_kind.metric(wanted.metric) is None:
            raise ConfigError(
                f"{where}: field {source_field!r} maps to {wanted.metric!r}, not a metric of a "
                f"{kind} (its metrics: {[m.name for m in asset.asset_kind.metrics]})")
    return AssetMap(asset=asset, match=values, fields=fields)


def _fields(where: str, table: Any) -> dict[str, FieldMap]:
    """``field = "metric"`` or ``field = { metric = "...", scale = 0.001, offset = 0 }``."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of field = metric")
    fields = {}
    for name, spec in table.items():
        key = f"{where}.{name}"
        if isinstance(spec, str):
            spec = {"metric": spec}
        if not isinstance(spec, dict):
            raise ConfigError(f"{key} must be a metric name or a table: got {spec!r}")
        _known_keys(f"{key}.", spec, _FIELD_KEYS)
        fields[name] = FieldMap(metric=_string(spec, "metric", key),
                                scale=_number(spec, "scale", key, 1.0),
                                offset=_number(spec, "offset", key, 0.0))
        if fields[name].scale == 0:
            raise ConfigError(f"{key}.scale must not be 0")
    return fields


def _known_keys(prefix: str, table: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"unknown key {prefix}{unknown[0]} (expected one of {sorted(known)})")


def _string(table: Mapping[str, Any], key: str, where: str = "") -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where + '.' if where else ''}{key} must be a non-empty string: "
                          f"got {value!r}")
    return value


def _number(table: Mapping[str, Any], key: str, where: str,
            default: float | None = None) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}.{key} must be a number: got {value!r}")
    return float(value)


def _tag_value(where: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise ConfigError(f"{where} must be a tag value (a string): got {value!r}")
    return str(value)
