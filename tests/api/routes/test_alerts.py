"""Alert rules: each kind fires on a hand-made case and not otherwise, a condition alert is
one alert while it holds and clears when it ends, and what fires reaches the owner's webhook
signed like every webhook delivery."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from market import alerts
from market.bookings import cancel, hold
from market.caller import Caller
from market.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from storage.catalog import AssetRow, Catalog
from storage.readings import Reading
from tests.api.conftest import add_asset, add_live_offer, auth
from tests.market.receiver import LOCAL, Receiver, local_client
from tests.stores import MemoryStore


@pytest.fixture
def lclient(catalog: Catalog, store: MemoryStore) -> Iterator[TestClient]:
    yield from local_client(catalog, store)


def rule(client: TestClient, catalog: Catalog, **body: object) -> int:
    r = client.post("/v1/alert-rules", json=body, headers=auth(catalog, "acme"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def listed(client: TestClient, catalog: Catalog) -> list[dict]:
    r = client.get("/v1/alerts", headers=auth(catalog, "acme", "viewer"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_offline_fires_once_after_n_minutes_and_clears_when_back(
    lclient: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    add_asset(catalog, "acme", "z1")
    rule(lclient, catalog, kind="offline", asset="z1", minutes=30)
    now = time.time()
    with catalog.session() as s:
        row = s.get(AssetRow, ("acme", "z1"))
        row.online, row.status_at = False, now - 20 * 60
    assert alerts.evaluate(catalog, store, now) == 0  # 20 min: not yet
    assert alerts.evaluate(catalog, store, now + 11 * 60) == 1
    assert alerts.evaluate(catalog, store, now + 20 * 60) == 0  # still the same outage
    [a] = listed(lclient, catalog)
    assert a["active"] and a["kind"] == "offline" and "offline for 31 min" in a["message"]
    with catalog.session() as s:
        s.get(AssetRow, ("acme", "z1")).online = True
    alerts.evaluate(catalog, store, now + 21 * 60)
    [a] = listed(lclient, catalog)
    assert not a["active"] and a["cleared_at"] is not None


@pytest.mark.parametrize(("kind", "threshold", "fires"), [
    ("utilisation_above", 0.7, True), ("utilisation_above", 0.8, False),
    ("utilisation_below", 0.8, True), ("utilisation_below", 0.7, False),
])
def test_utilisation_rules_compare_the_periods_mean_with_the_threshold(
    lclient: TestClient, catalog: Catalog, store: MemoryStore, kind: str, threshold: float,
    fires: bool,
) -> None:
    add_asset(catalog, "acme", "z1")  # capacity 100
    now = time.time()
    # The last hour: 50 for the first half, 100 for the second: a mean of 75 %.
    store.write([Reading("acme", "z1", "occupied", now - 3600 + i * 300, 50.0 if i < 6 else 100.0)
                 for i in range(13)])
    rule(lclient, catalog, kind=kind, asset="z1", threshold=threshold, minutes=60)
    assert alerts.evaluate(catalog, store, now) == int(fires)


def test_booked_and_cancelled_rules_fire_once_per_event_after_the_rule(
    lclient: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    add_asset(catalog, "acme", "z1")
    offer = add_live_offer(catalog, "acme", "z1", time.time() + 86400)
    platform = Caller("market", "platform")
    hold(catalog, platform, offer, 5.0, 900.0, time.time())  # before the rules: not alerted
    rule(lclient, catalog, kind="offer_booked", asset="z1")
    rule(lclient, catalog, kind="offer_cancelled")
    b = hold(catalog, platform, offer, 5.0, 900.0, time.time())
    assert alerts.evaluate(catalog, store) == 1
    cancel(catalog, platform, b.id, time.time())
    assert alerts.evaluate(catalog, store) == 1
    assert alerts.evaluate(catalog, store) == 0
    assert [a["kind"] for a in listed(lclient, catalog)] == ["offer_cancelled", "offer_booked"]


def test_an_alert_reaches_the_owners_webhook_signed(
    lclient: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    add_asset(catalog, "acme", "z1")
    receiver = Receiver()
    try:
        hook = lclient.post("/v1/webhooks", json={"url": receiver.url},
                            headers=auth(catalog, "acme")).json()
        rule(lclient, catalog, kind="offline", minutes=1)
        with catalog.session() as s:
            row = s.get(AssetRow, ("acme", "z1"))
            row.online, row.status_at = False, time.time() - 600
        alerts.evaluate(catalog, store)
        assert alerts.deliver(catalog, LOCAL.post) == 1
        assert alerts.deliver(catalog, LOCAL.post) == 0  # sent once
        [(headers, body)] = receiver.requests
        assert verify(hook["secret"], headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert headers["X-Idleshare-Event"] == "alert.offline"
        sent = json.loads(body)["alert"]
        assert sent["asset"] == "z1" and sent["kind"] == "offline"
    finally:
        receiver.close()


def test_rules_are_the_owners_to_make_and_refused_naming_the_field(
    lclient: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, "globex", "g1")
    viewer = auth(catalog, "acme", "viewer")
    assert lclient.post("/v1/alert-rules", json={"kind": "offline", "minutes": 5},
                        headers=viewer).status_code == 403
    owner = auth(catalog, "acme")
    r = lclient.post("/v1/alert-rules", json={"kind": "offline"}, headers=owner)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "minutes"]
    r = lclient.post("/v1/alert-rules", json={"kind": "offline", "minutes": 5, "asset": "g1"},
                     headers=owner)
    assert r.status_code == 404  # another tenant's asset is a missing one
    rid = rule(lclient, catalog, kind="offer_booked")
    assert [x["id"] for x in lclient.get("/v1/alert-rules", headers=viewer).json()] == [rid]
    g = auth(catalog, "globex")
    assert lclient.delete(f"/v1/alert-rules/{rid}", headers=g).status_code == 404
    assert lclient.delete(f"/v1/alert-rules/{rid}", headers=owner).status_code == 204
