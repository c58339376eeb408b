"""Fixtures for the API: a real catalog (a fresh SQLite file, and a fresh PostgreSQL database:
``catalog_url``) and an in-memory store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from idleshare.assets import Asset
from storage.catalog import Catalog, IdleWindowRow, OfferRow
from tests.stores import MemoryStore

#: 2024-05-01T00:00:00Z, a whole day, so hour and day buckets start on it.
T0 = 1714521600.0


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def client(catalog: Catalog, store: MemoryStore) -> Iterator[TestClient]:
    with TestClient(create_app(catalog, store, dispatch_interval_s=None)) as c:
        yield c


def auth(catalog: Catalog, tenant: str, role: str = "owner") -> dict[str, str]:
    return {"Authorization": f"Bearer {catalog.create_key(tenant, role=role)}"}


def add_asset(
    catalog: Catalog,
    tenant: str,
    asset_id: str,
    kind: str = "warehouse_zone",
    capacity: float = 100.0,
    unit: str = "pallet",
) -> None:
    catalog.upsert_asset(
        Asset(id=asset_id, tenant=tenant, kind=kind, capacity=capacity, unit=unit),
        online=True,
        at=T0,
    )


def add_window(catalog: Catalog, tenant: str, asset_id: str, start: float, end: float) -> None:
    with catalog.session() as s:
        s.add(
            IdleWindowRow(
                tenant_id=tenant,
                asset_id=asset_id,
                start=start,
                end=end,
                min_free=60.0,
                mean_free=70.0,
                ongoing=False,
            )
        )


def add_offer(
    catalog: Catalog,
    tenant: str,
    asset_id: str,
    start: float,
    visibility: str = "public",
    status: str = "live",
    kind: str = "warehouse_zone",
) -> int:
    with catalog.session() as s:
        row = OfferRow(
            tenant_id=tenant,
            asset_id=asset_id,
            kind=kind,
            quantity=40.0,
            unit="pallet",
            start=start,
            end=start + 3600.0,
            confidence=0.9,
            visibility=visibility,
            status=status,
        )
        s.add(row)
        s.flush()
        return row.id


def walk(
    client: TestClient, url: str, headers: dict[str, str], **params: object
) -> tuple[list[dict], int]:
    """Every item of a paged list, following next_cursor; returns the items and page count."""
    items: list[dict] = []
    pages, cursor = 0, None
    while True:
        r = client.get(url, headers=headers, params=params | ({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < 100, "pagination does not end"


def add_live_offer(
    catalog: Catalog,
    tenant: str,
    asset_id: str,
    start: float,
    quantity: float = 40.0,
    visibility: str = "public",
    **fields: object,
) -> int:
    """An offer created the way analytics creates one: with its ``created`` feed event."""
    from storage.catalog import record_offer_event

    with catalog.session() as s:
        row = OfferRow(
            tenant_id=tenant, asset_id=asset_id, kind="warehouse_zone", quantity=quantity,
            unit="pallet", start=start, end=start + 3600.0, confidence=0.9,
            visibility=visibility, status="live", **fields,
        )
        s.add(row)
        record_offer_event(s, row, "created", start - 86400.0)
        return row.id


@pytest.fixture
def live_server(catalog: Catalog, store: MemoryStore) -> Iterator[str]:
    """The API served by a real uvicorn on a free port in a thread; yields its base URL."""
    from tests.servers import serving

    with serving(create_app(catalog, store, dispatch_interval_s=None)) as url:
        yield url


def worker_pids(pid: int) -> list[int]:
    """The uvicorn worker processes under ``pid`` (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(c)
        for c in children
        if b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()
    ]


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.fixture
def two_workers(
    catalog: Catalog, catalog_url: str, tmp_path: Path
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``idleshare api --workers 2`` over the ``catalog`` fixture's database."""
    with api_workers(catalog_url, tmp_path) as running:
        yield running


@contextmanager
def api_workers(catalog_url: str, tmp_path: Path, workers: int = 2,
                **env_vars: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """``idleshare api --workers N`` on that catalog, ``env_vars`` set: (base URL, process),
    once every worker listens."""
    from tests.servers import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDLESHARE_")}
    env["IDLESHARE_CATALOG_URL"] = catalog_url
    env.update(env_vars)
    argv = [sys.executable, "-m", "shell.cli", "api", "--workers", str(workers), "--port",
            str(port)]
    server = subprocess.Popen(
        [*argv, "--data-dir", str(tmp_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        # Each worker listens on its own socket once its app has started: wait for both.
        while len(tcp_sockets(port, LISTEN)) < workers:
            assert time.monotonic() < deadline, "the two API workers did not start"
            assert server.poll() is None, f"idleshare api exited with {server.returncode}"
            time.sleep(0.1)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.terminate()
        server.wait(timeout=30)


LISTEN, ESTABLISHED = "0A", "01"


def tcp_sockets(port: int, state: str) -> set[int]:
    """Inodes of the IPv4 TCP sockets with local ``port`` in ``state`` (/proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if int(f[1].rsplit(":", 1)[1], 16) == port and f[3] == state:
            found.add(int(f[9]))
    return found


def socket_inodes(pid: int) -> set[int]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(int(target[8:-1]))
    return found
