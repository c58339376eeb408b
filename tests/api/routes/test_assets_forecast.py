"""GET /v1/assets/{id}/forecast: each slot's P10 and median free quantity of the same hours in
the past days, beside the offerable quantity it leaves as it was."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from storage.catalog import Catalog
from storage.readings import Reading
from tests.api.conftest import add_asset, auth
from tests.stores import MemoryStore

DAY = 86400.0


def night_occupancy(t: float) -> float:
    """Full by day; at night (0-8 h UTC) empty, except on days 0 and 3 of every 7 (days since
    the epoch), when 40 of 100 pallets stay: any 7 days in a row hold 5 empty nights and 2
    with 60 free."""
    if (t % DAY) >= 8 * 3600:
        return 100.0
    return 40.0 if int(t // DAY) % 7 in (0, 3) else 0.0


def test_each_slot_has_the_p10_and_median_of_its_hours_in_the_past_week(
    client: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    add_asset(catalog, "acme", "z1")
    now = time.time()
    start = now - now % 3600 - 8 * DAY
    store.write([Reading("acme", "z1", "occupied", start + h * 3600,
                         night_occupancy(start + h * 3600)) for h in range(8 * 24 + 1)])
    body = client.get("/v1/assets/z1/forecast", headers=auth(catalog, "acme")).json()
    assert body["slots"], body
    for slot in body["slots"]:
        # Every slot is a night; the 7 nights before it: 2 of 7 at 60 free, 5 at 100 (today's
        # night may be only partly past, which leaves the 60s at least 1/7 of the time).
        assert (slot["p10"], slot["median"]) == (60.0, 100.0), slot
        # The offer is still the latest night's least free less the 10 % reserve.
        assert slot["quantity"] in (54.0, 90.0), slot

