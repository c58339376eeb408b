"""Utilisation indicators by asset kind, in the spirit of ISO 22400 (one table, no branching).

:func:`asset_kpis` serves them from an asset's stored readings over a period (``GET /v1/kpis``
and the analytics pass), :func:`aggregate` rolls them up per kind.

Definitions (also in docs/analytics.md)
    Readings hold until the next one (at most ``max_gap_s``, :class:`analytics.series.Steps`);
    every time below is time with data, weighted by how long each reading holds. A ratio whose
    denominator is zero is NaN.

    *Machines* carry a ``state`` per reading: 0 off, 1 idle (powered, not producing), 2 running
    (:data:`analytics.states.MACHINE_STATES`), from :func:`machine_states` (power thresholds)
    or :class:`analytics.states.MachineStateModel`, and optionally ``planned`` (1 in planned
    production time, 0 outside; all planned if absent).
    *Vehicles* carry ``in_use`` (1 on a trip, 0 parked) and ``load`` (payload, capacity unit).
    *Containers* carry ``fill``; *storage zones* ``occupied``; *equipment* ``in_use``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from analytics.series import MAX_GAP_S, Steps
from idleshare.assets import kind as asset_kind

OFF, IDLE, RUNNING = 0, 1, 2


def machine_states(power: np.ndarray, off_below: float, running_from: float) -> np.ndarray:
    """State per power reading: off below ``off_below``, running from ``running_from``,
    idle in between (same unit as ``power``)."""
    if not 0 <= off_below <= running_from:
        raise ValueError(f"need 0 <= off_below <= running_from: got {off_below}, {running_from}")
    return np.digitize(np.asarray(power, dtype=float), [off_below, running_from])


@dataclass(frozen=True)
class Timeline:
    """One asset's readings as durations: ``seconds[i]`` is how long reading ``i`` holds."""

    seconds: np.ndarray
    metrics: Mapping[str, np.ndarray]
    capacity: float

    def time(self, mask: np.ndarray | bool = True) -> float:
        return float(np.sum(self.seconds * mask))

    def get(self, name: str, default: float) -> np.ndarray:
        return self.metrics.get(name, np.full(self.seconds.size, default))


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("nan")


def _share(metric: str, value: float, over: Callable[[Timeline], np.ndarray | bool]
           ) -> Callable[[Timeline], float]:
    """Time with ``metric == value`` within ``over`` / time within ``over``."""
    return lambda t: _ratio(t.time((t.get(metric, 0) == value) & over(t)), t.time(over(t)))


def _mean_over_capacity(metric: str, over: Callable[[Timeline], np.ndarray | bool]
                        ) -> Callable[[Timeline], float]:
    """Time-weighted mean of ``metric`` within ``over``, / capacity."""
    return lambda t: _ratio(t.time(t.get(metric, 0) * over(t)), t.time(over(t)) * t.capacity)


def _all(t: Timeline) -> bool:
    return True


def _planned(t: Timeline) -> np.ndarray:
    return t.get("planned", 1) == 1


def _in_use(t: Timeline) -> np.ndarray:
    return t.get("in_use", 0) == 1


@dataclass(frozen=True)
class Indicator:
    """One written-down indicator of one asset kind."""

    kind: str
    name: str
    definition: str
    #: Metrics it reads (``planned`` is optional).
    inputs: tuple[str, ...]
    value_fn: Callable[[Timeline], float]


INDICATORS: tuple[Indicator, ...] = (
    Indicator("machine", "availability", "running time / planned time", ("state",),
              _share("state", RUNNING, _planned)),
    Indicator("machine", "utilisation", "running time / time with data", ("state",),
              _share("state", RUNNING, _all)),
    Indicator("machine", "idle_share", "idle time / planned time", ("state",),
              _share("state", IDLE, _planned)),
    Indicator("machine", "off_share", "off time / time with data", ("state",),
              _share("state", OFF, _all)),
    Indicator("vehicle", "in_use_share", "time in use / time with data", ("in_use",),
              _share("in_use", 1, _all)),
    Indicator("vehicle", "parked_share", "time parked / time with data", ("in_use",),
              _share("in_use", 0, _all)),
    Indicator("vehicle", "load_factor", "mean load while in use / capacity",
              ("in_use", "load"), _mean_over_capacity("load", _in_use)),
    Indicator("equipment", "in_use_share", "time in use / time with data", ("in_use",),
              _share("in_use", 1, _all)),
    Indicator("equipment", "idle_share", "time not in use / time with data", ("in_use",),
              _share("in_use", 0, _all)),
    Indicator("container", "fill_level", "mean fill / capacity", ("fill",),
              _mean_over_capacity("fill", _all)),
    Indicator("warehouse_zone", "occupancy", "mean occupied / capacity", ("occupied",),
              _mean_over_capacity("occupied", _all)),
)


