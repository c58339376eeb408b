"""The mapping file: which Sparkplug group / edge node / device / metric is which idleshare
tenant / asset / metric.

A TOML file (docs/sparkplug.md)::

    tenant = "acme"                      # default for every asset below

    [[asset]]
    group = "Plant 1"
    edge_node = "Line 3"
    device = "Press 7"                   # leave out for the edge node's own metrics
    id = "press-7"
    kind = "machine"
    capacity = 1
    unit = "machine"

    [asset.metrics]                      # Sparkplug metric name = idleshare metric
    "Status/Running" = "running"
    "Power" = { metric = "power", scale = 0.001 }   # W -> kW

Every mistake is a ConfigError naming the file and the entry, found at start-up.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from idleshare.assets import Asset, check_id, kind
from idleshare.errors import ConfigError

#: (group, edge node, device); device "" = the edge node's own metrics.
Place = tuple[str, str, str]
_NOT_IN_ID = re.compile(r"[^A-Za-z0-9_.-]+")

Finite = Annotated[float, Field(allow_inf_nan=False)]


class _MetricEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    metric: str
    scale: Finite = 1.0


class _AssetEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    group: Annotated[str, Field(min_length=1)]
    edge_node: Annotated[str, Field(min_length=1)]
    device: str = ""
    tenant: str | None = None
    agent: str | None = None
    id: str
    kind: str
    capacity: Finite
    unit: str = ""
    name: str = ""
    lat: Finite = 0.0
    lon: Finite = 0.0
    metrics: dict[str, str | _MetricEntry]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    tenant: str | None = None
    asset: Annotated[list[_AssetEntry], Field(min_length=1)]


@dataclass(frozen=True, slots=True)
class MetricMap:
    """Where one Sparkplug metric's values go: an idleshare metric, times ``scale``."""

    metric: str
    scale: float = 1.0


@dataclass(frozen=True)
class MappedAsset:
    asset: Asset
    #: The catalog's agent for the asset: one per edge node, so an NDEATH marks them all.
    agent: str
    metrics: dict[str, MetricMap]


def agent_id(group: str, edge_node: str) -> str:
    """The catalog agent of an edge node: ``spb.{group}.{edge node}`` in the characters ids
    allow (Sparkplug ids may hold spaces); the mapping's ``agent`` key overrides it."""
    return _NOT_IN_ID.sub("_", f"spb.{group}.{edge_node}")[:64]


class Mapping:
    def __init__(self, assets: Iterable[MappedAsset], places: Iterable[Place]) -> None:
        self._by_place = dict(zip(places, assets, strict=True))
        self._by_node: dict[tuple[str, str], list[MappedAsset]] = {}
        for (group, node, _), mapped in self._by_place.items():
            self._by_node.setdefault((group, node), []).append(mapped)

    def asset(self, group: str, edge_node: str, device: str = "") -> MappedAsset | None:
        return self._by_place.get((group, edge_node, device))

    def node_assets(self, group: str, edge_node: str) -> list[MappedAsset]:
        """Every asset of the edge node and its devices (empty: the node is not mapped)."""
        return self._by_node.get((group, edge_node), [])

    def __len__(self) -> int:
        return len(self._by_place)


def load(path: Path) -> Mapping:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"mapping file {path}: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"mapping file {path}: not UTF-8 text") from err
    return parse(text, str(path))


def parse(text: str, source: str = "mapping") -> Mapping:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source}: not valid TOML: {err}") from err
    try:
        entries = _File.model_validate(raw)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{source}: {where}: {first['msg']}") from err
    assets: list[MappedAsset] = []
    places: list[Place] = []
    agents: dict[tuple[str, str], str] = {}
    seen_ids: set[tuple[str, str]] = set()
    for i, entry in enumerate(entries.asset):
        where = f"{source}: asset {i + 1} ({entry.group}/{entry.edge_node}" + (
            f"/{entry.device})" if entry.device else ")")
        mapped = _asset(entry, entries.tenant, where)
        place = (entry.group, entry.edge_node, entry.device)
        if place in places:
            raise ConfigError(f"{where}: this group/edge node/device is mapped twice")
        key = (mapped.asset.tenant, mapped.asset.id)
        if key in seen_ids:
            raise ConfigError(f"{where}: asset {key[0]}/{key[1]} is mapped twice")
        # One agent per edge node and one edge node per agent: an NDEATH marks its assets.
        node = place[:2]
        if agents.setdefault(node, mapped.agent) != mapped.agent:
            raise ConfigError(f"{where}: agent {mapped.agent!r}, but another asset of this "
                              f"edge node says {agents[node]!r}")
        seen_ids.add(key)
        places.append(place)
        assets.append(mapped)
    taken: dict[str, tuple[str, str]] = {}
    for node, agent in agents.items():
        if taken.setdefault(agent, node) != node:
            raise ConfigError(f"{source}: edge nodes {taken[agent]} and {node} both have agent "
                              f"{agent!r}: set `agent` on one of them")
    return Mapping(assets, places)


def _asset(entry: _AssetEntry, default_tenant: str | None, where: str) -> MappedAsset:
    tenant = entry.tenant or default_tenant
    if tenant is None:
        raise ConfigError(f"{where}: no tenant (set `tenant` on the asset or at the top)")
    try:
        agent = check_id("agent", entry.agent or agent_id(entry.group, entry.edge_node))
        asset = Asset(id=entry.id, tenant=tenant, kind=entry.kind, capacity=entry.capacity,
                      unit=entry.unit or kind(entry.kind).default_unit,
                      lat=entry.lat, lon=entry.lon, name=entry.name)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from err
    metrics: dict[str, MetricMap] = {}
    for name, target in entry.metrics.items():
        mapped = MetricMap(target) if isinstance(target, str) else MetricMap(target.metric,
                                                                             target.scale)
        if asset.asset_kind.metric(mapped.metric) is None:
            raise ConfigError(f"{where}: metric {name!r} -> {mapped.metric!r}, which a "
                              f"{asset.kind} does not have (it has: "
                              f"{', '.join(m.name for m in asset.asset_kind.metrics)})")
        metrics[name] = mapped
    if not metrics:
        raise ConfigError(f"{where}: no metrics mapped")
    return MappedAsset(asset, agent, metrics)

