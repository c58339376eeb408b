from __future__ import annotations

import time

from fastapi.testclient import TestClient

from storage.catalog import Catalog, GroupMemberRow
from tests.api.conftest import add_asset, add_live_offer, auth, walk

T = time.time() + 86400


def ids(client: TestClient, h: dict[str, str], **params: object) -> list[int]:
    r = client.get("/v1/offers", headers=h, params=params)
    assert r.status_code == 200, r.text
    return [o["id"] for o in r.json()["items"]]


def test_filters_combine_kind_capability_quantity_window_distance_and_price(
    client: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, "acme", "z1")
    berlin = add_live_offer(
        catalog,
        "acme",
        "z1",
        T,
        quantity=50,
        lat=52.52,
        lon=13.40,
        price_per_unit_hour=0.5,
        capabilities=["forklift", "cold"],
    )
    munich = add_live_offer(
        catalog,
        "acme",
        "z1",
        T + 7200,
        quantity=5,
        lat=48.14,
        lon=11.58,
        price_per_unit_hour=2.0,
        capabilities=["forklift"],
    )
    h = auth(catalog, "market", "platform")
    assert ids(client, h, capability="cold") == [berlin]
    assert ids(client, h, capability=["forklift", "cold"]) == [berlin]
    assert ids(client, h, min_quantity=10) == [berlin]
    assert ids(client, h, start=T + 3600, end=T + 10000) == [munich]
    assert ids(client, h, lat=52.4, lon=13.1, km=30) == [berlin]  # Potsdam, ~25 km away
    assert ids(client, h, lat=52.4, lon=13.1, km=10) == []
    assert ids(client, h, max_price=1) == [berlin]
    assert ids(client, h, sort="price") == [berlin, munich]
    assert ids(client, h, sort="-quantity") == [berlin, munich]
    assert ids(client, h, lat=48.0, lon=11.0, km=1000, sort="distance") == [munich, berlin]


def test_bad_search_input_is_a_422(client: TestClient, catalog: Catalog) -> None:
    h = auth(catalog, "market", "platform")
    for params in (
        {"lat": 52},
        {"sort": "distance"},
        {"km": -1, "lat": 1, "lon": 1},
        {"capability": "Cold!"},
        {"start": 20, "end": 10},
        {"cursor": "nope"},
    ):
        assert client.get("/v1/offers", headers=h, params=params).status_code == 422, params


def test_group_and_partner_offers_are_visible_only_as_the_owner_allows(
    client: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, "acme", "z1")
    group = add_live_offer(catalog, "acme", "z1", T, visibility="group")
    partners = add_live_offer(catalog, "acme", "z1", T + 1, visibility="partners")
    private = add_live_offer(catalog, "acme", "z1", T + 2, visibility="private")
    catalog.ensure_tenant("sister")
    with catalog.session() as s:
        s.add_all([GroupMemberRow(group_id="g", tenant_id=t) for t in ("acme", "sister")])
    client.put("/v1/tenant/partners/friend", headers=auth(catalog, "acme"))
    assert ids(client, auth(catalog, "sister", "platform")) == [group, partners]
    assert ids(client, auth(catalog, "friend", "platform")) == [partners]
    assert ids(client, auth(catalog, "stranger", "platform")) == []
    assert ids(client, auth(catalog, "acme", "viewer")) == [group, partners, private]


def test_sorted_pages_follow_the_cursor_without_gaps(client: TestClient, catalog: Catalog) -> None:
    add_asset(catalog, "acme", "z1")
    made = [
        add_live_offer(catalog, "acme", "z1", T + i, price_per_unit_hour=i % 3) for i in range(9)
    ]
    items, pages = walk(client, "/v1/offers", auth(catalog, "m", "platform"), sort="price", limit=2)
    assert sorted(o["id"] for o in items) == made and pages == 5
    prices = [o["price_per_unit_hour"] for o in items]
    assert prices == sorted(prices)


def test_a_partner_change_through_the_api_applies_at_once_despite_the_peers_cache(
    client: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, "acme", "z1")
    offer = add_live_offer(catalog, "acme", "z1", T, visibility="partners")
    friend, owner = auth(catalog, "friend", "platform"), auth(catalog, "acme")
    assert ids(client, friend) == []  # friend's (empty) peers are now cached
    assert client.put("/v1/tenant/partners/friend", headers=owner).status_code == 200
    assert ids(client, friend) == [offer]
    assert client.delete("/v1/tenant/partners/friend", headers=owner).status_code == 200
    assert ids(client, friend) == []
