"""GET /v1/kpis: the caller's assets' KPIs over a period, computed from stored readings."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from storage.catalog import Catalog
from storage.readings import Reading
from tests.api.conftest import T0, add_asset, auth
from tests.stores import MemoryStore

H = 3600.0


def iso(epoch: float) -> str:
    return f"{epoch:.0f}"


def readings(store: MemoryStore, tenant: str, asset: str, metric: str,
             *points: tuple[float, float]) -> None:
    store.write([Reading(tenant, asset, metric, t, v, "") for t, v in points])


def test_kpis_follow_the_readings_per_asset_and_per_kind(
    client: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    add_asset(catalog, "acme", "z1", capacity=100)
    add_asset(catalog, "acme", "z2", capacity=100)
    add_asset(catalog, "acme", "m1", kind="machine", capacity=1, unit="machine")
    # z1: 25 pallets for 2 h, then 75 for 2 h -> occupancy 0.5; z2: 100 for 4 h -> 1.0.
    readings(store, "acme", "z1", "occupied", (T0, 25), (T0 + 2 * H, 75), (T0 + 4 * H, 75))
    readings(store, "acme", "z2", "occupied", (T0, 100), (T0 + 4 * H, 100))
    # m1 runs 1 h of 4.
    readings(store, "acme", "m1", "running", (T0, 1), (T0 + H, 0), (T0 + 4 * H, 0))
    r = client.get("/v1/kpis", params={"start": iso(T0), "end": iso(T0 + 4 * H)},
                   headers=auth(catalog, "acme"))
    assert r.status_code == 200, r.text
    body = r.json()
    by_asset = {a["asset"]: a for a in body["assets"]}
    assert by_asset["z1"]["utilisation"] == pytest.approx(0.5)
    assert by_asset["z2"]["utilisation"] == pytest.approx(1.0)
    assert by_asset["m1"]["utilisation"] == pytest.approx(0.25)
    assert by_asset["z1"]["availability"] is None  # not defined for a storage zone
    kinds = {k["kind"]: k for k in body["kinds"]}
    assert kinds["warehouse_zone"]["assets"] == 2
    assert kinds["warehouse_zone"]["utilisation"] == pytest.approx(0.75)
    only_machines = client.get("/v1/kpis", params={"start": iso(T0), "end": iso(T0 + 4 * H),
                                                   "kind": "machine"},
                               headers=auth(catalog, "acme")).json()
    assert [a["asset"] for a in only_machines["assets"]] == ["m1"]


def test_kpis_never_include_another_tenants_assets(
    client: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    add_asset(catalog, "globex", "secret")
    readings(store, "globex", "secret", "occupied", (T0, 50), (T0 + H, 50))
    body = client.get("/v1/kpis", params={"start": iso(T0), "end": iso(T0 + H)},
                      headers=auth(catalog, "acme")).json()
    assert body["assets"] == [] and body["kinds"] == []
    mine = client.get("/v1/kpis", params={"start": iso(T0), "end": iso(T0 + H),
                                          "asset": "secret"},
                      headers=auth(catalog, "acme")).json()
    assert mine["assets"] == []


@pytest.mark.parametrize("params", [{"start": "200", "end": "100"},
                                    {"start": "0", "end": str(200 * 86400)}])
def test_reversed_or_overlong_periods_are_422(
    client: TestClient, catalog: Catalog, params: dict[str, str]
) -> None:
    r = client.get("/v1/kpis", params=params, headers=auth(catalog, "acme"))
    assert r.status_code == 422, r.text
