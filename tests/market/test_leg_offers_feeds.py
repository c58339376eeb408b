"""Leg offers in the feeds and webhooks: the snapshot, the change feed and a webhook delivery
carry an analytics-published leg offer with its ``leg`` part (origin, destination, arrival
estimate, distance, price per tonne), and an update of the run carries it again."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient

from analytics.leg_offers import publish_legs
from analytics.legs import Area, LegForecast
from analytics.policy import SharingPolicy
from idleshare.assets import Asset
from market.offers import iso
from market.webhooks import Dispatcher
from storage.catalog import AssetRow, Catalog
from tests.api.conftest import auth
from tests.market.receiver import (
    LOCAL,
    Receiver,
    local_app,  # noqa: F401 (fixtures)
    one_receiver,  # noqa: F401 (fixtures)
)

H = 3600.0
POLICY = SharingPolicy.from_dict({"price_per_tonne": 11.0, "capabilities": ["reefer"],
                                  "reserve_fraction": 0.0})
DUISBURG = Area(51.44, 6.76, 10.0, "Duisburg")
VENLO = Area(51.37, 6.17, 10.0, "Venlo")


def forecast(now: float, free_t: float) -> LegForecast:
    depart = now + 20 * H
    return LegForecast(
        leg_id="truck-1:Duisburg>Venlo@0530", asset_id="truck-1", origin=DUISBURG,
        destination=VENLO, departure_earliest=depart, departure_latest=depart + H,
        arrival_estimate=depart + 1.5 * H, distance_km=61.2, capacity_t=24.0,
        free_t_lower=free_t, free_t_median=free_t + 2, run_share=1.0, confidence=0.9)


def publish(catalog: Catalog, f: LegForecast, now: float) -> None:
    with catalog.session() as s:
        asset = s.get(AssetRow, ("acme", "truck-1"))
        assert asset is not None
        publish_legs(s, asset, POLICY, [f], now)


def expected_leg(f: LegForecast) -> dict[str, Any]:
    def area(a: Area) -> dict[str, Any]:
        return {"lat": a.lat, "lon": a.lon, "radius_km": a.radius_km, "name": a.name}

    return {"leg_id": f.leg_id, "origin": area(f.origin), "destination": area(f.destination),
            "arrival_estimate": iso(round(f.arrival_estimate, 3)), "distance_km": f.distance_km,
            "price_per_tonne": 11.0, "run_share": 1.0}


def test_feeds_and_webhooks_carry_a_leg_offer_with_its_leg(
    client: TestClient, catalog: Catalog, receiver: Receiver
) -> None:
    platform = auth(catalog, "freightco", "platform")
    hooked = client.post("/v1/webhooks", headers=platform, json={"url": receiver.url})
    assert hooked.status_code == 201, hooked.text
    catalog.upsert_asset(Asset(id="truck-1", tenant="acme", kind="vehicle", capacity=24.0,
                               unit="t", lat=51.44, lon=6.76))
    now = time.time()
    first = forecast(now, 9.0)
    publish(catalog, first, now)

    snapshot = client.get("/v1/feeds/offers", headers=platform)
    assert snapshot.status_code == 200, snapshot.text
    (offer,) = snapshot.json()["items"]
    assert offer["leg"] == expected_leg(first)
    assert (offer["kind"], offer["quantity"], offer["unit"], offer["capabilities"]) == (
        "vehicle", 9.0, "t", ["reefer"])

    # The run's forecast falls: the offer is updated, and the update carries the leg too.
    publish(catalog, replace(first, free_t_lower=5.0), now + 60)
    feed = client.get("/v1/feeds/offer-changes", params={"after": 0}, headers=platform)
    assert feed.status_code == 200, feed.text
    changes = feed.json()["items"]
    assert [(c["type"], c["offer"]["quantity"]) for c in changes] == [
        ("created", 9.0), ("updated", 5.0)]
    assert all(c["offer_id"] == offer["id"] and c["offer"]["leg"] == expected_leg(first)
               for c in changes)

    dispatcher = Dispatcher(catalog, LOCAL, backoff_s=0.0)
    deadline = time.monotonic() + 10
    while len(receiver.requests) < 2 and time.monotonic() < deadline:
        dispatcher.run_once(time.time())
    delivered = [json.loads(body)["event"] for _, body in receiver.requests]
    assert [(e["type"], e["offer"]["quantity"]) for e in delivered] == [
        ("created", 9.0), ("updated", 5.0)]
    assert all(e["offer"]["leg"] == expected_leg(first) for e in delivered)
