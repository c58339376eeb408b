"""``idleshare api --workers N`` (shell/workers.py): connections spread over the processes, a
worker that cannot start stops the server with an error instead of a restart loop, and the
parent's background threads (alert rules) run once for all the workers."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from subprocess import Popen
from urllib.parse import urlsplit

import pytest

from idleshare.assets import Asset
from market import alerts, webhooks
from market.caller import Caller
from market.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from shell import workers
from storage.catalog import Catalog
from tests.api.conftest import (
    ESTABLISHED,
    api_workers,
    socket_inodes,
    tcp_sockets,
    worker_pids,
)
from tests.ingest.conftest import wait_for
from tests.market.receiver import LOCAL, Receiver


def test_keep_alive_connections_spread_over_both_workers(two_workers: tuple[str, Popen]) -> None:
    base_url, server = two_workers
    port = urlsplit(base_url).port
    assert port is not None
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
    try:
        time.sleep(0.5)  # let the workers accept
        established = tcp_sockets(port, ESTABLISHED)
        per_worker = [len(socket_inodes(pid) & established) for pid in worker_pids(server.pid)]
        assert sum(per_worker) == 32
        # The kernel hashes connections over the two sockets: a split worse than 26/6 has a
        # probability of about 1e-4 (one shared socket gave 29/3).
        assert min(per_worker) >= 6, per_worker
    finally:
        for c in conns:
            c.close()


def test_a_worker_that_cannot_bind_stops_the_server_with_an_error() -> None:
    with socket.socket() as taken:  # no SO_REUSEPORT: the workers cannot share this port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        began = time.monotonic()
        with pytest.raises(RuntimeError, match=f"port {port} taken"):
            workers.serve("127.0.0.1", port, 2, log_level="critical")
    assert time.monotonic() - began < workers.MIN_LIFETIME_S + 5


def test_alert_rules_fire_under_several_workers_and_each_alert_is_delivered_once(
    catalog: Catalog, catalog_url: str, tmp_path: Path
) -> None:
    # The workers run no background threads; the parent checks rules, under the lease.
    receiver = Receiver()
    try:
        key, _ = catalog.mint_key("acme", "owner")
        owner = Caller("acme", "owner", key_id=key.id)
        hook = webhooks.subscribe(catalog, owner, receiver.url, ["offer.created"], LOCAL)
        catalog.upsert_asset(Asset(id="z1", tenant="acme", kind="warehouse_zone",
                                   capacity=100, unit="pallet"), agent="gw-1", online=True)
        alerts.create_rule(catalog, "acme", "agent_dropping", "", 0.0, 10.0)
        now = time.time()
        catalog.record_agent_status("acme", "gw-1", True, now - 5, (0, 0))
        catalog.record_agent_status("acme", "gw-1", True, now, (40, 2))
        with api_workers(catalog_url, tmp_path, IDLESHARE_WEBHOOK_ALLOW="127.0.0.0/8",
                         IDLESHARE_WEBHOOK_ALLOW_HTTP="1"):
            wait_for(lambda: len(receiver.requests) >= 1, lambda: receiver.requests)
            time.sleep(2.5)  # two passes more at 1 s: still one delivery
        [(headers, body)] = receiver.requests
        assert headers["X-Idleshare-Event"] == "alert.agent_dropping"
        assert verify(hook.secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert json.loads(body)["alert"]["asset"] == "z1"
    finally:
        receiver.close()
