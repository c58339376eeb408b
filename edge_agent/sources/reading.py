"""Shared by the one-value sources (``command``, ``file``, ``gpio``): which metric, and how a
text becomes its value (:class:`NumberInTextSource`: the whole of ``command`` and ``file`` but
for how they get the text)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

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


@dataclass(frozen=True)
class NumberSettings:
    """The keys of a number-in-text source that name its metric and turn the text into the
    value; each source's own keys follow them."""

    #: Metric it measures; the asset kind's primary metric when empty.
    metric: str = ""
    #: Regular expression with one group around the number; the first number when empty.
    pattern: str = ""
    scale: float = 1.0
    offset: float = 0.0
    clamp: bool = True

    def __post_init__(self) -> None:
        compile_pattern(self.pattern)


SettingsT = TypeVar("SettingsT", bound=NumberSettings)


class NumberInTextSource(Generic[SettingsT]):
    """Reads a text at every sample and emits the number in it: the first number (or the group
    of ``pattern``), times ``scale`` plus ``offset``, clamped unless ``clamp = false``.
    Subclasses set ``settings_type`` and say how the text is read (:meth:`read_text`)."""

    #: A read may take long (a program, a file on a slow bus): the agent gives this asset its
    #: own thread.
    blocking: ClassVar[bool] = True

    def __init__(self, settings: SettingsT, asset: Asset, start: float) -> None:
        self.settings, self.asset = settings, asset
        self.metric = check_metric(asset, settings.metric)
        self._pattern = compile_pattern(settings.pattern)

    def read(self, t: float) -> list[Measurement]:
        s = self.settings
        value = parse_value(self.read_text(), self._pattern, s.scale, s.offset)
        return [measurement(self.asset, self.metric, value, t, s.clamp)]

    def read_text(self) -> str:
        """The text the number is read from; an exception is a read error."""
        raise NotImplementedError
