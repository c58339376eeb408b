"""What a source plug-in is: a settings dataclass and a class that reads measurements.

A polled source is constructed once per asset as ``<Name>Source(settings, asset, start)`` (raising
:class:`ConfigError` naming a settings key when it cannot work) and then asked
``read(t)`` for the measurements at or up to clock time ``t``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from idleshare.assets import Asset, Metric
from idleshare.errors import ConfigError
from idleshare.wire import Measurement


class Source(Protocol):
    #: The frozen dataclass of this source's ``[assets.<name>]`` section.
    settings_type: ClassVar[type[Any]]
    # Optional ``blocking: ClassVar[bool] = True``: reads may take seconds (a program, a file
    # on a slow bus), so the agent samples such an asset on a thread of its own.

    def __init__(self, settings: Any, asset: Asset, start: float) -> None: ...

    def read(self, t: float) -> list[Measurement]:
        """Measurements for clock time ``t`` (a polled source's whole interface)."""
        ...


def check_timezone(zone: str) -> None:
    """ConfigError naming the ``timezone`` key unless ``zone`` is an IANA zone name."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone must be an IANA zone name: got {zone!r}") from None


def metric_unit(asset: Asset, metric: Metric) -> str:
    """SenML unit of a metric; an empty unit in the kind table means the asset's own unit."""
    return metric.unit or asset.unit


def metric_bounds(asset: Asset, metric: Metric) -> tuple[float, float]:
    upper = asset.capacity if metric.maximum is None else metric.maximum
    return metric.minimum, upper


def to_measurement(asset: Asset, metric: Metric, value: float, t: float,
                   clamp: bool = True) -> Measurement:
    """A value of ``metric`` in its unit, clamped to its bounds unless ``clamp`` is off."""
    if clamp:
        low, high = metric_bounds(asset, metric)
        value = min(max(value, low), high)
    return Measurement(metric.name, value, t, metric_unit(asset, metric))
