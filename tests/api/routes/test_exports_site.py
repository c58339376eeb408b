"""``site=`` on the exports that cover several assets: only the caller's assets at that site,
and another tenant's site a 404 that shows nothing of theirs."""

from __future__ import annotations

import csv
import io
import time

import pytest
from fastapi.testclient import TestClient

from market.bookings import hold
from market.caller import Caller
from storage.catalog import Catalog
from tests.api.conftest import T0, add_asset, add_live_offer, add_window, auth

EXPORTS = ("idle-windows", "offers", "bookings")


def rows(r) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.text)))


def two_sites_with_a_booked_offer_each(client: TestClient, catalog: Catalog,
                                       tenant: str, prefix: str) -> dict[str, str]:
    """Sites ``{prefix}-north`` (asset ``{prefix}1``) and ``{prefix}-south`` (``{prefix}2``);
    each asset with an idle window and a live offer held by the platform ``market``."""
    h = auth(catalog, tenant)
    for site, asset in ((f"{prefix}-north", f"{prefix}1"), (f"{prefix}-south", f"{prefix}2")):
        add_asset(catalog, tenant, asset)
        add_window(catalog, tenant, asset, T0, T0 + 3600)
        offer = add_live_offer(catalog, tenant, asset, time.time() + 86400)
        hold(catalog, Caller("market", "platform"), offer, 5.0, 900.0, time.time())
        r = client.post("/v1/sites", headers=h, json={"id": site, "name": site,
                                                       "timezone": "Europe/Berlin"})
        assert r.status_code == 201, r.text
        assert client.put(f"/v1/sites/{site}/assets/{asset}", headers=h).status_code == 204
    return h


@pytest.mark.parametrize("what", EXPORTS)
def test_site_keeps_the_rows_of_that_sites_assets(
    client: TestClient, catalog: Catalog, what: str
) -> None:
    h = two_sites_with_a_booked_offer_each(client, catalog, "acme", "z")
    path = f"/v1/exports/{what}.csv"
    params = {"status": "any"} if what == "offers" else {}
    assert {r["asset"] for r in rows(client.get(path, params=params, headers=h))} == {"z1", "z2"}
    got = rows(client.get(path, params=params | {"site": "z-north"}, headers=h))
    assert got and {r["asset"] for r in got} == {"z1"}


@pytest.mark.parametrize("what", EXPORTS)
def test_another_tenants_site_is_missing_and_shows_nothing_of_theirs(
    client: TestClient, catalog: Catalog, what: str
) -> None:
    two_sites_with_a_booked_offer_each(client, catalog, "globex", "g")
    two_sites_with_a_booked_offer_each(client, catalog, "acme", "z")
    path = f"/v1/exports/{what}.csv"
    for key in (auth(catalog, "acme"), auth(catalog, "market", "platform")):
        for site in ("g-north", "nowhere"):
            r = client.get(path, params={"site": site}, headers=key)
            assert r.status_code == 404, r.text
            assert "g1" not in r.text and "globex" not in r.text
    # The platform that booked globex's offer has no site of its own: its bookings of
    # globex's assets are not reachable through globex's site either.
    r = client.get("/v1/exports/bookings.csv", headers=auth(catalog, "market", "platform"))
    assert {row["asset"] for row in rows(r)} >= {"g1", "z1"}


def test_the_same_site_and_asset_ids_at_another_tenant_stay_theirs(
    client: TestClient, catalog: Catalog
) -> None:
    two_sites_with_a_booked_offer_each(client, catalog, "globex", "z")
    h = two_sites_with_a_booked_offer_each(client, catalog, "acme", "z")
    offers = rows(client.get("/v1/exports/offers.csv", params={"status": "any", "site": "z-north"},
                             headers=h))
    assert [(r["tenant"], r["asset"]) for r in offers] == [("acme", "z1")]
    bookings = rows(client.get("/v1/exports/bookings.csv", params={"site": "z-north"}, headers=h))
    assert [(r["owner"], r["asset"]) for r in bookings] == [("acme", "z1")]
