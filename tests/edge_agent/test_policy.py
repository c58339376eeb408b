"""Per-metric reporting: interval, deadband and heartbeat."""

from __future__ import annotations

import pytest

from edge_agent.config import parse
from edge_agent.policy import MetricPolicy, Reporter
from idleshare.errors import ConfigError
from idleshare.wire import Measurement


def _run(policy: MetricPolicy, values: list[float], step: float = 1.0) -> list[float]:
    reporter = Reporter({"occupied": policy})
    kept = [reporter.filter([Measurement("occupied", v, 1000.0 + i * step)])
            for i, v in enumerate(values)]
    return [m.time - 1000.0 for ms in kept for m in ms]


def test_without_a_policy_every_sample_is_reported() -> None:
    assert _run(MetricPolicy(), [1, 1, 1, 1]) == [0, 1, 2, 3]


def test_a_deadband_reports_only_changes_that_big() -> None:
    assert _run(MetricPolicy(deadband=2.0), [10, 11, 12, 13, 14, 9]) == [0, 2, 4, 5]


def test_a_heartbeat_reports_an_unchanged_value_every_so_often() -> None:
    assert _run(MetricPolicy(deadband=1.0, heartbeat_s=3.0), [5] * 8) == [0, 3, 6]


def test_a_metric_interval_looks_at_every_nth_sample() -> None:
    assert _run(MetricPolicy(interval_s=3.0), list(range(10))) == [0, 3, 6, 9]


def test_policies_are_read_from_the_asset_and_checked_by_key() -> None:
    base = ("[agent]\nid='gw'\ntenant='t'\n[[assets]]\nid='m'\nkind='machine'\ncapacity=1\n"
            "interval_s=10\n")
    cfg = parse(base + "[assets.metrics.running]\ndeadband=0.5\nheartbeat_s=60\n")
    assert cfg.assets[0].metrics == {"running": MetricPolicy(deadband=0.5, heartbeat_s=60.0)}
    with pytest.raises(ConfigError, match=r"assets\[0\]\.metrics\.fill is not a metric"):
        parse(base + "[assets.metrics.fill]\ndeadband=1\n")
    with pytest.raises(ConfigError, match=r"assets\[0\]\.metrics\.power\.deadband must be >= 0"):
        parse(base + "[assets.metrics.power]\ndeadband=-1\n")
    with pytest.raises(ConfigError, match=r"assets\[0\]\.metrics\.power\.interval_s must be 0 "
                                          r"or >= interval_s"):
        parse(base + "[assets.metrics.power]\ninterval_s=5\n")
    with pytest.raises(ConfigError, match=r"metrics\.power\.heartbeat_s must be 0 or >="):
        parse(base + "[assets.metrics.power]\ninterval_s=60\nheartbeat_s=30\n")
