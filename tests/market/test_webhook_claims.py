"""Webhook deliveries claimed from the catalog: several dispatchers (API processes or hosts)
on one catalog deliver each event once per subscription, and a dispatcher that died holding
a claim is taken over once its lease lapses. Runs on whichever catalog the fixture gives."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

from fastapi.testclient import TestClient

from market.webhooks import Dispatcher
from storage.catalog import Catalog
from tests.api.conftest import add_asset, add_live_offer, auth
from tests.market.receiver import LOCAL, Receiver, local_app, one_receiver  # noqa: F401 (fixtures)


def delivered(receiver: Receiver) -> Counter[tuple[int, int]]:
    """(webhook id, event cursor) of each request the receiver got, counted."""
    bodies = [json.loads(body) for _, body in receiver.requests]
    return Counter((b["webhook"], b["event"]["cursor"]) for b in bodies)


def test_two_dispatchers_deliver_every_event_once_per_subscription(
    client: TestClient, catalog: Catalog, receiver: Receiver
) -> None:
    hooks = []
    for tenant in ("p1", "p2", "p3"):
        h = auth(catalog, tenant, "platform")
        r = client.post("/v1/webhooks", headers=h, json={"url": receiver.url})
        hooks.append(r.json()["id"])
    add_asset(catalog, "acme", "z1")
    events = 24
    for i in range(events):
        add_live_offer(catalog, "acme", "z1", time.time() + 86400 + i * 3600)
    # Small batches, so each dispatcher claims a webhook many times, the other in between.
    dispatchers = [Dispatcher(catalog, LOCAL, batch=3, name=f"host-{i}") for i in (1, 2)]
    attempts = Counter[str]()
    errors: list[BaseException] = []

    def run(d: Dispatcher) -> None:
        try:
            for _ in range(40):
                attempts[d.name] += d.run_once()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    want = Counter({(hook, cursor): 1 for hook in hooks for cursor in range(1, events + 1)})
    assert delivered(receiver) == want
    assert sum(attempts.values()) == len(hooks) * events


def test_a_dispatcher_that_died_holding_a_claim_is_taken_over_after_its_lease(
    client: TestClient, catalog: Catalog, receiver: Receiver
) -> None:
    h = auth(catalog, "p1", "platform")
    hook = client.post("/v1/webhooks", headers=h, json={"url": receiver.url}).json()["id"]
    add_asset(catalog, "acme", "z1")
    add_live_offer(catalog, "acme", "z1", time.time() + 86400)
    now = time.time()
    dead = Dispatcher(catalog, LOCAL, lease_s=30, name="dead-host")
    assert [w.id for w in dead.claim(now)] == [hook]  # claims, then dies: never releases
    alive = Dispatcher(catalog, LOCAL, lease_s=30, name="alive-host")
    assert alive.run_once(now + 1) == 0  # the claim is still held
    assert receiver.requests == []
    assert alive.run_once(now + 31) == 1  # lease lapsed: taken over
    assert delivered(receiver) == Counter({(hook, 1): 1})
    assert alive.run_once(now + 32) == 0
