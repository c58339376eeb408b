"""What analytics counts, for Prometheus.

Metric names (all prefixed ``idleshare_analytics_``; docs/observability.md lists them):
passes_total, pass_failures_total (a pass that raised), pass_seconds (histogram),
last_pass_timestamp_seconds (gauge: when the last pass ended), assets_analysed_total,
asset_errors_total (assets whose analysis failed; the others still ran),
offers_created_total, offers_updated_total, offers_withdrawn_total.

With several analytics workers each has its own port and counts its own share of each pass.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

if TYPE_CHECKING:
    from analytics.runner import RunReport

PREFIX = "idleshare_analytics_"
#: Seconds; a pass takes from well under a second (a demo) to minutes (10,000 assets).
PASS_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


class AnalyticsMetrics:
    """Each instance has its own registry, so several can coexist (tests, the demo)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = reg = registry or CollectorRegistry()

        def counter(name: str, doc: str) -> Counter:
            return Counter(PREFIX + name, doc, registry=reg)

        self.passes = counter("passes", "Analytics passes finished")
        self.pass_failures = counter("pass_failures", "Analytics passes that failed as a whole")
        self.pass_seconds = Histogram(PREFIX + "pass_seconds", "Duration of a finished pass",
                                      buckets=PASS_BUCKETS, registry=reg)
        self.last_pass = Gauge(PREFIX + "last_pass_timestamp_seconds",
                               "Unix time the last pass finished", registry=reg)
        self.assets = counter("assets_analysed", "Assets analysed and stored without error")
        self.asset_errors = counter("asset_errors", "Assets whose analysis failed")
        self.created = counter("offers_created", "Offers created")
        self.updated = counter("offers_updated", "Offers changed in place (same window; new "
                               "quantity, confidence or listing)")
        self.withdrawn = counter("offers_withdrawn", "Offers withdrawn")

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        """Expose the metrics over HTTP (``/metrics``) on ``port``."""
        start_http_server(port, addr=addr, registry=self.registry)

    def analysed(self, report: RunReport) -> None:
        """Count what one :func:`analytics.runner.run_once` did."""
        self.assets.inc(report.assets)
        self.asset_errors.inc(report.errors)
        self.created.inc(report.offers_created)
        self.updated.inc(report.offers_updated)
        self.withdrawn.inc(report.offers_withdrawn)

    def pass_done(self, seconds: float) -> None:
        self.passes.inc()
        self.pass_seconds.observe(seconds)
        self.last_pass.set(time.time())

    def pass_failed(self) -> None:
        self.pass_failures.inc()
