"""SSRF through webhooks, tried as an attacker with a platform key would: every trick to aim
the server at its own network is refused at subscription or at delivery, and a real local
listener proves that no request reaches it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from market.outbound import REFUSED_PRIVATE, OutboundPolicy
from market.webhooks import Dispatcher
from storage.catalog import Catalog, WebhookRow
from tests.api.conftest import add_asset, add_live_offer, auth
from tests.market.receiver import Receiver
from tests.stores import MemoryStore


@pytest.fixture
def target() -> Iterator[Receiver]:
    """The internal service an attacker wants to reach."""
    r = Receiver()
    yield r
    r.close()


def _client(catalog: Catalog, store: MemoryStore, policy: OutboundPolicy) -> TestClient:
    return TestClient(create_app(catalog, store, dispatch_interval_s=None, outbound=policy))


def _event(catalog: Catalog) -> None:
    add_asset(catalog, "acme", "z1")
    add_live_offer(catalog, "acme", "z1", time.time() + 86400)


@pytest.mark.parametrize(
    "template",
    [
        "http://127.0.0.1:{port}/hook",
        "https://127.0.0.1:{port}/hook",
        "http://localhost:{port}/hook",  # a name that resolves to loopback
        "http://2130706433:{port}/hook",  # 127.0.0.1 as one decimal number
        "http://[::ffff:127.0.0.1]:{port}/hook",  # IPv4-mapped IPv6
        "http://[::1]:{port}/hook",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://10.0.0.1/hook",
        "https://192.168.1.1/hook",
        "http://0.0.0.0:{port}/hook",
        "http://user:pw@example.com/hook",
        "file:///etc/passwd",
    ],
)
def test_webhook_urls_aimed_at_the_servers_network_are_refused_and_never_called(
    catalog: Catalog, store: MemoryStore, target: Receiver, template: str
) -> None:
    # Even with plain http allowed, private targets stay closed without an allowlist entry.
    with _client(catalog, store, OutboundPolicy(allow_http=True)) as client:
        h = auth(catalog, "market", "platform")
        r = client.post("/v1/webhooks", headers=h, json={"url": template.format(port=target.port)})
        assert r.status_code == 422, r.text
        _event(catalog)
        Dispatcher(catalog, OutboundPolicy(allow_http=True)).run_once()
    assert target.requests == []


def test_plain_http_is_refused_unless_the_operator_allows_it(
    catalog: Catalog, store: MemoryStore
) -> None:
    public = OutboundPolicy(resolver=lambda host, port: ["93.184.216.34"])
    with _client(catalog, store, public) as client:
        h = auth(catalog, "market", "platform")
        r = client.post("/v1/webhooks", headers=h, json={"url": "http://hooks.example/x"})
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["body", "url"]
        assert "https" in r.json()["detail"][0]["msg"]
        r = client.post("/v1/webhooks", headers=h, json={"url": "https://hooks.example/x"})
        assert r.status_code == 201


def test_a_name_rebound_to_loopback_after_subscription_is_not_called(
    catalog: Catalog, store: MemoryStore, target: Receiver
) -> None:
    answers = ["93.184.216.34"]  # public when the subscription is checked
    policy = OutboundPolicy(allow_http=True, resolver=lambda host, port: list(answers))
    with _client(catalog, store, policy) as client:
        h = auth(catalog, "market", "platform")
        url = f"http://rebind.example:{target.port}/hook"
        hook = client.post("/v1/webhooks", headers=h, json={"url": url}).json()["id"]
        answers[:] = ["127.0.0.1"]  # the attacker's DNS now points at the server itself
        _event(catalog)
        assert Dispatcher(catalog, policy).run_once() == 1
        log = client.get(f"/v1/webhooks/{hook}/deliveries", headers=h).json()
    assert target.requests == []
    assert [(x["status_code"], x["error"]) for x in log] == [(0, REFUSED_PRIVATE)]


def test_a_redirect_to_an_internal_address_is_not_followed(
    catalog: Catalog, store: MemoryStore, target: Receiver
) -> None:
    bouncer = Receiver(status=307, headers={"Location": target.url})
    # The operator allows the bouncer's address only, not the target's port... and even a
    # redirect to an allowed address is not followed.
    policy = OutboundPolicy.parse("127.0.0.1/32", allow_http=True)
    try:
        with _client(catalog, store, policy) as client:
            h = auth(catalog, "market", "platform")
            hook = client.post("/v1/webhooks", headers=h, json={"url": bouncer.url}).json()["id"]
            _event(catalog)
            Dispatcher(catalog, policy).run_once()
            log = client.get(f"/v1/webhooks/{hook}/deliveries", headers=h).json()
    finally:
        bouncer.close()
    assert len(bouncer.requests) == 1
    assert target.requests == []
    assert [(x["status_code"], x["ok"], x["error"]) for x in log] == [
        (307, False, "redirect not followed")
    ]


def test_the_delivery_log_does_not_echo_connection_errors(
    catalog: Catalog, store: MemoryStore
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    policy = OutboundPolicy.parse("127.0.0.0/8", allow_http=True)
    with _client(catalog, store, policy) as client:
        h = auth(catalog, "market", "platform")
        url = f"http://127.0.0.1:{port}/hook"
        hook = client.post("/v1/webhooks", headers=h, json={"url": url}).json()["id"]
        _event(catalog)
        Dispatcher(catalog, policy).run_once()
        # The operator closes the allowlist: the stored webhook is refused at delivery.
        with catalog.session() as s2:
            s2.get_one(WebhookRow, hook).next_attempt_at = 0.0
        Dispatcher(catalog, OutboundPolicy(allow_http=True)).run_once(time.time() + 60)
        log = client.get(f"/v1/webhooks/{hook}/deliveries", headers=h).json()
    assert [x["error"] for x in reversed(log)] == ["connection failed", REFUSED_PRIVATE]


def test_a_receiver_that_never_answers_costs_at_most_the_timeout(
    catalog: Catalog, store: MemoryStore
) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(silent.accept()[0]), daemon=True).start()
    policy = OutboundPolicy.parse("127.0.0.0/8", allow_http=True, timeout_s=0.5)
    try:
        with _client(catalog, store, policy) as client:
            h = auth(catalog, "market", "platform")
            url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
            hook = client.post("/v1/webhooks", headers=h, json={"url": url}).json()["id"]
            _event(catalog)
            started = time.monotonic()
            Dispatcher(catalog, policy).run_once()
            assert time.monotonic() - started < 3
            log = client.get(f"/v1/webhooks/{hook}/deliveries", headers=h).json()
    finally:
        silent.close()
        for c in held:
            c.close()
    assert [x["error"] for x in log] == ["timed out"]
