from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from market.bookings import expire_holds
from storage.catalog import Catalog, OfferEventRow
from tests.api.conftest import add_asset, add_live_offer, auth

FUTURE = time.time() + 7 * 86400


@pytest.fixture
def offer(catalog: Catalog) -> int:
    add_asset(catalog, "acme", "z1")
    return add_live_offer(catalog, "acme", "z1", FUTURE, quantity=100.0)


def hold(client: TestClient, h: dict[str, str], offer: int, qty: float, **kw: object):
    return client.post("/v1/bookings", headers=h, json={"offer_id": offer, "quantity": qty, **kw})


def test_hold_confirm_cancel_moves_availability_and_records_events(
    client: TestClient, catalog: Catalog, offer: int
) -> None:
    h = auth(catalog, "market", "platform")
    r = hold(client, h, offer, 30)
    assert r.status_code == 201, r.text
    b = r.json()
    assert (b["status"], b["owner"], b["tenant"]) == ("held", "acme", "market")
    assert client.get(f"/v1/offers/{offer}", headers=h).json()["available"] == 70.0
    r = client.post(f"/v1/bookings/{b['id']}/confirm", headers=h)
    assert r.json()["status"] == "confirmed" and r.json()["hold_expires_at"] is None
    # The owner sees the booking on its asset and may cancel it.
    owner = auth(catalog, "acme")
    assert [x["id"] for x in client.get("/v1/bookings", headers=owner).json()["items"]] == [b["id"]]
    assert client.post(f"/v1/bookings/{b['id']}/cancel", headers=owner).json()["status"] == (
        "cancelled"
    )
    assert client.get(f"/v1/offers/{offer}", headers=h).json()["available"] == 100.0
    assert client.post(f"/v1/bookings/{b['id']}/cancel", headers=h).status_code == 409
    with catalog.session() as s:
        events = [
            (e.type, e.snapshot["available"])
            for e in s.query(OfferEventRow).order_by(OfferEventRow.id)
        ]
    assert events == [("created", 100.0), ("booked", 70.0), ("updated", 100.0)]


def test_holds_beyond_the_available_quantity_are_refused_with_409(
    client: TestClient, catalog: Catalog, offer: int
) -> None:
    h = auth(catalog, "market", "platform")
    assert hold(client, h, offer, 60).status_code == 201
    r = hold(client, h, offer, 41)
    assert r.status_code == 409
    assert "40 pallet available" in r.json()["detail"]
    assert hold(client, h, offer, 40).status_code == 201


def test_an_expired_hold_frees_capacity_and_cannot_be_confirmed(
    client: TestClient, catalog: Catalog, offer: int
) -> None:
    h = auth(catalog, "market", "platform")
    b = hold(client, h, offer, 100, hold_s=10).json()
    assert hold(client, h, offer, 1).status_code == 409
    assert expire_holds(catalog, time.time() + 11) == 1
    assert client.get(f"/v1/bookings/{b['id']}", headers=h).json()["status"] == "expired"
    assert client.post(f"/v1/bookings/{b['id']}/confirm", headers=h).status_code == 409
    assert hold(client, h, offer, 100).status_code == 201


@pytest.mark.parametrize("role", ["owner", "viewer"])
def test_only_platform_keys_book(
    client: TestClient, catalog: Catalog, offer: int, role: str
) -> None:
    r = hold(client, auth(catalog, "market", role), offer, 1)
    assert r.status_code == 403
    assert "platform" in r.json()["detail"]


def test_booking_a_hidden_or_withdrawn_offer_fails_clearly(
    client: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, "acme", "z1")
    hidden = add_live_offer(catalog, "acme", "z1", FUTURE, visibility="partners")
    h = auth(catalog, "market", "platform")
    assert hold(client, h, hidden, 1).status_code == 404
    shown = add_live_offer(catalog, "acme", "z1", FUTURE + 7200)
    assert (
        client.post(f"/v1/offers/{shown}/withdraw", headers=auth(catalog, "acme")).status_code
        == 200
    )
    r = hold(client, h, shown, 1)
    assert r.status_code == 409 and "withdrawn" in r.json()["detail"]
    assert hold(client, h, 10**6, 1).status_code == 404
    assert hold(client, h, shown, -1).status_code == 422
