"""Leaks of other tenants' business through the change feed and through search filters."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from storage.catalog import Catalog, OfferRow, record_offer_event
from tests.api.conftest import add_asset, add_live_offer, auth


def _change(catalog: Catalog, offer_id: int, type_: str, **fields: object) -> None:
    with catalog.session() as s:
        row = s.get_one(OfferRow, offer_id)
        for k, v in fields.items():
            setattr(row, k, v)
        record_offer_event(s, row, type_, time.time())


def _feed(client: TestClient, headers: dict[str, str]) -> list[tuple[str, int, bool]]:
    r = client.get("/v1/feeds/offer-changes", headers=headers)
    assert r.status_code == 200, r.text
    return [(x["type"], x["offer_id"], x["offer"] is not None) for x in r.json()["items"]]


def test_a_platform_gets_no_tombstones_for_offers_it_was_never_shown(
    client: TestClient, catalog: Catalog
) -> None:
    assert client.put("/v1/tenant/partners/globex", headers=auth(catalog, "acme")).is_success
    add_asset(catalog, "acme", "z1")
    offer = add_live_offer(catalog, "acme", "z1", time.time() + 86400, visibility="partners")
    secret = add_live_offer(catalog, "acme", "z1", time.time() + 90000, visibility="private")
    _change(catalog, offer, "booked")
    _change(catalog, secret, "updated", quantity=20.0)
    _change(catalog, secret, "withdrawn", status="withdrawn")
    _change(catalog, offer, "updated", visibility="private")  # narrowed: partner must drop it
    stranger = auth(catalog, "market", "platform")
    assert _feed(client, stranger) == []
    partner = auth(catalog, "globex", "platform")
    assert _feed(client, partner) == [
        ("created", offer, True),
        ("booked", offer, True),
        ("withdrawn", offer, False),  # the one tombstone: an offer globex was shown
    ]


def test_an_underscore_in_a_capability_filter_matches_only_itself(
    client: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, "acme", "z1")
    wanted = add_live_offer(
        catalog, "acme", "z1", time.time() + 86400, capabilities=["cold_store"]
    )
    add_live_offer(catalog, "acme", "z1", time.time() + 90000, capabilities=["coldXstore"])
    h = auth(catalog, "market", "platform")
    r = client.get("/v1/offers", headers=h, params={"capability": "cold_store"})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["items"]] == [wanted]
