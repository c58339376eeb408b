"""Utilisation indicators by asset kind, in the spirit of ISO 22400 (one table, no branching).

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

from collections.abc import Callable, Mapping
from dataclasses import dataclass

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
