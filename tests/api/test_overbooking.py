"""Many platforms holding the same offer at once, through a real HTTP server: one process
with threads, and two worker processes (``idleshare api --workers 2``) on one catalog, SQLite
and PostgreSQL."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from subprocess import Popen

import httpx

from storage.catalog import BookingRow, Catalog
from tests.api.conftest import add_asset, add_live_offer, auth, cpu_ticks, worker_pids


def holds_in_parallel(catalog: Catalog, base_url: str) -> list[int]:
    """40 holds of 3 on an offer of 25, from 16 threads with a connection each."""
    add_asset(catalog, "acme", "z1")
    offer = add_live_offer(catalog, "acme", "z1", time.time() + 86400, quantity=25.0)
    keys = [auth(catalog, f"platform{i}", "platform") for i in range(8)]

    def attempt(i: int) -> int:
        with httpx.Client(base_url=base_url, headers=keys[i % len(keys)], timeout=60) as c:
            r = c.post("/v1/bookings", json={"offer_id": offer, "quantity": 3})
            assert r.status_code in (201, 409), r.text
            return r.status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(attempt, range(40)))
    with catalog.session() as s:
        held = s.query(BookingRow).filter(BookingRow.offer_id == offer).all()
    assert sum(b.quantity for b in held) == 24.0
    return codes


def test_parallel_holds_never_exceed_the_offer_quantity(catalog: Catalog, live_server: str) -> None:
    codes = holds_in_parallel(catalog, live_server)
    # 25 // 3 = 8 holds fit; every other one must be refused, none may slip through.
    assert codes.count(201) == 8
    assert codes.count(409) == 32


def test_parallel_holds_through_two_worker_processes_never_overbook(
    catalog: Catalog, two_workers: tuple[str, Popen]
) -> None:
    base_url, server = two_workers
    before = {pid: cpu_ticks(pid) for pid in worker_pids(server.pid)}
    assert len(before) == 2
    codes = holds_in_parallel(catalog, base_url)
    assert codes.count(201) == 8
    assert codes.count(409) == 32
    # Both processes did work, so the holds really raced across processes, not only threads.
    assert all(cpu_ticks(pid) > ticks for pid, ticks in before.items())
