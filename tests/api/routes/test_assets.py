from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from storage.catalog import Catalog
from storage.readings import Reading
from storage.sqlite import SqliteReadingStore
from tests.api.conftest import T0, add_asset, auth, walk
from tests.stores import MemoryStore

H = 3600.0


def occupied(store: MemoryStore, tenant: str, asset: str, *points: tuple[float, float]) -> None:
    store.write([Reading(tenant, asset, "occupied", t, v, "pallet") for t, v in points])


def test_list_shows_only_the_callers_assets(client: TestClient, catalog: Catalog) -> None:
    add_asset(catalog, "acme", "z1")
    add_asset(catalog, "globex", "z2")
    body = client.get("/v1/assets", headers=auth(catalog, "acme")).json()
    assert [a["id"] for a in body["items"]] == ["z1"]
    assert body["next_cursor"] is None
    assert body["items"][0] | {"status_at": None} == {
        "id": "z1",
        "tenant": "acme",
        "kind": "warehouse_zone",
        "name": "",
        "capacity": 100.0,
        "unit": "pallet",
        "lat": 0.0,
        "lon": 0.0,
        "metrics": ["occupied"],
        "online": True,
        "status_at": None,
        "material": None,
    }
    assert body["items"][0]["status_at"] == "2024-05-01T00:00:00Z"


def test_list_filters_by_kind_and_refuses_unknown_kinds(
    client: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, "acme", "z1")
    add_asset(catalog, "acme", "m1", kind="machine", capacity=1, unit="machine")
    h = auth(catalog, "acme")
    r = client.get("/v1/assets", headers=h, params={"kind": "machine"})
    assert [a["id"] for a in r.json()["items"]] == ["m1"]
    r = client.get("/v1/assets", headers=h, params={"kind": "spaceship"})
    assert r.status_code == 422
    assert "warehouse_zone" in r.json()["detail"][0]["msg"]


def test_pagination_walks_every_asset_exactly_once(client: TestClient, catalog: Catalog) -> None:
    ids = [f"z{i:02d}" for i in range(7)]
    for i in ids:
        add_asset(catalog, "acme", i)
    items, pages = walk(client, "/v1/assets", auth(catalog, "acme"), limit=3)
    assert [a["id"] for a in items] == ids
    assert pages == 3


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"cursor": "bm9wZQ"}])
def test_bad_paging_parameters_are_422(
    client: TestClient, catalog: Catalog, params: dict[str, object]
) -> None:
    assert client.get("/v1/assets", headers=auth(catalog, "acme"), params=params).status_code == 422


def test_another_tenants_asset_is_404_like_a_missing_one(
    client: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, "globex", "secret")
    h = auth(catalog, "acme")
    theirs = client.get("/v1/assets/secret", headers=h)
    missing = client.get("/v1/assets/nothing-here", headers=h)
    assert theirs.status_code == missing.status_code == 404
    assert client.get("/v1/assets/secret/utilisation", headers=h).status_code == 404
    assert client.get("/v1/assets/secret", headers=auth(catalog, "globex")).status_code == 200


