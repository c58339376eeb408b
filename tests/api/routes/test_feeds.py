from __future__ import annotations

import random
import time

from fastapi.testclient import TestClient

from storage.catalog import Catalog, OfferRow, record_offer_event
from tests.api.conftest import add_asset, add_live_offer, auth

FUTURE = time.time() + 7 * 86400


def test_discovery_lists_feeds_with_ttl_and_last_updated(
    client: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, "acme", "z1")
    add_live_offer(catalog, "acme", "z1", FUTURE)
    body = client.get("/v1/feeds", headers=auth(catalog, "market", "platform")).json()
    assert {f["name"] for f in body["feeds"]} == {"offers", "offer_changes"}
    assert body["ttl"] > 0 and body["last_updated"] is not None
    assert all(f["url"].startswith("http") for f in body["feeds"])


class Replica:
    """What a platform keeps: a snapshot, then the change feed applied in cursor order."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client, self.h = client, headers
        self.offers: dict[int, dict] = {}
        first, cursor = None, None
        while True:
            page = client.get(
                "/v1/feeds/offers",
                headers=headers,
                params={"limit": 3} | ({"cursor": cursor} if cursor else {}),
            ).json()
            first = page["cursor"] if first is None else first
            self.offers.update({o["id"]: o for o in page["items"]})
            cursor = page["next_cursor"]
            if cursor is None:
                break
        self.after = first
        self.seen: list[int] = []

    def sync(self) -> None:
        while True:
            body = self.client.get(
                "/v1/feeds/offer-changes", headers=self.h, params={"after": self.after, "limit": 4}
            ).json()
            for ch in body["items"]:
                self.seen.append(ch["cursor"])
                if ch["offer"] is None or ch["offer"]["status"] != "live":
                    self.offers.pop(ch["offer_id"], None)
                else:
                    self.offers[ch["offer_id"]] = ch["offer"]
            self.after = body["next_after"]
            if not body["more"]:
                return


def server_live(client: TestClient, h: dict[str, str]) -> dict[int, dict]:
    out, cursor = {}, None
    while True:
        page = client.get(
            "/v1/feeds/offers", headers=h, params={"cursor": cursor} if cursor else {}
        ).json()
        out.update({o["id"]: o for o in page["items"]})
        if (cursor := page["next_cursor"]) is None:
            return out


def test_a_replica_following_the_cursor_ends_with_the_servers_live_offers(
    client: TestClient, catalog: Catalog
) -> None:
    rng = random.Random(7)
    for t in ("acme", "globex"):
        add_asset(catalog, t, "z1")
    ids = [
        add_live_offer(
            catalog, rng.choice(["acme", "globex"]), "z1", FUTURE + i * 3600, quantity=50.0
        )
        for i in range(6)
    ]
    platform = auth(catalog, "market", "platform")
    replica = Replica(client, platform)  # snapshot taken part-way through the story
    owner = {t: auth(catalog, t) for t in ("acme", "globex")}
    bookings: list[int] = []
    for step in range(60):
        op = rng.choices(
            ["create", "update", "withdraw", "book", "cancel", "narrow"], [4, 2, 1, 3, 1, 1]
        )[0]
        with catalog.session() as s:
            live = [o for o in s.query(OfferRow).filter(OfferRow.status == "live")]
        if op == "create" or not live:
            ids.append(
                add_live_offer(
                    catalog,
                    rng.choice(["acme", "globex"]),
                    "z1",
                    FUTURE + (100 + step) * 3600,
                    quantity=50.0,
                )
            )
        elif op == "update" or op == "narrow":
            with catalog.session() as s:
                o = s.get(OfferRow, rng.choice(live).id)
                o.price_per_unit_hour = rng.uniform(0.1, 2)
                if op == "narrow":  # the owner narrows visibility: a tombstone for platforms
                    o.visibility = "private"
                record_offer_event(s, o, "updated", time.time())
        elif op == "withdraw":
            o = rng.choice(live)
            assert (
                client.post(f"/v1/offers/{o.id}/withdraw", headers=owner[o.tenant_id]).status_code
                == 200
            )
        elif op == "book":
            r = client.post(
                "/v1/bookings",
                headers=platform,
                json={"offer_id": rng.choice(live).id, "quantity": 10},
            )
            assert r.status_code in (201, 404, 409), r.text
            if r.status_code == 201:
                bookings.append(r.json()["id"])
        elif op == "cancel" and bookings:
            client.post(f"/v1/bookings/{bookings.pop()}/cancel", headers=platform)
        if rng.random() < 0.3:
            replica.sync()
    replica.sync()
    assert replica.offers == server_live(client, platform)
    assert len(replica.offers) > 3
    assert replica.seen == sorted(set(replica.seen)), "an event came twice or out of order"


def test_change_feed_hides_other_tenants_private_creations(
    client: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, "acme", "z1")
    add_live_offer(catalog, "acme", "z1", FUTURE, visibility="private")
    body = client.get("/v1/feeds/offer-changes", headers=auth(catalog, "market", "platform")).json()
    assert body["items"] == [] and body["next_after"] == 0
