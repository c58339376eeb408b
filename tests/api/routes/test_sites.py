"""Sites: created by owners, read by every key of the tenant, assets placed at one site at a
time, and ``site=`` keeping the assets and KPIs of that site."""

from __future__ import annotations

from fastapi.testclient import TestClient

from storage.catalog import Catalog
from storage.readings import Reading
from tests.api.conftest import T0, add_asset, auth
from tests.stores import MemoryStore

BERLIN = {"id": "berlin-1", "name": "Berlin Nord", "address": "Am Borsigturm 1",
          "timezone": "Europe/Berlin", "lat": 52.58, "lon": 13.28}


def test_an_owner_creates_a_site_and_every_key_of_the_tenant_reads_it(
    client: TestClient, catalog: Catalog
) -> None:
    r = client.post("/v1/sites", json=BERLIN, headers=auth(catalog, "acme"))
    assert r.status_code == 201, r.text
    assert r.json() == BERLIN
    viewer = auth(catalog, "acme", "viewer")
    assert client.get("/v1/sites", headers=viewer).json() == {"items": [BERLIN],
                                                               "next_cursor": None}
    assert client.get("/v1/sites/berlin-1", headers=viewer).json() == BERLIN
    assert client.post("/v1/sites", json=BERLIN, headers=viewer).status_code == 403
    assert client.post("/v1/sites", json=BERLIN, headers=auth(catalog, "acme")).status_code == 409
    # Another tenant's site is a missing one.
    g = auth(catalog, "globex")
    assert client.get("/v1/sites/berlin-1", headers=g).status_code == 404
    assert client.get("/v1/assets", params={"site": "berlin-1"}, headers=g).status_code == 404
    assert client.get("/v1/kpis", params={"site": "berlin-1"}, headers=g).status_code == 404


def test_a_site_with_an_unknown_time_zone_is_refused_naming_the_field(
    client: TestClient, catalog: Catalog
) -> None:
    h = auth(catalog, "acme")
    r = client.post("/v1/sites", json=BERLIN | {"timezone": "Mars/Olympus"}, headers=h)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "timezone"]
    client.post("/v1/sites", json=BERLIN, headers=h)
    r = client.patch("/v1/sites/berlin-1", json={"timezone": "Nowhere/X"}, headers=h)
    assert r.status_code == 422
    r = client.patch("/v1/sites/berlin-1", json={"address": "Am Borsigturm 2"}, headers=h)
    assert r.json()["address"] == "Am Borsigturm 2" and r.json()["timezone"] == "Europe/Berlin"


def test_an_asset_stands_at_one_site_and_the_site_filter_lists_it(
    client: TestClient, catalog: Catalog
) -> None:
    h = auth(catalog, "acme")
    for site in ("berlin-1", "hamburg-1"):
        client.post("/v1/sites", json=BERLIN | {"id": site}, headers=h)
    for a in ("z1", "z2", "z3"):
        add_asset(catalog, "acme", a)
    assert client.put("/v1/sites/berlin-1/assets/z1", headers=h).status_code == 204
    assert client.put("/v1/sites/berlin-1/assets/z2", headers=h).status_code == 204
    assert client.put("/v1/sites/hamburg-1/assets/z2", headers=h).status_code == 204  # moved
    ids = lambda site: [a["id"] for a in client.get(  # noqa: E731
        "/v1/assets", params={"site": site}, headers=h).json()["items"]]
    assert ids("berlin-1") == ["z1"] and ids("hamburg-1") == ["z2"]
    assert client.get("/v1/assets", params={"site": "nowhere"}, headers=h).status_code == 404
    assert client.delete("/v1/sites/berlin-1/assets/z2", headers=h).status_code == 404
    assert client.delete("/v1/sites/hamburg-1/assets/z2", headers=h).status_code == 204
    assert ids("hamburg-1") == []
    # Neither another tenant's asset nor its site can be used.
    add_asset(catalog, "globex", "g1")
    assert client.put("/v1/sites/berlin-1/assets/g1", headers=h).status_code == 404
    g = auth(catalog, "globex")
    assert client.put("/v1/sites/berlin-1/assets/g1", headers=g).status_code == 404


def test_the_site_filter_pages_by_id_and_keeps_the_kind_filter(
    client: TestClient, catalog: Catalog
) -> None:
    h = auth(catalog, "acme")
    client.post("/v1/sites", json=BERLIN, headers=h)
    for a, kind in (("z1", "warehouse_zone"), ("m1", "machine"), ("z2", "warehouse_zone"),
                    ("z3", "warehouse_zone"), ("z9", "warehouse_zone")):
        add_asset(catalog, "acme", a, kind=kind)
        if a != "z9":  # z9 is elsewhere
            assert client.put(f"/v1/sites/berlin-1/assets/{a}", headers=h).status_code == 204
    params = {"site": "berlin-1", "kind": "warehouse_zone", "limit": 2}
    first = client.get("/v1/assets", params=params, headers=h).json()
    assert [a["id"] for a in first["items"]] == ["z1", "z2"]
    rest = client.get("/v1/assets", params=params | {"cursor": first["next_cursor"]},
                      headers=h).json()
    assert [a["id"] for a in rest["items"]] == ["z3"] and rest["next_cursor"] is None


def test_the_kpis_of_a_site_are_those_of_its_assets(
    client: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    h = auth(catalog, "acme")
    client.post("/v1/sites", json=BERLIN, headers=h)
    add_asset(catalog, "acme", "z1")
    add_asset(catalog, "acme", "z2")
    client.put("/v1/sites/berlin-1/assets/z1", headers=h)
    # z1 a quarter full for the hour, z2 three quarters: the site's utilisation is z1's.
    for asset, level in (("z1", 25.0), ("z2", 75.0)):
        store.write([Reading("acme", asset, "occupied", T0 + i * 300, level) for i in range(13)])
    q = {"start": T0, "end": T0 + 3600}
    site = client.get("/v1/kpis", params=q | {"site": "berlin-1"}, headers=h).json()
    every = client.get("/v1/kpis", params=q, headers=h).json()
    assert [a["asset"] for a in site["assets"]] == ["z1"]
    assert site["assets"][0] == next(a for a in every["assets"] if a["asset"] == "z1")
    assert site["kinds"][0]["utilisation"] == site["assets"][0]["utilisation"]
    assert client.get("/v1/kpis", params={"site": "x"}, headers=h).status_code == 404
