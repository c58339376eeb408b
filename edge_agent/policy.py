"""Per-metric reporting: sample interval, deadband (report on change) and heartbeat.

An asset is polled every ``interval_s`` of the asset; each metric then decides whether this
sample is reported. Configured per metric in ``[assets.metrics.<name>]``::

    [assets.metrics.occupied]
    interval_s = 60      # look at this metric every 60 s (a multiple of the asset's interval)
    deadband = 1.0       # report only when it moved by at least 1.0 since the last report
    heartbeat_s = 900    # ... or when the last report is 15 minutes old

``deadband = 0`` (the default) reports every sample taken. A restarted agent reports each
metric's first sample, whatever the deadband.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edge_agent.fields import fail
from idleshare.wire import Measurement

#: Clock times are floats: a metric is due when less than this short of its interval.
_SLACK = 1e-6


@dataclass(frozen=True)
class MetricPolicy:
    #: Seconds between two looks at this metric; 0 means every sample of the asset.
    interval_s: float = 0.0
    #: Report only a change of at least this much (0: report every look).
    deadband: float = 0.0
    #: With a deadband, report at least every ``heartbeat_s`` seconds (0: never forced).
    heartbeat_s: float = 0.0

    def __post_init__(self) -> None:
        for key in ("interval_s", "deadband", "heartbeat_s"):
            value = getattr(self, key)
            if not (math.isfinite(value) and value >= 0):
                fail(key, "must be >= 0", value)
        if self.heartbeat_s and self.heartbeat_s < self.interval_s:
            fail("heartbeat_s", f"must be 0 or >= interval_s ({self.interval_s})",
                 self.heartbeat_s)


DEFAULT = MetricPolicy()


class Reporter:
    """Filters one asset's samples by its metrics' policies (state lives in memory)."""

    def __init__(self, policies: dict[str, MetricPolicy]) -> None:
        self.policies = policies
        self._looked: dict[str, float] = {}  # metric -> time of its last look
        self._reported: dict[str, tuple[float, float]] = {}  # metric -> (time, value)

    def filter(self, measurements: list[Measurement]) -> list[Measurement]:
        return [m for m in measurements if self._keep(m)]

    def _keep(self, m: Measurement) -> bool:
        policy = self.policies.get(m.name, DEFAULT)
        looked = self._looked.get(m.name)
        if looked is not None and m.time - looked < policy.interval_s - _SLACK:
            return False
        self._looked[m.name] = m.time
        last = self._reported.get(m.name)
        if (last is None or abs(m.value - last[1]) >= policy.deadband
                or (policy.heartbeat_s and m.time - last[0] >= policy.heartbeat_s - _SLACK)):
            self._reported[m.name] = (m.time, m.value)
            return True
        return False