def indicators(kind: str, times: np.ndarray, metrics: Mapping[str, np.ndarray],
               capacity: float, max_gap_s: float = MAX_GAP_S) -> dict[str, float]:
    """Every :data:`INDICATORS` entry of ``kind``, over readings ``times`` (any order).

    ``metrics`` maps a metric name to its value at each of ``times``.

    Raises
    ------
    ValueError
        If ``capacity`` is not positive, a metric's length differs from ``times`` or a metric
        an indicator reads is missing.
    idleshare.errors.ConfigError
        If ``kind`` is unknown.
    """
    asset_kind(kind)
    if not capacity > 0:
        raise ValueError(f"capacity must be > 0: got {capacity}")
    times = np.asarray(times, dtype=float)
    for name, values in metrics.items():
        if np.shape(values) != times.shape:
            raise ValueError(f"metric {name!r} has {np.size(values)} values for {times.size} times")
    defs = [d for d in INDICATORS if d.kind == kind]
    missing = sorted({m for d in defs for m in d.inputs} - set(metrics))
    if missing:
        raise ValueError(f"{kind} indicators need metrics {missing}")
    # Steps keeps one reading per timestamp, sorted: carry each kept reading's index.
    steps = Steps.from_readings(times, np.arange(times.size, dtype=float), max_gap_s)
    keep = steps.values.astype(int)
    timeline = Timeline(steps.ends - steps.starts,
                        {k: np.asarray(v, dtype=float)[keep] for k, v in metrics.items()},
                        capacity)
    return {d.name: d.value_fn(timeline) for d in defs}


# --- Served KPIs: one asset's stored readings over a period, and their roll-up per kind ----


def _machine_inputs(m: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    # Not running: off while the held power reading is zero, idle otherwise (also without
    # power readings, since the asset model reports only running then).
    running = m["running"] >= 0.5
    return {"state": np.where(running, RUNNING, np.where(m["power"] == 0, OFF, IDLE))}


def _vehicle_inputs(m: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    # The payload only matters on a trip; unknown on a trip makes the load factor NaN.
    return {"in_use": m["in_use"], "load": np.where(m["in_use"] == 1, m["load"], 0.0)}


@dataclass(frozen=True)
class KpiSource:
    """How one kind's stored metrics become :data:`INDICATORS` inputs, and which indicator
    stands for each headline KPI (``None``: not defined for the kind, reported as NaN)."""

    kind: str
    #: Stored metrics read; the first is the primary one, whose time with data is counted.
    metrics: tuple[str, ...]
    inputs_fn: Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]]
    availability: str | None = None
    utilisation: str | None = None
    load_factor: str | None = None
    idle_share: str | None = None


def _same(name: str) -> Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]]:
    return lambda m: {name: m[name]}


KPI_SOURCES: tuple[KpiSource, ...] = (
    KpiSource("machine", ("running", "power"), _machine_inputs, availability="availability",
              utilisation="utilisation", idle_share="idle_share"),
    KpiSource("vehicle", ("in_use", "load"), _vehicle_inputs, utilisation="in_use_share",
              load_factor="load_factor", idle_share="parked_share"),
    KpiSource("equipment", ("in_use",), _same("in_use"), utilisation="in_use_share",
              idle_share="idle_share"),
    KpiSource("container", ("fill",), _same("fill"), utilisation="fill_level",
              load_factor="fill_level"),
    KpiSource("warehouse_zone", ("occupied",), _same("occupied"), utilisation="occupancy"),
)
KPI_SOURCES_BY_KIND: dict[str, KpiSource] = {k.kind: k for k in KPI_SOURCES}
#: The headline KPIs every asset reports, in this order.
HEADLINE = ("availability", "utilisation", "load_factor", "idle_share")