def test_utilisation_is_time_weighted_per_hour(
    client: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    add_asset(catalog, "acme", "z1", capacity=100.0)
    # 25 pallets for the first hour, 75 for the second; 30 min of 75 and no data after that.
    occupied(store, "acme", "z1", (T0, 25.0), (T0 + H, 75.0), (T0 + 2.5 * H, 75.0))
    r = client.get(
        "/v1/assets/z1/utilisation",
        headers=auth(catalog, "acme"),
        params={"start": "2024-05-01T00:00:00Z", "end": "2024-05-01T04:00:00Z"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["asset"] == "z1" and body["bucket_s"] == H
    assert body["points"] == [
        {"start": "2024-05-01T00:00:00Z", "utilisation": 0.25, "coverage": 1.0},
        {"start": "2024-05-01T01:00:00Z", "utilisation": 0.75, "coverage": 1.0},
        {"start": "2024-05-01T02:00:00Z", "utilisation": 0.75, "coverage": 0.5},
        {"start": "2024-05-01T03:00:00Z", "utilisation": None, "coverage": 0.0},
    ]


def test_utilisation_carries_the_last_reading_before_start(
    client: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    add_asset(catalog, "acme", "z1", capacity=100.0)
    occupied(store, "acme", "z1", (T0 - 0.5 * H, 50.0), (T0 + H, 50.0))
    r = client.get(
        "/v1/assets/z1/utilisation",
        headers=auth(catalog, "acme"),
        params={"start": T0, "end": T0 + H},  # epoch seconds work as well as ISO 8601
    )
    assert r.json()["points"] == [
        {"start": "2024-05-01T00:00:00Z", "utilisation": 0.5, "coverage": 1.0}
    ]


def test_utilisation_reads_the_callers_own_series(
    client: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    add_asset(catalog, "acme", "z1")
    add_asset(catalog, "globex", "z1")
    occupied(store, "acme", "z1", (T0, 10.0), (T0 + H, 10.0))
    occupied(store, "globex", "z1", (T0, 90.0), (T0 + H, 90.0))
    params = {"start": T0, "end": T0 + H}
    r = client.get("/v1/assets/z1/utilisation", headers=auth(catalog, "acme"), params=params)
    assert r.json()["points"][0]["utilisation"] == pytest.approx(0.1)


def test_day_buckets_start_at_utc_midnight(
    client: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    add_asset(catalog, "acme", "m1", kind="machine", capacity=1.0, unit="machine")
    # Running 6 h of the first day (readings every 3 h, within the 6 h gap limit).
    store.write(
        [
            Reading("acme", "m1", "running", T0 + i * 3 * H, v)
            for i, v in enumerate([1, 1, 0, 0, 0, 0, 0, 0, 0])
        ]
    )
    r = client.get(
        "/v1/assets/m1/utilisation",
        headers=auth(catalog, "acme"),
        params={"start": "2024-05-01T10:00:00Z", "end": "2024-05-02T00:00:00Z", "bucket": "day"},
    )
    body = r.json()
    assert body["bucket_s"] == 86400.0
    assert [p["start"] for p in body["points"]] == ["2024-05-01T00:00:00Z"]
    assert body["points"][0]["utilisation"] == pytest.approx(0.25)


def test_utilisation_defaults_to_the_last_24_hours(client: TestClient, catalog: Catalog) -> None:
    add_asset(catalog, "acme", "z1")
    before = time.time()
    points = client.get("/v1/assets/z1/utilisation", headers=auth(catalog, "acme")).json()["points"]
    assert len(points) in (24, 25)
    assert points[-1]["start"] > time.strftime("%Y-%m-%dT%H", time.gmtime(before - 2 * H))
    assert all(p["utilisation"] is None and p["coverage"] == 0.0 for p in points)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2024-05-02", "end": "2024-05-01"}, "start must be before end"),
        ({"start": "yesterday"}, "ISO 8601"),
        ({"bucket": "week"}, "'hour' or 'day'"),
        ({"start": "2024-01-01", "end": "2024-12-31"}, "use bucket=day"),
        ({"start": "1714521600000"}, "epoch seconds must be between"),
    ],
)
def test_bad_utilisation_ranges_are_422_saying_why(
    client: TestClient, catalog: Catalog, params: dict[str, str], message: str
) -> None:
    add_asset(catalog, "acme", "z1")
    r = client.get("/v1/assets/z1/utilisation", headers=auth(catalog, "acme"), params=params)
    assert r.status_code == 422
    assert message in r.json()["detail"][0]["msg"]


def test_utilisation_over_the_embedded_sqlite_store(catalog: Catalog, tmp_path: Path) -> None:
    store = SqliteReadingStore(tmp_path / "readings.db")
    try:
        add_asset(catalog, "acme", "z1", capacity=200.0)
        store.write([Reading("acme", "z1", "occupied", T0 + i * 900, 50.0) for i in range(5)])
        client = TestClient(create_app(catalog, store))
        assert client.get("/healthz").json()["readings"] == "ok"
        r = client.get(
            "/v1/assets/z1/utilisation",
            headers=auth(catalog, "acme"),
            params={"start": T0, "end": T0 + H},
        )
        assert r.json()["points"] == [
            {"start": "2024-05-01T00:00:00Z", "utilisation": 0.25, "coverage": 1.0}
        ]
    finally:
        store.close()
