"""The asset model: kinds of asset, the metrics they report, and what "free" means for each.

Kinds are data, not branches: each :class:`AssetKind` names its metrics and carries the function
that turns its primary metric into the quantity another business could use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from idleshare.errors import ConfigError

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Metric:
    """A quantity an asset reports: its SenML name, its unit and what it means."""

    name: str
    #: SenML unit; empty means "the asset's own capacity unit".
    unit: str
    description: str
    minimum: float = 0.0
    #: Upper bound of a physical value; ``None`` means "the asset's capacity".
    maximum: float | None = None


def _clamp(x: float, capacity: float) -> float:
    return min(max(x, 0.0), capacity)


@dataclass(frozen=True)
class AssetKind:
    """One kind of asset and its definition of free (shareable) quantity."""

    name: str
    description: str
    primary_metric: str
    metrics: tuple[Metric, ...]
    #: ``(value of the primary metric, capacity) -> free quantity`` in capacity units.
    free_fn: Callable[[float, float], float]
    default_unit: str

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)

    def free(self, value: float, capacity: float) -> float:
        return _clamp(self.free_fn(value, capacity), capacity)


_STATE = dict(minimum=0.0, maximum=1.0)


def _free_while_off(state: float, capacity: float) -> float:
    """The whole capacity while a 0/1 state metric (running, in use) is 0."""
    return capacity * (1.0 - state)


KINDS: tuple[AssetKind, ...] = (
    AssetKind(
        name="warehouse_zone",
        description="Storage zone or bay area; free = capacity - occupied positions.",
        primary_metric="occupied",
        metrics=(Metric("occupied", "", "occupied positions (pallets, spaces, m²)"),),
        free_fn=lambda occupied, capacity: capacity - occupied,
        default_unit="pallet",
    ),
    AssetKind(
        name="machine",
        description="Production machine; free = the whole machine while it is not running.",
        primary_metric="running",
        metrics=(
            Metric("running", "/", "1 while the machine runs, 0 otherwise", **_STATE),
            Metric("power", "kW", "electrical power draw", maximum=1e6),
        ),
        free_fn=_free_while_off,
        default_unit="machine",
    ),
    AssetKind(
        name="vehicle",
        description="Truck or van; free = the whole payload while it stands parked.",
        primary_metric="in_use",
        metrics=(
            Metric("in_use", "/", "1 while on a trip, 0 while parked", **_STATE),
            Metric("load", "t", "payload on board", maximum=None),
            Metric("lat", "lat", "latitude", minimum=-90.0, maximum=90.0),
            Metric("lon", "lon", "longitude", minimum=-180.0, maximum=180.0),
        ),
        free_fn=_free_while_off,
        default_unit="t",
    ),
    AssetKind(
        name="equipment",
        description="Forklift, crane, tool pool item; free while not in use.",
        primary_metric="in_use",
        metrics=(Metric("in_use", "/", "1 while in use, 0 otherwise", **_STATE),),
        free_fn=_free_while_off,
        default_unit="unit",
    ),
    AssetKind(
        name="container",
        description=(
            "Container of a by-product or waste stream; free = the material in it, which "
            "another business can take (utilisation is the fill level)."
        ),
        primary_metric="fill",
        metrics=(Metric("fill", "", "material in the container, in the asset's unit"),),
        free_fn=lambda fill, capacity: fill,
        default_unit="m3",
    ),
)

KINDS_BY_NAME: dict[str, AssetKind] = {k.name: k for k in KINDS}


def kind(name: str) -> AssetKind:
    try:
        return KINDS_BY_NAME[name]
    except KeyError:
        raise ConfigError(
            f"unknown asset kind {name!r}: expected one of {sorted(KINDS_BY_NAME)}"
        ) from None


def check_id(what: str, value: str) -> str:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise ConfigError(
            f"{what} must be 1-64 characters of letters, digits, '_', '.' or '-': got {value!r}"
        )
    return value


@dataclass(frozen=True)
class Asset:
    """A physical asset owned by a tenant, as the agent announces it and the catalog stores it."""

    id: str
    tenant: str
    kind: str
    capacity: float
    unit: str
    lat: float = 0.0
    lon: float = 0.0
    name: str = ""
    metrics: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        check_id("asset id", self.id)
        check_id("tenant", self.tenant)
        k = kind(self.kind)
        if not self.capacity > 0:
            raise ConfigError(f"capacity of asset {self.id!r} must be > 0: got {self.capacity}")
        if not -90 <= self.lat <= 90 or not -180 <= self.lon <= 180:
            raise ConfigError(
                f"location of asset {self.id!r} is off the globe: {self.lat}, {self.lon}"
            )
        if not self.metrics:
            object.__setattr__(self, "metrics", tuple(m.name for m in k.metrics))

    @property
    def asset_kind(self) -> AssetKind:
        return KINDS_BY_NAME[self.kind]

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "tenant": self.tenant,
            "kind": self.kind,
            "capacity": self.capacity,
            "unit": self.unit,
            "lat": self.lat,
            "lon": self.lon,
            "name": self.name,
            "metrics": list(self.metrics),
        }
