"""API metrics: route templates and exact statuses, on a port of their own, and every request
counted with several worker processes (prometheus-client's multiprocess mode)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from prometheus_client import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.requests import Request

from api.main import create_app
from storage.catalog import Catalog
from storage.sqlite import SqliteReadingStore
from tests.api.conftest import LISTEN, tcp_sockets, worker_pids
from tests.observability.helpers import (
    Command,
    listen_addresses,
    samples,
    scrape,
    value,
    wait_until,
)
from tests.servers import free_port

REQUESTS = "idleshare_api_http_requests_total"
LATENCY = "idleshare_api_http_request_duration_seconds"
ASSET = "/v1/assets/{asset_id}"


@pytest.fixture
def stores(sqlite_catalog: Catalog,
           sqlite_store: SqliteReadingStore) -> tuple[Catalog, SqliteReadingStore]:
    return sqlite_catalog, sqlite_store


def test_requests_are_counted_by_route_template_and_exact_status(
    stores: tuple[Catalog, SqliteReadingStore],
) -> None:
    catalog, store = stores
    key = catalog.create_key("acme", "owner", "test")
    app = create_app(catalog, store, dispatch_interval_s=None)
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {key}"}
        for asset in ("zone-1", "zone-2", "zone-3"):
            assert client.get(f"/v1/assets/{asset}", headers=auth).status_code == 404
        assert client.get("/v1/assets/zone-1").status_code == 401
        assert client.get("/healthz").status_code == 200
        for n in range(5):
            assert client.get(f"/no/such/page/{n}").status_code == 404
        # Not on the API's port: that one faces the Internet.
        assert client.get("/metrics").status_code == 404
    found = samples(generate_latest(app.state.metrics_registry).decode())

    assert value(found, REQUESTS, handler=ASSET, method="GET", status="404") == 3
    assert value(found, REQUESTS, handler=ASSET, status="401") == 1
    assert value(found, REQUESTS, handler="/healthz", status="200") == 1
    # Paths no route matches are one series, whatever the path: no raw paths as labels.
    assert value(found, REQUESTS, handler="none", status="404") == 6  # /metrics included
    handlers = {labels["handler"] for _, labels, _ in found if "handler" in labels}
    assert handlers == {ASSET, "/healthz", "none"}
    assert value(found, LATENCY + "_count", handler=ASSET, method="GET") == 4
    assert value(found, LATENCY + "_bucket", handler=ASSET, le="+Inf") == 4
    assert value(found, "idleshare_api_http_request_duration_highr_seconds_count") == 11


def test_apps_in_one_process_count_apart(stores: tuple[Catalog, SqliteReadingStore]) -> None:
    catalog, store = stores
    first, second = (create_app(catalog, store, dispatch_interval_s=None) for _ in range(2))
    with TestClient(first) as client:
        client.get("/healthz")
    assert value(samples(generate_latest(first.state.metrics_registry).decode()),
                 REQUESTS, handler="/healthz") == 1
    assert value(samples(generate_latest(second.state.metrics_registry).decode()),
                 REQUESTS, handler="/healthz") == 0


def _requests_in(db_file: Path) -> float:
    """Requests one process counted, from its own multiprocess file."""
    merged = MultiProcessCollector.merge([str(db_file)], accumulate=True)
    return sum(s.value for m in merged for s in m.samples
               if s.name == REQUESTS and s.labels.get("handler") == ASSET)


def test_requests_answered_by_two_worker_processes_are_all_counted_on_one_scrape(
    tmp_path: Path,
) -> None:
    data, prom = tmp_path / "data", tmp_path / "prom"
    prom.mkdir()
    (prom / "counter_999999.db").write_bytes(b"left by an earlier run")  # must be cleared
    data.mkdir()
    catalog = Catalog(f"sqlite:///{data / 'catalog.db'}")
    key = catalog.create_key("acme", "owner", "test")
    catalog.close()
    port, metrics_port = free_port(), free_port()
    server = Command(["api", "--workers", "2", "--port", str(port),
                      "--metrics-port", str(metrics_port)], data,
                     PROMETHEUS_MULTIPROC_DIR=str(prom))
    try:
        wait_until(lambda: len(tcp_sockets(port, LISTEN)) == 2 or server.proc.poll(),
                   "two API workers listening")
        assert server.proc.poll() is None, server.output()
        wait_until(lambda: scrape(metrics_port) is not None, "the metrics port")
        sent = 0
        # A new connection for each batch: the kernel spreads connections (not requests)
        # over the workers' sockets (SO_REUSEPORT).
        for n in range(40):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                              headers={"Authorization": f"Bearer {key}"}) as client:
                for asset in (f"zone-{n}", f"dock-{n}", f"bay-{n}"):
                    assert client.get(f"/v1/assets/{asset}").status_code == 404
                    sent += 1
        found = scrape(metrics_port)

        assert value(found, REQUESTS, handler=ASSET, method="GET", status="404") == sent
        per_process = {int(f.stem.split("_")[1]): _requests_in(f)
                       for f in prom.glob("counter_*.db")}
        workers = worker_pids(server.proc.pid)
        # Both workers answered some of them, and the scrape is their sum.
        assert set(per_process) == set(workers), (per_process, workers)
        assert all(n > 0 for n in per_process.values()), per_process
        assert sum(per_process.values()) == sent
        # The metrics listen on loopback only (ingest's and analytics' default too).
        assert listen_addresses(metrics_port) == ["127.0.0.1"]
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 404
    finally:
        server.stop()


def _sample_path(template: str) -> str:
    return re.sub(r"\{[^}:]+(:path)?\}", lambda m: "a/b.js" if m.group(1) else "1", template)


def test_every_route_is_counted_under_the_name_the_instrumentator_gives_it(
    stores: tuple[Catalog, SqliteReadingStore],
) -> None:
    """The handler label comes from the route the app chose: the same name the
    instrumentator's search of the route table gives, for every route and method, a method
    the route does not take (405), a body the guards refuse before routing (413), the docs
    pages and paths no route matches."""
    catalog, store = stores
    app = create_app(catalog, store, dispatch_interval_s=None, max_body_bytes=10)
    requests = [
        (method, _sample_path(context.path))
        for context in iter_route_contexts(app.routes)
        if context.path is not None
        for method in sorted(context.methods or ())
        if method != "HEAD"
    ]
    assert len(requests) > 50 and ("GET", "/v1/offers") in requests
    requests += [("PUT", "/healthz"), ("DELETE", "/v1/offers/1"), ("GET", "/no/such/page")]

    def named(method: str, path: str) -> str:
        scope = {"type": "http", "method": method, "path": path, "root_path": "", "app": app,
                 "headers": [], "query_string": b""}
        return get_route_name(Request(scope), should_include_root_path=False) or "none"

    expected = Counter((named(m, p), m) for m, p in requests)
    with TestClient(app, follow_redirects=False) as client:
        for method, path in requests:
            body = b"x" * 11 if method == "POST" else None  # over 10 bytes: the guards' 413
            client.request(method, path, content=body)
    found = samples(generate_latest(app.state.metrics_registry).decode())
    counted = {(labels["handler"], labels["method"]): n for name, labels, n in found
               if name == REQUESTS and n}
    assert counted == dict(expected)
    assert expected[("/v1/offers", "GET")] == 1 and expected[("none", "GET")] == 1
    assert value(found, REQUESTS, handler="/healthz", method="PUT", status="405") == 1
    posts = sum(1 for m, _ in requests if m == "POST")
    assert value(found, REQUESTS, status="413") == posts > 5
    assert value(found, REQUESTS, handler="/docs", status="200") == 1
