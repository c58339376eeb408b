"""Agent statuses end to end on the real broker: a birth places its assets at the sites it
names (an unknown site is counted and leaves the asset without one), and the agent's queued
and dropped counts reach the catalog, the API's asset status and ingest's gauges."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from api.main import create_app
from edge_agent.config import AssetConfig
from idleshare import wire
from ingest.service import Ingest
from ingest.status import UNKNOWN_SITE
from market import sites
from storage.catalog import Catalog
from storage.sqlite import SqliteReadingStore
from tests.api.conftest import auth
from tests.ingest.conftest import Agent, wait_for
from tests.observability.helpers import samples


@pytest.fixture
def api(catalog: Catalog, sqlite_store: SqliteReadingStore) -> Iterator[TestClient]:
    with TestClient(create_app(catalog, sqlite_store, dispatch_interval_s=None)) as c:
        yield c


def birth(agent: Agent, *assets: AssetConfig, queued: int = 0, dropped: int = 0,
          at: float | None = None) -> None:
    """The birth an edge agent with these assets publishes (``Agent._online_status``)."""
    agent.publish(wire.status_topic(agent.tenant, agent.id), wire.encode_status(
        agent.id, "online", time.time() if at is None else at, "test",
        [a.announced(agent.tenant) for a in assets], queued=queued, dropped=dropped))


def zone(asset_id: str, site: str = "") -> AssetConfig:
    return AssetConfig(id=asset_id, kind="warehouse_zone", capacity=100, site=site)


def test_a_birth_places_its_assets_at_the_sites_it_names_and_counts_unknown_ones(
    make_ingest: Callable[..., Ingest], sqlite_store: SqliteReadingStore, catalog: Catalog,
    agent: Agent, api: TestClient, tenant: str,
) -> None:
    catalog.ensure_tenant(tenant)
    sites.create(catalog, tenant, {"id": "bhm", "name": "Birmingham",
                                   "timezone": "Europe/London"})
    ingest = make_ingest(sqlite_store)
    birth(agent, zone("zone-1", "bhm"), zone("zone-2", "nowhere"), zone("zone-3"))
    wait_for(lambda: ingest.stats.statuses >= 1, lambda: ingest.stats)
    owner = auth(catalog, tenant)
    at_site = api.get("/v1/assets", params={"site": "bhm"}, headers=owner).json()["items"]
    assert [a["id"] for a in at_site] == ["zone-1"]
    # The unknown site: the asset is registered all the same, at no site, and counted.
    assert {a["id"] for a in api.get("/v1/assets", headers=owner).json()["items"]} == {
        "zone-1", "zone-2", "zone-3"}
    assert ingest.stats.partial == {UNKNOWN_SITE: 1}
    found = samples(generate_latest(ingest.registry).decode())
    assert ("idleshare_ingest_births_partial_total", {"reason": UNKNOWN_SITE}, 1.0) in found
    # The owner creates the site: the agent's next birth (or refresh) places the asset.
    sites.create(catalog, tenant, {"id": "nowhere"})
    birth(agent, zone("zone-1", "bhm"), zone("zone-2", "nowhere"), zone("zone-3"))
    wait_for(lambda: ingest.stats.statuses >= 2, lambda: ingest.stats)
    assert sites.asset_ids(catalog, tenant, "nowhere") == {"zone-2"}
    assert ingest.stats.partial == {UNKNOWN_SITE: 1}


def test_queued_and_dropped_of_a_status_reach_the_asset_status_and_the_gauges(
    make_ingest: Callable[..., Ingest], sqlite_store: SqliteReadingStore, catalog: Catalog,
    agent: Agent, api: TestClient, tenant: str,
) -> None:
    ingest = make_ingest(sqlite_store)
    sent_at = time.time() - 5
    birth(agent, zone("zone-1"), queued=42, dropped=7, at=sent_at)
    wait_for(lambda: ingest.stats.statuses >= 1, lambda: ingest.stats)
    status = api.get("/v1/assets/zone-1/status", headers=auth(catalog, tenant)).json()
    assert (status["agent"], status["queued"], status["dropped"]) == (agent.id, 42, 7)
    reported = datetime.fromisoformat(status["agent_reported_at"].replace("Z", "+00:00"))
    assert reported.timestamp() == pytest.approx(sent_at, abs=1e-3)
    found = samples(generate_latest(ingest.registry).decode())
    labels = {"tenant": tenant, "agent": agent.id}
    assert ("idleshare_ingest_agent_queued_readings", labels, 42.0) in found
    assert ("idleshare_ingest_agent_dropped_readings", labels, 7.0) in found
    # The last will keeps the counts (it was written when the agent connected).
    agent.publish(wire.status_topic(tenant, agent.id),
                  wire.encode_status(agent.id, "offline", time.time()))
    wait_for(lambda: ingest.stats.statuses >= 2, lambda: ingest.stats)
    status = api.get("/v1/assets/zone-1/status", headers=auth(catalog, tenant)).json()
    assert (status["online"], status["queued"], status["dropped"]) == (False, 42, 7)
    row = catalog.agent_status(tenant, agent.id)
    assert row is not None and row.dropped_grew_at == pytest.approx(sent_at)
