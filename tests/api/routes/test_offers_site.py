"""``site=`` on offer search: only the caller's own offers of assets at that site of its
tenant; a site it does not have (another tenant's included) is a 404 that shows nothing."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from storage.catalog import Catalog
from tests.api.conftest import add_asset, add_live_offer, auth


def sited_offers(client: TestClient, catalog: Catalog, tenant: str) -> dict[str, int]:
    """Assets a1 at site north, a2 at site south, a3 at none; one live offer each."""
    h = auth(catalog, tenant)
    offers = {}
    for asset in ("a1", "a2", "a3"):
        add_asset(catalog, tenant, asset)
        offers[asset] = add_live_offer(catalog, tenant, asset, time.time() + 86400)
    for site, asset in (("north", "a1"), ("south", "a2")):
        r = client.post("/v1/sites", headers=h, json={"id": site, "name": site,
                                                       "timezone": "Europe/Berlin"})
        assert r.status_code == 201, r.text
        assert client.put(f"/v1/sites/{site}/assets/{asset}", headers=h).status_code == 204
    return offers


def found(client: TestClient, headers: dict[str, str], **params: str) -> list[int]:
    r = client.get("/v1/offers", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return sorted(o["id"] for o in r.json()["items"])


def test_site_keeps_the_offers_of_the_assets_at_that_site(client: TestClient,
                                                          catalog: Catalog) -> None:
    offers = sited_offers(client, catalog, "acme")
    h = auth(catalog, "acme", "viewer")
    assert found(client, h, site="north") == [offers["a1"]]
    assert found(client, h, site="south", sort="price") == [offers["a2"]]
    assert found(client, h) == sorted(offers.values())


def test_another_tenants_site_is_a_404_and_shows_none_of_its_offers(
    client: TestClient, catalog: Catalog
) -> None:
    sited_offers(client, catalog, "acme")
    # globex has a site called north too, with an asset called a1: still nothing of acme's.
    globex = sited_offers(client, catalog, "globex")
    assert found(client, auth(catalog, "globex"), site="north") == [globex["a1"]]
    for headers in (auth(catalog, "initech"), auth(catalog, "market", "platform")):
        r = client.get("/v1/offers", headers=headers, params={"site": "north"})
        assert r.status_code == 404, r.text
        assert "acme" not in r.text and "globex" not in r.text
