"""What the API counts, for Prometheus (prometheus-fastapi-instrumentator over prometheus-client).

Metric names (all prefixed ``idleshare_api_``; docs/observability.md lists them):
http_requests_total{handler,method,status}, http_request_duration_seconds{handler,method}
(histogram), http_request_duration_highr_seconds (histogram, no labels: fine buckets for
percentiles), http_request_size_bytes{handler}, http_response_size_bytes{handler}.

``handler`` is the route's template (``/v1/assets/{asset_id}``), never the raw path, and every
path no route matches is ``none``: a scanner trying a million URLs adds one series, not a
million. ``status`` is the exact code (``200``, ``404``, ``429``), the guards' refusals included.
The metrics are the instrumentator's (``metrics.default``), counted by :class:`RouteMetrics`
rather than its middleware, which matched every request against the route table once more to
name its template (a tenth of a search); here the template is the route the app chose.

The metrics are not on the API's port, which faces the Internet: :func:`serve` exposes them on
a port of their own, bound to 127.0.0.1 unless the operator opens it, like ingest's and
analytics'. With several worker processes (``idleshare api --workers N``) every worker writes
its counts to files in ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode) and
the parent serves their sum, so one scrape sees every request whichever worker answered it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from timeit import default_timer
from typing import Any, cast

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_fastapi_instrumentator import metrics
from prometheus_fastapi_instrumentator.metrics import Info
from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NAMESPACE, SUBSYSTEM = "idleshare", "api"
PREFIX = f"{NAMESPACE}_{SUBSYSTEM}_"
#: Seconds; the offer search aims at a p99 under 50 ms, so the buckets are finest there.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def instrument(app: FastAPI) -> CollectorRegistry:
    """Count the app's requests; returns the registry its metrics are in (its own, so that
    several apps in one process, as in tests, do not collide)."""
    registry = CollectorRegistry()
    count = metrics.default(
        metric_namespace=NAMESPACE, metric_subsystem=SUBSYSTEM,
        latency_lowr_buckets=LATENCY_BUCKETS, registry=registry,
    )
    if count is None:  # the instrumentator's answer to metrics already in the registry
        raise ValueError("the API's metrics are already registered")
    app.add_middleware(RouteMetrics, count=count, routed=app)
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


@dataclass
class _Answer:
    """What the instrumentator's metrics read of an answer: its headers (Content-Length)."""

    headers: Headers


class RouteMetrics:
    """Pure ASGI: after the app answered, hands ``count`` (the instrumentator's metrics) what
    its own middleware would: the route's template as ``handler`` (``none`` when no route
    matched), the exact status, the seconds taken. The template is looked up by the route
    FastAPI put in ``scope["route"]``; a request no API route took (no route matched, the
    guards refused it before routing, the docs pages) is named by the instrumentator's own
    search of the route table, so every label is the one it gave."""

    def __init__(self, app: ASGIApp, count: Callable[[Info], None], routed: FastAPI) -> None:
        self.app, self.count, self.routed = app, count, routed
        self._templates: dict[int, str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = default_timer()
        status, headers = 500, []  # an exception out of the app is counted as a 500

        async def send_counted(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status, headers = int(message["status"]), message["headers"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            request = Request(scope)
            self.count(Info(
                request=request,
                response=cast(Response, _Answer(Headers(raw=headers))),
                method=request.method,
                modified_handler=self._handler(request),
                modified_status=str(status),
                modified_duration=max(default_timer() - began, 0.0),
            ))

    def _handler(self, request: Request) -> str:
        if self._templates is None:
            self._templates = route_templates(self.routed.routes)
        route = request.scope.get("route")
        template = self._templates.get(id(route)) if route is not None else None
        if template is not None:
            return template
        return get_route_name(request, should_include_root_path=False) or "none"


def route_templates(routes: list[Any]) -> dict[int, str]:
    """id of each API route (what FastAPI puts in ``scope["route"]``) -> its full template,
    prefixes of the routers that include it and all. A route included twice has two
    templates: it is left out, so its requests are named by searching the table."""
    templates: dict[int, str] = {}
    twice: set[int] = set()
    for context in iter_route_contexts(routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path is None:
            continue
        if templates.get(id(route), context.path) != context.path:
            twice.add(id(route))
        templates[id(route)] = context.path
    for key in twice:
        del templates[key]
    return templates
