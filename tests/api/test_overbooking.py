"""Many platforms holding the same offer at once, through a real HTTP server."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from storage.catalog import BookingRow, Catalog
from tests.api.conftest import add_asset, add_live_offer, auth


def test_parallel_holds_never_exceed_the_offer_quantity(catalog: Catalog, live_server: str) -> None:
    add_asset(catalog, "acme", "z1")
    offer = add_live_offer(catalog, "acme", "z1", time.time() + 86400, quantity=25.0)
    keys = [auth(catalog, f"platform{i}", "platform") for i in range(8)]

    def attempt(i: int) -> int:
        with httpx.Client(base_url=live_server, headers=keys[i % len(keys)], timeout=60) as c:
            r = c.post("/v1/bookings", json={"offer_id": offer, "quantity": 3})
            assert r.status_code in (201, 409), r.text
            return r.status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(attempt, range(40)))
    # 25 // 3 = 8 holds fit; every other one must be refused, none may slip through.
    assert codes.count(201) == 8
    assert codes.count(409) == 32
    with catalog.session() as s:
        held = s.query(BookingRow).filter(BookingRow.offer_id == offer).all()
    assert sum(b.quantity for b in held) == 24.0
