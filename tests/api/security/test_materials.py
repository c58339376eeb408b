"""Materials and by-product offers tried as an attacker would: another tenant's container, a
platform or viewer key declaring a material, and a hazardous material hidden by its owner's
visibility found through the EWC search, its offer id or JSON-LD."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from storage.catalog import Catalog
from tests.api.conftest import add_asset, auth
from tests.api.routes.test_byproducts import OILY, SAWDUST, byproduct

DECLARATION = {"code": "03 01 05", "description": "sawdust"}


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_another_tenants_container_is_a_404_whatever_the_request(
        client: TestClient, catalog: Catalog, method: str) -> None:
    add_asset(catalog, "borealis", "bin", kind="container", unit="m3")
    client.put("/v1/assets/bin/material", headers=auth(catalog, "borealis"), json=DECLARATION)
    for role in ("owner", "viewer", "platform"):
        r = client.request(method, "/v1/assets/bin/material", headers=auth(catalog, "evil", role),
                           json={"code": "16 01 04*", "description": "scrap"})
        assert r.status_code in (403, 404), (role, r.status_code)
        if role == "owner":
            assert r.status_code == 404
    assert catalog.asset("borealis", "bin").material["code"] == "03 01 05"  # type: ignore[index,union-attr]


@pytest.mark.parametrize("role", ["viewer", "platform"])
def test_only_an_owner_key_declares_its_containers_material(
        client: TestClient, catalog: Catalog, role: str) -> None:
    add_asset(catalog, "borealis", "bin", kind="container", unit="m3")
    for method in ("put", "delete"):
        r = client.request(method, "/v1/assets/bin/material",
                           headers=auth(catalog, "borealis", role), json=DECLARATION)
        assert r.status_code == 403, r.text
    assert catalog.asset("borealis", "bin").material is None  # type: ignore[union-attr]


@pytest.mark.parametrize("visibility", ["private", "partners", "group"])
def test_a_hidden_hazardous_offer_is_found_by_no_stranger(
        client: TestClient, catalog: Catalog, visibility: str) -> None:
    hidden = byproduct(catalog, "borealis", "oily", OILY, visibility=visibility)
    public = byproduct(catalog, "borealis", "dust", SAWDUST)
    for tenant, role in (("evil", "platform"), ("evil", "owner"), ("evil", "viewer")):
        key = auth(catalog, tenant, role)
        for prefix in ("10", "10 02", "100211", "10 02 11*"):
            r = client.get("/v1/offers", headers=key, params={"eural": prefix})
            assert r.status_code == 200 and r.json()["items"] == [], (tenant, role, prefix)
        assert client.get(f"/v1/offers/{hidden}", headers=key).status_code == 404
        assert client.get(f"/v1/offers/{hidden}/jsonld", headers=key).status_code == 404
    stranger = auth(catalog, "evil", "platform")
    assert [o["id"] for o in client.get("/v1/offers", headers=stranger, params={
        "eural": "03"}).json()["items"]] == [public]
    # Its owner still finds it.
    mine = client.get("/v1/offers", headers=auth(catalog, "borealis"), params={"eural": "10"})
    assert [o["id"] for o in mine.json()["items"]] == [hidden]
