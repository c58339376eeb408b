from __future__ import annotations

import time

from fastapi.testclient import TestClient

from storage.catalog import Catalog
from storage.readings import Reading
from tests.api.conftest import add_asset, add_live_offer, auth
from tests.stores import MemoryStore

NEW = {"id": "zb", "kind": "warehouse_zone", "capacity": 250, "unit": "pallet", "lat": 52.5}


def test_owner_creates_updates_and_deletes_an_asset(client: TestClient, catalog: Catalog) -> None:
    h = auth(catalog, "acme")
    assert client.post("/v1/assets", headers=h, json=NEW).status_code == 201
    assert client.post("/v1/assets", headers=h, json=NEW).status_code == 409
    r = client.patch("/v1/assets/zb", headers=h, json={"capacity": 300, "name": "Hall B"})
    assert (r.json()["capacity"], r.json()["name"]) == (300.0, "Hall B")
    assert client.delete("/v1/assets/zb", headers=h).status_code == 204
    assert client.get("/v1/assets/zb", headers=h).status_code == 404


def test_bad_asset_input_is_a_422_naming_the_field(client: TestClient, catalog: Catalog) -> None:
    h = auth(catalog, "acme")
    for bad in (
        {**NEW, "capacity": -1},
        {**NEW, "kind": "boat"},
        {**NEW, "id": "a b"},
        {**NEW, "lat": 91},
        {**NEW, "extra": 1},
    ):
        r = client.post("/v1/assets", headers=h, json=bad)
        assert r.status_code == 422, bad


def test_an_asset_with_offers_is_not_deleted(client: TestClient, catalog: Catalog) -> None:
    add_asset(catalog, "acme", "z1")
    add_live_offer(catalog, "acme", "z1", time.time() + 3600)
    r = client.delete("/v1/assets/z1", headers=auth(catalog, "acme"))
    assert r.status_code == 409 and "withdraw" in r.json()["detail"]


def test_policy_is_validated_stored_and_merged_over_defaults(
    client: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, "acme", "z1")
    h = auth(catalog, "acme")
    maintenance = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
                   "UID:m1\r\nDTSTART:20240506T060000Z\r\nDTEND:20240506T080000Z\r\n"
                   "RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    body = {"visibility": "partners", "blackout_hours": [7, 8], "timezone": "Europe/Berlin",
            "capabilities": ["forklift"], "planned_use": [maintenance], "price_per_tonne": 12.5}
    r = client.put("/v1/assets/z1/policy", headers=h, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["overrides"] == body
    assert r.json()["effective"]["min_free_fraction"] == 0.5
    for bad in (
        {"visibility": "everyone"},
        {"blackout_hours": [24]},
        {"reserve_fraction": 1},
        {"price": 3},
        {"currency": "euro"},
        {"timezone": "Mars/Olympus_Mons"},
        {"planned_use": ["http://plain-http.example/cal.ics"]},
        {"planned_use": ["BEGIN:VCALENDAR\r\nnot a calendar"]},
        {"price_per_tonne": -1},
    ):
        assert client.put("/v1/assets/z1/policy", headers=h, json=bad).status_code == 422, bad
    assert (
        client.put(
            "/v1/assets/z1/policy", headers=auth(catalog, "acme", "viewer"), json=body
        ).status_code
        == 403
    )


def test_status_reports_online_state_and_reading_age(
    client: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    add_asset(catalog, "acme", "z1")
    now = time.time()
    store.write([Reading("acme", "z1", "occupied", now - 30, 10.0)])
    body = client.get("/v1/assets/z1/status", headers=auth(catalog, "acme")).json()
    assert body["online"] is True
    assert 29 <= body["reading_age_s"] < 60


def test_forecast_answers_with_slots_from_history(
    client: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    add_asset(catalog, "acme", "z1")
    now = time.time()
    # Empty every night 0-8 h UTC for a week, full otherwise: the model expects it again.
    day0 = now - now % 86400 - 7 * 86400
    store.write(
        [
            Reading("acme", "z1", "occupied", day0 + d * 86400 + h * 3600, 0.0 if h < 8 else 100.0)
            for d in range(8)
            for h in range(24)
            if day0 + d * 86400 + h * 3600 < now
        ]
    )
    body = client.get("/v1/assets/z1/forecast", headers=auth(catalog, "acme")).json()
    assert body["slots"], body
    assert all(s["quantity"] > 0 for s in body["slots"])
