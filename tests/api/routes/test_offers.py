from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.params import encode_cursor
from storage.catalog import Catalog
from tests.api.conftest import T0, add_asset, add_offer, auth, walk

H = 3600.0


@pytest.fixture
def offers(catalog: Catalog) -> dict[str, int]:
    """acme and globex, each with a public, a partners-only and a withdrawn offer."""
    ids = {}
    for tenant in ("acme", "globex"):
        add_asset(catalog, tenant, "z1")
        ids[f"{tenant}-public"] = add_offer(catalog, tenant, "z1", T0)
        ids[f"{tenant}-partners"] = add_offer(catalog, tenant, "z1", T0 + H, visibility="partners")
        ids[f"{tenant}-withdrawn"] = add_offer(
            catalog, tenant, "z1", T0 + 2 * H, status="withdrawn"
        )
    return ids


def listed(client: TestClient, headers: dict[str, str], **params: object) -> list[int]:
    r = client.get("/v1/offers", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return [o["id"] for o in r.json()["items"]]


@pytest.mark.parametrize("role", ["owner", "viewer"])
def test_tenant_keys_see_their_own_live_offers_whatever_the_visibility(
    client: TestClient, catalog: Catalog, offers: dict[str, int], role: str
) -> None:
    got = listed(client, auth(catalog, "acme", role))
    assert got == [offers["acme-public"], offers["acme-partners"]]


def test_platform_keys_see_public_offers_of_every_tenant_only(
    client: TestClient, catalog: Catalog, offers: dict[str, int]
) -> None:
    got = listed(client, auth(catalog, "marketplace", "platform"), status="any")
    assert sorted(got) == sorted(
        [
            offers["acme-public"],
            offers["globex-public"],
            offers["globex-withdrawn"],
            offers["acme-withdrawn"],
        ]
    )
    got = listed(client, auth(catalog, "marketplace", "platform"))
    assert sorted(got) == sorted([offers["acme-public"], offers["globex-public"]])


def test_status_any_lists_withdrawn_offers_too(
    client: TestClient, catalog: Catalog, offers: dict[str, int]
) -> None:
    h = auth(catalog, "acme")
    assert listed(client, h, status="withdrawn") == [offers["acme-withdrawn"]]
    assert len(listed(client, h, status="any")) == 3


def test_offers_filter_by_kind_and_asset(client: TestClient, catalog: Catalog) -> None:
    add_asset(catalog, "acme", "z1")
    add_asset(catalog, "acme", "t1", kind="vehicle", capacity=20, unit="t")
    zone = add_offer(catalog, "acme", "z1", T0)
    truck = add_offer(catalog, "acme", "t1", T0, kind="vehicle")
    h = auth(catalog, "acme")
    assert listed(client, h, kind="vehicle") == [truck]
    assert listed(client, h, asset="z1") == [zone]
    assert client.get("/v1/offers", headers=h, params={"kind": "boat"}).status_code == 422


def test_offer_json_shape(client: TestClient, catalog: Catalog) -> None:
    add_asset(catalog, "acme", "z1")
    oid = add_offer(catalog, "acme", "z1", T0)
    (offer,) = client.get("/v1/offers", headers=auth(catalog, "acme")).json()["items"]
    assert offer == {
        "id": oid,
        "tenant": "acme",
        "asset": "z1",
        "kind": "warehouse_zone",
        "quantity": 40.0,
        "unit": "pallet",
        "start": "2024-05-01T00:00:00Z",
        "end": "2024-05-01T01:00:00Z",
        "confidence": 0.9,
        "method": "seasonal_naive",
        "location": {"lat": 0.0, "lon": 0.0},
        "price_per_unit_hour": 0.0,
        "currency": "EUR",
        "visibility": "public",
        "status": "live",
        "available": 40.0,
        "capabilities": [],
        "leg": None,
        "material": None,
    }


def test_pagination_walks_every_offer_once_in_start_order(
    client: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, "acme", "z1")
    # Inserted out of order, with ties on start, so only (start, id) keeps the walk exact.
    ids = [add_offer(catalog, "acme", "z1", T0 + (i % 4) * H) for i in range(11)]
    items, pages = walk(client, "/v1/offers", auth(catalog, "acme"), limit=4)
    assert sorted(o["id"] for o in items) == sorted(ids)
    assert len(items) == 11 and pages == 3
    keys = [(o["start"], o["id"]) for o in items]
    assert keys == sorted(keys)


@pytest.mark.parametrize("cursor", ["!!", encode_cursor(["z1"]), encode_cursor([T0])])
def test_invalid_cursor_is_422_not_500(client: TestClient, catalog: Catalog, cursor: str) -> None:
    r = client.get("/v1/offers", headers=auth(catalog, "acme"), params={"cursor": cursor})
    assert r.status_code == 422
    assert "invalid cursor" in r.json()["detail"][0]["msg"]
