"""GET /v1/offers/{offer_id}/jsonld: the offer as a schema.org Offer with the offer's own
values, under the visibility rules of reading the offer (attackers get a 404)."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from storage.catalog import Catalog, OfferRow
from tests.api.conftest import add_asset, add_live_offer, auth
from tests.api.routes.test_impact import client  # noqa: F401 - the app with this router

SOON = time.time() + 86400


def offer_of(catalog: Catalog, tenant: str, asset: str, kind: str, unit: str,
             **fields: object) -> int:
    """A live offer of another kind and unit than add_live_offer's."""
    offer = add_live_offer(catalog, tenant, asset, SOON, **fields)
    with catalog.session() as s:
        row = s.get(OfferRow, offer)
        assert row is not None
        row.kind, row.unit = kind, unit
    return offer


def jsonld(client: TestClient, key: dict[str, str], offer: int):  # noqa: F811
    return client.get(f"/v1/offers/{offer}/jsonld", headers=key)


def test_an_offer_as_schema_org_json_ld_carries_the_offers_values(
    client: TestClient, catalog: Catalog  # noqa: F811
) -> None:
    add_asset(catalog, "acme", "dock", kind="vehicle", unit="t")
    offer = offer_of(catalog, "acme", "dock", "vehicle", "t", quantity=20.0, lat=48.8566,
                     lon=2.3522, price_per_unit_hour=2.5, currency="EUR",
                     capabilities=["reefer"])
    platform = auth(catalog, "market", "platform")
    client.post("/v1/bookings", headers=platform, json={"offer_id": offer, "quantity": 5.0})
    plain = client.get(f"/v1/offers/{offer}", headers=platform).json()

    r = jsonld(client, platform, offer)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/ld+json"
    doc = json.loads(r.text)
    assert (doc["@context"], doc["@type"]) == ("https://schema.org", "Offer")
    assert doc["identifier"] == str(offer)
    assert doc["businessFunction"] == "http://purl.org/goodrelations/v1#LeaseOut"
    assert (doc["availabilityStarts"], doc["availabilityEnds"]) == (plain["start"], plain["end"])
    assert doc["availability"] == "https://schema.org/InStock" and plain["available"] == 15.0
    assert doc["eligibleQuantity"] == {"@type": "QuantitativeValue", "maxValue": 15.0,
                                       "unitCode": "TNE", "unitText": "t"}
    assert doc["availableAtOrFrom"] == {
        "@type": "Place",
        "geo": {"@type": "GeoCoordinates", "latitude": 48.8566, "longitude": 2.3522},
    }
    price = doc["priceSpecification"]
    assert (price["@type"], price["price"], price["priceCurrency"]) == (
        "UnitPriceSpecification", 2.5, "EUR")
    assert price["unitCode"] == "TNE"
    assert price["referenceQuantity"] == {"@type": "QuantitativeValue", "value": 1,
                                          "unitCode": "HUR", "unitText": "hour"}
    item = doc["itemOffered"]
    assert (item["@type"], item["name"], item["identifier"]) == ("Service", "vehicle", "dock")
    assert "Truck" in item["description"]
    assert item["additionalProperty"] == [
        {"@type": "PropertyValue", "name": "capability", "value": "reefer"}]
    assert doc["seller"] == {"@type": "Organization", "identifier": "acme"}


def test_a_unit_without_a_un_cefact_code_is_unit_text_and_a_by_product_a_product(
    client: TestClient, catalog: Catalog  # noqa: F811
) -> None:
    add_asset(catalog, "acme", "zone")
    add_asset(catalog, "acme", "bin", kind="container", unit="m3")
    pallets = add_live_offer(catalog, "acme", "zone", SOON)
    material = offer_of(catalog, "acme", "bin", "container", "m3")
    owner = auth(catalog, "acme")
    doc = jsonld(client, owner, pallets).json()
    assert doc["eligibleQuantity"] == {"@type": "QuantitativeValue", "maxValue": 40.0,
                                       "unitText": "pallet"}
    assert "additionalProperty" not in doc["itemOffered"]
    bin_ = jsonld(client, owner, material).json()
    assert bin_["itemOffered"]["@type"] == "Product"
    assert bin_["eligibleQuantity"]["unitCode"] == "MTQ"
    client.post(f"/v1/offers/{material}/withdraw", headers=owner)
    assert jsonld(client, owner, material).json()["availability"] == (
        "https://schema.org/Discontinued")


@pytest.mark.parametrize("visibility", ["private", "partners", "group"])
def test_an_offer_the_caller_may_not_see_is_404_like_a_missing_one(
    client: TestClient, catalog: Catalog, visibility: str  # noqa: F811
) -> None:
    add_asset(catalog, "acme", "zone")
    hidden = add_live_offer(catalog, "acme", "zone", SOON, visibility=visibility)
    for tenant, role in (("evil", "platform"), ("evil", "owner"), ("evil", "viewer")):
        key = auth(catalog, tenant, role)
        assert client.get(f"/v1/offers/{hidden}", headers=key).status_code == 404
        r = jsonld(client, key, hidden)
        assert r.status_code == 404, r.text
        assert "acme" not in r.text and "zone" not in r.text
        assert jsonld(client, key, hidden + 1000).json() == {"detail": f"no offer {hidden + 1000}"}
        assert r.json() == {"detail": f"no offer {hidden}"}
    assert jsonld(client, auth(catalog, "acme", "viewer"), hidden).status_code == 200


def test_a_partner_sees_the_json_ld_of_a_partners_offer(
    client: TestClient, catalog: Catalog  # noqa: F811
) -> None:
    add_asset(catalog, "acme", "zone")
    offer = add_live_offer(catalog, "acme", "zone", SOON, visibility="partners")
    assert client.put("/v1/tenant/partners/friend", headers=auth(catalog, "acme")).is_success
    assert jsonld(client, auth(catalog, "friend", "platform"), offer).status_code == 200
    assert jsonld(client, auth(catalog, "evil", "platform"), offer).status_code == 404
