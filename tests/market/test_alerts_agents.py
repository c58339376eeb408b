"""The ``agent_dropping`` alert rule: it fires while an asset's agent's dropped count grows
(as ingest records it from the agent's statuses), clears when it stops growing for the rule's
period, and reaches the owner's webhook signed, through the running alerts thread."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from idleshare.assets import Asset
from market import alerts
from market.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from storage.catalog import Catalog
from tests.api.conftest import auth
from tests.ingest.conftest import wait_for
from tests.market.receiver import LOCAL, Receiver, local_client
from tests.stores import MemoryStore

AGENT = "gw-1"


@pytest.fixture
def lclient(catalog: Catalog, store: MemoryStore) -> Iterator[TestClient]:
    yield from local_client(catalog, store)


def served_by_agent(catalog: Catalog, asset_id: str, tenant: str = "acme") -> None:
    catalog.upsert_asset(Asset(id=asset_id, tenant=tenant, kind="warehouse_zone",
                               capacity=100, unit="pallet"), agent=AGENT, online=True)


def reports(catalog: Catalog, at: float, queued: int, dropped: int) -> None:
    """What ingest records from a birth or refresh of the agent."""
    catalog.record_agent_status("acme", AGENT, True, at, (queued, dropped))


def test_fires_while_the_dropped_count_grows_and_clears_when_it_stops(
    lclient: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    served_by_agent(catalog, "z1")
    served_by_agent(catalog, "z2")
    r = lclient.post("/v1/alert-rules", json={"kind": "agent_dropping", "asset": "z1",
                                              "minutes": 30}, headers=auth(catalog, "acme"))
    assert r.status_code == 201, r.text
    now = time.time()
    reports(catalog, now - 3600, 0, 5)  # dropped an hour ago: not in the period
    assert alerts.evaluate(catalog, store, now) == 0
    reports(catalog, now - 120, 3, 5)  # a refresh, no new drop
    assert alerts.evaluate(catalog, store, now) == 0
    reports(catalog, now - 60, 3, 9)  # four more dropped
    assert alerts.evaluate(catalog, store, now) == 1  # z1 only: the rule names it
    assert alerts.evaluate(catalog, store, now + 60) == 0  # still the same episode
    [a] = lclient.get("/v1/alerts", headers=auth(catalog, "acme")).json()["items"]
    assert (a["kind"], a["asset"], a["active"]) == ("agent_dropping", "z1", True)
    assert "agent gw-1 dropped readings in the last 30 min (9 in all)" in a["message"]
    reports(catalog, now + 600, 3, 9)  # no growth since
    alerts.evaluate(catalog, store, now + 31 * 60)
    [a] = lclient.get("/v1/alerts", headers=auth(catalog, "acme")).json()["items"]
    assert not a["active"] and a["cleared_at"] is not None


def test_an_asset_without_a_reporting_agent_does_not_fire(
    lclient: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    catalog.upsert_asset(Asset(id="hand", tenant="acme", kind="machine", capacity=1,
                               unit="machine"))  # registered by hand: no agent
    served_by_agent(catalog, "z1")  # its agent never reported
    lclient.post("/v1/alert-rules", json={"kind": "agent_dropping", "minutes": 30},
                 headers=auth(catalog, "acme"))
    assert alerts.evaluate(catalog, store) == 0


def test_the_running_alerts_thread_delivers_it_signed_to_the_owners_webhook(
    lclient: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    served_by_agent(catalog, "z1")
    receiver = Receiver()
    thread = alerts.AlertsThread(catalog, store, LOCAL.post, interval_s=0.1)
    try:
        hook = lclient.post("/v1/webhooks", json={"url": receiver.url},
                            headers=auth(catalog, "acme")).json()
        lclient.post("/v1/alert-rules", json={"kind": "agent_dropping", "minutes": 10},
                     headers=auth(catalog, "acme"))
        thread.start()
        reports(catalog, time.time(), 0, 0)
        reports(catalog, time.time(), 40, 2)
        wait_for(lambda: len(receiver.requests) >= 1, lambda: receiver.requests)
        time.sleep(0.5)  # a few passes more: still one delivery
        [(headers, body)] = receiver.requests
        assert verify(hook["secret"], headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert headers["X-Idleshare-Event"] == "alert.agent_dropping"
        sent = json.loads(body)["alert"]
        assert (sent["asset"], sent["kind"], sent["active"]) == ("z1", "agent_dropping", True)
    finally:
        thread.stop()
        receiver.close()
