"""What the API counts, for Prometheus (prometheus-fastapi-instrumentator over prometheus-client).

Metric names (all prefixed ``idleshare_api_``; docs/observability.md lists them):
http_requests_total{handler,method,status}, http_request_duration_seconds{handler,method}
(histogram), http_request_duration_highr_seconds (histogram, no labels: fine buckets for
percentiles), http_request_size_bytes{handler}, http_response_size_bytes{handler}.

``handler`` is the route's template (``/v1/assets/{asset_id}``), never the raw path, and every
path no route matches is ``none``: a scanner trying a million URLs adds one series, not a
million. ``status`` is the exact code (``200``, ``404``, ``429``), the guards' refusals included.

The metrics are not on the API's port, which faces the Internet: :func:`serve` exposes them on
a port of their own, bound to 127.0.0.1 unless the operator opens it, like ingest's and
analytics'. With several worker processes (``idleshare api --workers N``) every worker writes
its counts to files in ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode) and
the parent serves their sum, so one scrape sees every request whichever worker answered it.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, start_http_server

NAMESPACE, SUBSYSTEM = "idleshare", "api"
PREFIX = f"{NAMESPACE}_{SUBSYSTEM}_"
#: Seconds; the offer search aims at a p99 under 50 ms, so the buckets are finest there.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def instrument(app: FastAPI) -> CollectorRegistry:
    """Count the app's requests; returns the registry its metrics are in (its own, so that
    several apps in one process, as in tests, do not collide)."""
    from prometheus_fastapi_instrumentator import Instrumentator, metrics

    registry = CollectorRegistry()
    Instrumentator(should_group_status_codes=False, should_group_untemplated=True,
                   registry=registry).add(metrics.default(
                       metric_namespace=NAMESPACE, metric_subsystem=SUBSYSTEM,
                       latency_lowr_buckets=LATENCY_BUCKETS, registry=registry,
                   )).instrument(app)
    return registry


def scrape_registry(own: CollectorRegistry | None = None) -> CollectorRegistry:
    """What a scrape reads: in multiprocess mode the sum of every process's files, else
    ``own`` (the single process's registry)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        summed = CollectorRegistry()
        multiprocess.MultiProcessCollector(summed)
        return summed
    if own is None:
        raise ValueError(f"no registry: pass the app's, or set {MULTIPROC_ENV}")
    return own


def serve(registry: CollectorRegistry, port: int, host: str = "127.0.0.1") -> None:
    """Expose ``registry`` over HTTP (``/metrics``) on ``host:port``, from a daemon thread."""
    start_http_server(port, addr=host, registry=registry)
