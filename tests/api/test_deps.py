"""Authentication: every /v1 route needs a known API key, sent as a bearer token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from storage.catalog import Catalog
from tests.api.conftest import add_asset, auth

PROTECTED = [
    "/v1/assets",
    "/v1/assets/z1",
    "/v1/assets/z1/utilisation",
    "/v1/idle-windows",
    "/v1/offers",
]


@pytest.mark.parametrize("url", PROTECTED)
def test_missing_key_is_401_with_bearer_challenge(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in r.json()["detail"]


@pytest.mark.parametrize("url", PROTECTED)
def test_unknown_key_is_401(client: TestClient, catalog: Catalog, url: str) -> None:
    catalog.create_key("acme")
    r = client.get(url, headers={"Authorization": "Bearer idl_not-a-real-key"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["detail"] == "unknown API key"


def test_key_in_another_scheme_is_401(client: TestClient, catalog: Catalog) -> None:
    key = catalog.create_key("acme")
    r = client.get("/v1/assets", headers={"Authorization": f"Basic {key}"})
    assert r.status_code == 401


def test_valid_key_resolves_to_its_tenant(client: TestClient, catalog: Catalog) -> None:
    add_asset(catalog, "acme", "z1")
    r = client.get("/v1/assets", headers=auth(catalog, "acme", role="viewer"))
    assert r.status_code == 200
    assert [a["tenant"] for a in r.json()["items"]] == ["acme"]
