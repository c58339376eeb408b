"""Webhooks against a real local HTTP receiver that fails before it succeeds."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from market.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, Dispatcher, sign, verify
from storage.catalog import Catalog
from tests.api.conftest import add_asset, add_live_offer, auth
from tests.market.receiver import (
    LOCAL,
    Receiver,
    local_app,  # noqa: F401 (fixtures)
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail=2)
    yield r
    r.close()


def test_signature_verifies_and_rejects_tampering_and_replay() -> None:
    body, ts = b'{"a":1}', f"{time.time():.0f}"
    sig = sign("whsec_x", ts, body)
    assert verify("whsec_x", ts, body, sig)
    assert not verify("whsec_x", ts, body + b" ", sig)
    assert not verify("whsec_y", ts, body, sig)
    assert not verify("whsec_x", ts, body, sig, now=float(ts) + 3600)


def test_failing_receiver_is_retried_with_backoff_and_every_attempt_logged(
    client: TestClient, catalog: Catalog, receiver: Receiver
) -> None:
    h = auth(catalog, "market", "platform")
    r = client.post("/v1/webhooks", headers=h, json={"url": receiver.url, "events": ["created"]})
    assert r.status_code == 201, r.text
    hook, secret = r.json()["id"], r.json()["secret"]
    add_asset(catalog, "acme", "z1")
    offer = add_live_offer(catalog, "acme", "z1", time.time() + 86400)
    add_live_offer(catalog, "acme", "z1", time.time() + 86400, visibility="private")  # not sent
    d = Dispatcher(catalog, LOCAL, backoff_s=0.2)
    now = time.time()
    assert d.run_once(now) == 1  # fails: HTTP 500
    assert d.run_once(now + 0.1) == 0  # backoff not over
    assert d.run_once(now + 0.25) == 1  # second failure: backoff doubles to 0.4 s
    assert d.run_once(now + 0.5) == 0
    assert d.run_once(now + 0.7) == 1  # delivered
    assert d.run_once(now + 5) == 0  # the private offer is never sent
    assert len(receiver.requests) == 3
    headers, body = receiver.requests[-1]
    assert verify(secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    event = json.loads(body)["event"]
    assert (event["type"], event["offer"]["id"]) == ("created", offer)
    log = client.get(f"/v1/webhooks/{hook}/deliveries", headers=h).json()
    assert [(x["attempt"], x["status_code"], x["ok"]) for x in reversed(log)] == [
        (1, 500, False),
        (2, 500, False),
        (3, 204, True),
    ]


def test_an_event_is_given_up_after_max_attempts_so_the_feed_moves_on(
    client: TestClient, catalog: Catalog
) -> None:
    dead = Receiver(fail=10**6)
    try:
        h = auth(catalog, "market", "platform")
        client.post("/v1/webhooks", headers=h, json={"url": dead.url})
        add_asset(catalog, "acme", "z1")
        add_live_offer(catalog, "acme", "z1", time.time() + 86400)
        add_live_offer(catalog, "acme", "z1", time.time() + 90000)
        d = Dispatcher(catalog, LOCAL, max_attempts=2, backoff_s=0.0)
        for i in range(4):
            d.run_once(time.time() + i)
        assert len(dead.requests) == 4  # two events, two attempts each
        assert client.get("/v1/webhooks", headers=h).json()[0]["last_event_id"] == 2
    finally:
        dead.close()


def test_webhook_urls_must_be_http(client: TestClient, catalog: Catalog) -> None:
    r = client.post(
        "/v1/webhooks", headers=auth(catalog, "m", "platform"), json={"url": "file:///etc/passwd"}
    )
    assert r.status_code == 422
