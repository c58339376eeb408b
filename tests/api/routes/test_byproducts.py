"""By-product offers through the API: an owner declares a container's material, search by EWC
code prefix in either spelling (one normal form), the material on each offer answer, JSON-LD as
material sold, and bad prefixes refused with the parameter named (both catalog engines)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from idleshare.materials import Material
from storage.catalog import Catalog, OfferRow
from tests.api.conftest import add_asset, add_live_offer, auth

SOON = time.time() + 86400
SAWDUST = Material("03 01 05", "sawdust", density_t_per_m3=0.2)
BARK = Material("03 01 01", "waste bark and cork")
SLAG = Material("10 02 02", "unprocessed slag", density_t_per_m3=1.6)
OILY = Material("10 02 11*", "wastes from cooling-water treatment containing oil",
                hazardous=True)


def byproduct(catalog: Catalog, tenant: str, asset: str, material: Material,
              visibility: str = "public") -> int:
    """A live by-product offer of ``material`` (as analytics.byproduct_offers makes them)."""
    add_asset(catalog, tenant, asset, kind="container", capacity=30.0, unit="m3")
    offer = add_live_offer(catalog, tenant, asset, SOON, quantity=12.0, visibility=visibility,
                           eural=material.code,
                           material={**material.to_dict(), "emptied_at": None})
    with catalog.session() as s:
        row = s.get(OfferRow, offer)
        assert row is not None
        row.kind, row.unit = "container", "m3"
    return offer


def test_an_owner_declares_a_containers_material_and_the_asset_shows_it(
        client: TestClient, catalog: Catalog) -> None:
    add_asset(catalog, "borealis", "bin", kind="container", unit="m3")
    owner = auth(catalog, "borealis")
    assert client.get("/v1/assets/bin/material", headers=owner).json() is None
    r = client.put("/v1/assets/bin/material", headers=owner,
                   json={"code": "100211*", "description": " oily sludge "})
    assert r.status_code == 200, r.text
    want = {"code": "10 02 11", "description": "oily sludge", "hazardous": True,
            "density_t_per_m3": None}
    assert r.json() == want
    assert client.get("/v1/assets/bin", headers=owner).json()["material"] == want
    assert client.get("/v1/assets/bin/material", headers=owner).json() == want
    assert client.delete("/v1/assets/bin/material", headers=owner).status_code == 204
    assert client.get("/v1/assets/bin", headers=owner).json()["material"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"code": "03 01", "description": "x"}, "code"),            # a sub-chapter, not a code
    ({"code": "21 01 01", "description": "x"}, "code"),         # no chapter 21
    ({"code": "03 01 0a", "description": "x"}, "code"),
    ({"code": "10 02 11*", "description": "x", "hazardous": False}, "hazardous"),
    ({"code": "03 01 05", "description": "x", "density_t_per_m3": 0}, "density_t_per_m3"),
    ({"code": "03 01 05", "description": ""}, "description"),
    ({"code": "03 01 05", "description": "x", "colour": "red"}, "colour"),
])
def test_a_bad_declaration_is_a_422_naming_the_field(
        client: TestClient, catalog: Catalog, body: dict[str, object], field: str) -> None:
    add_asset(catalog, "borealis", "bin", kind="container", unit="m3")
    r = client.put("/v1/assets/bin/material", headers=auth(catalog, "borealis"), json=body)
    assert r.status_code == 422, r.text
    assert field in [str(p) for p in r.json()["detail"][0]["loc"]]
    assert catalog.asset("borealis", "bin").material is None  # type: ignore[union-attr]


def test_only_a_container_holds_a_material(client: TestClient, catalog: Catalog) -> None:
    add_asset(catalog, "borealis", "zone")
    r = client.put("/v1/assets/zone/material", headers=auth(catalog, "borealis"),
                   json={"code": "03 01 05", "description": "sawdust"})
    assert r.status_code == 422 and "container" in r.text


def test_search_by_ewc_prefix_in_pairs_or_digits_finds_the_same_offers(
        client: TestClient, catalog: Catalog) -> None:
    sawdust = byproduct(catalog, "borealis", "bin-1", SAWDUST)
    bark = byproduct(catalog, "borealis", "bin-2", BARK)
    slag = byproduct(catalog, "steelco", "bin-3", SLAG)
    add_asset(catalog, "acme", "zone")
    zone = add_live_offer(catalog, "acme", "zone", SOON)
    market = auth(catalog, "collector", "platform")

    def found(prefix: str) -> list[int]:
        r = client.get("/v1/offers", headers=market, params={"eural": prefix})
        assert r.status_code == 200, r.text
        return sorted(o["id"] for o in r.json()["items"])

    assert found("03") == found("03*") == sorted([sawdust, bark])
    assert found("03 01") == found("0301") == sorted([sawdust, bark])
    assert found("03 01 05") == found("030105") == [sawdust]
    assert found("10") == [slag]
    assert found("20") == []
    everything = client.get("/v1/offers", headers=market).json()["items"]
    assert sorted(o["id"] for o in everything) == sorted([sawdust, bark, slag, zone])
    [shown] = client.get("/v1/offers", headers=market, params={"eural": "030105"}).json()["items"]
    assert shown["material"] == {"code": "03 01 05", "description": "sawdust",
                                 "hazardous": False, "density_t_per_m3": 0.2,
                                 "emptied_at": None}
    assert client.get(f"/v1/offers/{sawdust}", headers=market).json()["material"] == (
        shown["material"])


@pytest.mark.parametrize("prefix", ["3", "030", "0301055", "21", "ab", "03 01 05 01"])
def test_a_prefix_that_is_no_chapter_sub_chapter_or_code_is_a_422(
        client: TestClient, catalog: Catalog, prefix: str) -> None:
    r = client.get("/v1/offers", headers=auth(catalog, "collector", "platform"),
                   params={"eural": prefix})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][-1] == "eural"


def test_a_by_product_as_json_ld_is_its_material_sold(client: TestClient,
                                                       catalog: Catalog) -> None:
    offer = byproduct(catalog, "borealis", "bin", SAWDUST)
    doc = client.get(f"/v1/offers/{offer}/jsonld", headers=auth(catalog, "c", "platform")).json()
    assert doc["businessFunction"] == "http://purl.org/goodrelations/v1#Sell"
    item = doc["itemOffered"]
    assert (item["@type"], item["name"], item["identifier"]) == ("Product", "sawdust",
                                                                 "03 01 05")
    assert {"@type": "PropertyValue", "propertyID": "EWC", "name": "waste code",
            "value": "03 01 05"} in item["additionalProperty"]
    assert doc["eligibleQuantity"]["maxValue"] == 12.0
    assert doc["eligibleQuantity"]["unitCode"] == "MTQ"


def test_the_change_feed_and_the_snapshot_carry_the_offers_material(
        client: TestClient, catalog: Catalog) -> None:
    offer = byproduct(catalog, "borealis", "bin", SLAG)
    platform = auth(catalog, "collector", "platform")
    changes = client.get("/v1/feeds/offer-changes", headers=platform).json()["items"]
    created = next(c for c in changes if c["offer"]["id"] == offer)
    assert created["offer"]["material"]["code"] == "10 02 02"
    snapshot = client.get("/v1/feeds/offers", headers=platform).json()["items"]
    assert next(o for o in snapshot if o["id"] == offer)["material"]["code"] == "10 02 02"
