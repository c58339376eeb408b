"""Shared by the one-value sources (``command``, ``file``, ``gpio``): which metric, and how a
text becomes its value."""

from __future__ import annotations

import math
import re

from edge_agent.sources.base import to_measurement
from idleshare.assets import Asset
from idleshare.errors import ConfigError
from idleshare.wire import Measurement

#: The first number in a text: ``"temp=41.2'C"`` -> 41.2.
NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def check_metric(asset: Asset, metric: str) -> str:
    """The metric to emit: ``metric`` if set, else the kind's primary metric."""
    kind = asset.asset_kind
    name = metric or kind.primary_metric
    if kind.metric(name) is None:
        raise ConfigError(f"metric must name a metric of kind {kind.name} "
                          f"{[m.name for m in kind.metrics]}: got {name!r}")
    return name


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """``pattern`` must have one group (the number); empty means the first number."""
    try:
        compiled = re.compile(pattern or f"({NUMBER})")
    except re.error as err:
        raise ConfigError(f"pattern is not a regular expression ({err}): got {pattern!r}") from None
    if compiled.groups != 1:
        raise ConfigError(f"pattern must have exactly one group, the number: got {pattern!r}")
    return compiled


def parse_value(text: str, pattern: re.Pattern[str], scale: float, offset: float) -> float:
    """The number ``pattern`` finds in ``text``, times ``scale`` plus ``offset``."""
    match = pattern.search(text)
    if match is None:
        raise ValueError(f"no number matching {pattern.pattern!r} in {text[:200]!r}")
    value = float(match.group(1)) * scale + offset
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {match.group(1)!r}")
    return value


def measurement(asset: Asset, name: str, value: float, t: float, clamp: bool) -> Measurement:
    metric = asset.asset_kind.metric(name)
    assert metric is not None  # checked by check_metric
    return to_measurement(asset, metric, value, t, clamp)