class KpiAsset(Protocol):
    """What :func:`asset_kpis` reads of an asset (an ``idleshare.assets.Asset`` or a catalog
    row)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def capacity(self) -> float: ...


@dataclass(frozen=True)
class AssetKpis:
    """One asset's KPIs over ``[start, end)``; NaN where a KPI is not defined for the kind or
    its denominator is zero."""

    asset: str
    kind: str
    start: float
    end: float
    #: Seconds of the period in which the primary metric holds a value.
    seconds_with_data: float
    availability: float
    utilisation: float
    load_factor: float
    idle_share: float
    #: Every :data:`INDICATORS` entry of the kind, by name.
    indicators: dict[str, float] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        """Share of the period with data."""
        return _ratio(self.seconds_with_data, self.end - self.start)


@dataclass(frozen=True)
class KindKpis:
    """The headline KPIs of the assets of one kind: each asset weighted by its time with
    data, over the assets where the KPI is a number."""

    kind: str
    assets: int
    seconds_with_data: float
    availability: float
    utilisation: float
    load_factor: float
    idle_share: float


def _held(steps: Steps, at: np.ndarray) -> np.ndarray:
    """Value of ``steps`` holding at each time of ``at`` (NaN where none holds)."""
    i = np.searchsorted(steps.starts, at, side="right") - 1
    j = np.clip(i, 0, None)
    ok = (i >= 0) & (at < steps.ends[j]) if steps.starts.size else np.zeros(at.shape, bool)
    return np.where(ok, steps.values[j] if steps.starts.size else np.nan, np.nan)


def asset_kpis(asset: KpiAsset, series: Mapping[str, Sequence[tuple[float, float]] | np.ndarray],
               start: float, end: float, max_gap_s: float = MAX_GAP_S) -> AssetKpis:
    """ISO 22400-style KPIs of one asset over ``[start, end)`` from its stored readings.

    Parameters
    ----------
    asset : KpiAsset
        Its ``id``, ``kind`` and ``capacity``.
    series : mapping of metric name to (time, value) pairs
        Readings of the kind's :attr:`KpiSource.metrics`, as ``ReadingStore.query`` returns
        them; a metric missing or empty holds no value. A reading before ``start`` only gives
        the value holding at ``start``, one at or after ``end`` only ends the value holding
        before it (each reading holds until the next, so the last one holds no time).
    start, end : float
        The period, epoch seconds.
    max_gap_s : float, default=21600
        Longer gaps between readings are unknown time.

    Raises
    ------
    ValueError
        If ``end <= start``, the capacity is not positive or the readings are invalid.
    idleshare.errors.ConfigError
        If the kind is unknown.
    """
    kind = asset_kind(asset.kind).name
    if not end > start:
        raise ValueError(f"end must be after start: got {start}, {end}")
    if not asset.capacity > 0:
        raise ValueError(f"capacity must be > 0: got {asset.capacity}")
    source = KPI_SOURCES_BY_KIND[kind]
    steps = {}
    for name in source.metrics:
        pairs = np.asarray(series.get(name, ()), dtype=float).reshape(-1, 2)
        steps[name] = Steps.from_readings(pairs[:, 0], pairs[:, 1], max_gap_s)
    # Every reading time in the period cuts it; each piece takes the values holding at its
    # start, and counts only while the primary metric holds one.
    cuts = np.concatenate([st.starts for st in steps.values()] + [np.array([start, end])])
    cuts = np.unique(cuts[(cuts >= start) & (cuts <= end)])
    at = cuts[:-1]
    held = {name: _held(st, at) for name, st in steps.items()}
    counted = ~np.isnan(held[source.metrics[0]])
    seconds = np.diff(cuts)[counted]
    inputs = source.inputs_fn({name: v[counted] for name, v in held.items()})
    timeline = Timeline(seconds, inputs, float(asset.capacity))
    values = {d.name: d.value_fn(timeline) for d in INDICATORS if d.kind == kind}
    nan = float("nan")
    return AssetKpis(
        asset=asset.id, kind=kind, start=float(start), end=float(end),
        seconds_with_data=float(seconds.sum()),
        **{h: values[n] if (n := getattr(source, h)) else nan for h in HEADLINE},
        indicators=values)


def aggregate(kpis: Iterable[AssetKpis]) -> dict[str, KindKpis]:
    """Headline KPIs per kind, each asset weighted by its time with data."""
    by_kind: dict[str, list[AssetKpis]] = {}
    for k in kpis:
        by_kind.setdefault(k.kind, []).append(k)
    out = {}
    for kind, group in sorted(by_kind.items()):
        weight = np.array([k.seconds_with_data for k in group])

        def mean(name: str, w: np.ndarray = weight, g: list[AssetKpis] = group) -> float:
            v = np.array([getattr(k, name) for k in g])
            ok = np.isfinite(v)
            return _ratio(float(np.sum(v[ok] * w[ok])), float(np.sum(w[ok])))

        out[kind] = KindKpis(kind=kind, assets=len(group), seconds_with_data=float(weight.sum()),
                             **{h: mean(h) for h in HEADLINE})
    return out
