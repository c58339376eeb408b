"""GET /v1/impact through the API: real holds and confirmations, whose bookings each key sees
(attackers: other tenants and platforms), and periods refused with a 422."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.routes import impact, interop
from api.schemas.impact import ImpactPublic
from market.impact import ImpactReport, Tally, booking_impact
from market.impact_factors import HGV_AVERAGE_LADEN_TKM
from storage.catalog import Catalog
from tests.api.conftest import add_asset, add_live_offer, auth
from tests.stores import MemoryStore

SOON = time.time() + 86400


@pytest.fixture
def client(catalog: Catalog, store: MemoryStore) -> Iterator[TestClient]:
    """The API with the impact and JSON-LD routers, included here until
    api/routes/__init__.py lists them (then this adds nothing)."""
    app = create_app(catalog, store, dispatch_interval_s=None)
    routed = {getattr(r, "path", None) for r in app.routes}
    for module in (impact, interop):
        if not routed & {r.path for r in module.router.routes}:
            app.include_router(module.router)
    with TestClient(app) as c:
        yield c


def book(client: TestClient, key: dict[str, str], offer: int, quantity: float,
         confirm: bool = True) -> int:
    r = client.post("/v1/bookings", headers=key, json={"offer_id": offer, "quantity": quantity})
    assert r.status_code == 201, r.text
    if confirm:
        assert client.post(f"/v1/bookings/{r.json()['id']}/confirm", headers=key).is_success
    return int(r.json()["id"])


def read(client: TestClient, key: dict[str, str], **params: object) -> dict:
    r = client.get("/v1/impact", headers=key,
                   params={"start": SOON - 3600, "end": SOON + 86400} | params)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def keys(client: TestClient, catalog: Catalog) -> dict[str, dict[str, str]]:
    """acme's zone (40 pallet for 1 h): market books 10 and confirms, 5 held only, 3
    cancelled; rival books 20 and confirms. globex's zone: market books 7 and confirms."""
    add_asset(catalog, "acme", "zone")
    add_asset(catalog, "globex", "g-zone")
    acme = add_live_offer(catalog, "acme", "zone", SOON)
    globex = add_live_offer(catalog, "globex", "g-zone", SOON)
    k = {name: auth(catalog, tenant, role) for name, (tenant, role) in {
        "acme": ("acme", "owner"), "acme_viewer": ("acme", "viewer"),
        "globex": ("globex", "owner"), "market": ("market", "platform"),
        "rival": ("rival", "platform"), "evil_owner": ("evil", "owner"),
        "evil_platform": ("evil", "platform"),
    }.items()}
    book(client, k["market"], acme, 10)
    book(client, k["market"], acme, 5, confirm=False)
    cancelled = book(client, k["market"], acme, 3)
    client.post(f"/v1/bookings/{cancelled}/cancel", headers=k["market"])
    book(client, k["rival"], acme, 20)
    book(client, k["market"], globex, 7)
    return k


def zone(body: dict) -> dict:
    (entry,) = body["kinds"]
    assert (entry["kind"], entry["unit"]) == ("warehouse_zone", "pallet")
    return entry


@pytest.mark.parametrize("key", ["acme", "acme_viewer"])
def test_an_owner_totals_the_confirmed_bookings_on_its_assets(
    client: TestClient, keys: dict, key: str
) -> None:
    body = read(client, keys[key])
    assert body["total"]["bookings"] == 2
    # 10 + 20 pallet for the offer's one hour: the hold and the cancelled booking not counted.
    assert (zone(body)["quantity"], zone(body)["capacity_hours"]) == (30.0, 30.0)
    assert body["total"]["kg_co2e_avoided"] is None and body["factors"] == []
    assert body["total"]["bookings_without_co2e"] == 2


def test_a_platform_sees_only_its_own_bookings(client: TestClient, keys: dict) -> None:
    market = read(client, keys["market"])
    assert market["total"]["bookings"] == 2  # on acme's and on globex's zone
    assert zone(market)["quantity"] == 17.0  # never rival's 20, nor its own hold
    assert zone(read(client, keys["rival"]))["quantity"] == 20.0


@pytest.mark.parametrize("key", ["evil_owner", "evil_platform", "globex"])
def test_another_tenants_bookings_are_never_counted(
    client: TestClient, keys: dict, key: str
) -> None:
    body = read(client, keys[key])
    if key == "globex":  # its own asset's booking only, never acme's
        assert zone(body)["quantity"] == 7.0 and body["total"]["bookings"] == 1
    else:
        assert body["kinds"] == [] and body["total"]["bookings"] == 0
    assert "acme" not in str(body) and "market" not in str(body)


def test_the_period_picks_bookings_by_their_start(client: TestClient, keys: dict) -> None:
    assert read(client, keys["acme"], start=SOON + 1)["total"]["bookings"] == 0
    assert read(client, keys["acme"], start=SOON - 1, end=SOON + 1)["total"]["bookings"] == 2
    assert read(client, keys["acme"], start=SOON - 10, end=SOON)["total"]["bookings"] == 0


@pytest.mark.parametrize("params", [
    {"start": "2024-05-02T00:00:00Z", "end": "2024-05-01T00:00:00Z"},
    {"start": "2024-05-01T00:00:00Z", "end": "2024-05-01T00:00:00Z"},
    {"start": "2023-01-01T00:00:00Z", "end": "2024-05-01T00:00:00Z"},  # over 366 days
    {"start": "yesterday"},
])
def test_a_bad_period_is_422(client: TestClient, catalog: Catalog, params: dict) -> None:
    r = client.get("/v1/impact", headers=auth(catalog, "acme"), params=params)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][0] == "query"


def test_without_a_key_is_401(client: TestClient) -> None:
    assert client.get("/v1/impact").status_code == 401


def test_a_co2e_figure_is_answered_with_its_factors_and_their_sources() -> None:
    # No booking carries a leg yet, so this is the answer's shape for one that will.
    leg = booking_impact("vehicle", "t", 12.0, SOON, SOON + 3600, leg_km=250.0)
    total, kind = Tally(), Tally()
    total.add(leg)
    kind.add(leg)
    body = ImpactPublic.of(SOON, SOON + 86400, ImpactReport(total, {("vehicle", "t"): kind}))
    out = body.model_dump(mode="json")
    assert out["total"]["tonne_km"] == 3000.0
    assert out["total"]["kg_co2e_avoided"] == pytest.approx(449.79)
    assert out["total"]["factors"] == out["kinds"][0]["factors"] == [HGV_AVERAGE_LADEN_TKM.id]
    (factor,) = out["factors"]
    assert (factor["value"], factor["year"], factor["url"]) == (
        0.14993, 2012, HGV_AVERAGE_LADEN_TKM.url)
