"""A container's material in its agent's birth, end to end on the real broker: the birth
declares it (the audit log says by which agent), a refused material is counted and the rest of
the birth applied, a changed config replaces an agent's declaration, and once the owner has
declared or withdrawn one through the API, births leave it alone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from api.main import create_app
from edge_agent.config import AssetConfig
from idleshare import wire
from idleshare.materials import Material
from ingest.service import Ingest
from ingest.status import INVALID_MATERIAL
from storage.catalog import Catalog
from storage.sqlite import SqliteReadingStore
from tests.api.conftest import auth
from tests.ingest.conftest import Agent, wait_for
from tests.observability.helpers import samples

SLAG = Material(code="10 02 02", description="unprocessed slag", density_t_per_m3=1.6)
SAWDUST = Material(code="03 01 05", description="sawdust and shavings", density_t_per_m3=0.21)
SORTED_SLAG = {"code": "10 02 02", "description": "unprocessed slag, sorted by the owner",
               "hazardous": False, "density_t_per_m3": 1.5}


@pytest.fixture
def api(catalog: Catalog, sqlite_store: SqliteReadingStore) -> Iterator[TestClient]:
    with TestClient(create_app(catalog, sqlite_store, dispatch_interval_s=None)) as c:
        yield c


def container(asset_id: str, material: Material | None) -> AssetConfig:
    return AssetConfig(id=asset_id, kind="container", capacity=20, material=material)


class Births:
    """Publishes births as the edge agent does and waits until ingest has applied each."""

    def __init__(self, agent: Agent, ingest: Ingest) -> None:
        self.agent, self.ingest, self.sent = agent, ingest, 0

    def __call__(self, *assets: AssetConfig | dict[str, Any]) -> None:
        listed = [a.announced(self.agent.tenant) if isinstance(a, AssetConfig) else a
                  for a in assets]
        self.agent.publish(wire.status_topic(self.agent.tenant, self.agent.id),
                           wire.encode_status(self.agent.id, "online", time.time(), "test",
                                              listed))
        self.sent += 1
        wait_for(lambda: self.ingest.stats.statuses >= self.sent, lambda: self.ingest.stats)


def declarations(api: TestClient, owner: dict[str, str], asset_id: str) -> list[dict[str, Any]]:
    """The asset's material.declared audit entries, oldest first."""
    entries = api.get("/v1/audit", headers=owner, params={"limit": 100}).json()["items"]
    return [e for e in reversed(entries)
            if e["action"] == "material.declared" and e["target"] == asset_id]


def test_a_birth_declares_its_containers_material_and_counts_a_refused_one(
    make_ingest: Callable[..., Ingest], sqlite_store: SqliteReadingStore, catalog: Catalog,
    agent: Agent, api: TestClient, tenant: str,
) -> None:
    births = Births(agent, make_ingest(sqlite_store))
    bad = {**container("bin-2", None).announced(tenant),
           "material": {"code": "03 01", "description": "sawdust"}}
    births(container("bin-1", SLAG), bad)
    owner = auth(catalog, tenant)
    assert api.get("/v1/assets/bin-1/material", headers=owner).json() == SLAG.to_dict()
    # The refused material: the container is registered all the same, undeclared, and counted.
    assert api.get("/v1/assets/bin-2", headers=owner).status_code == 200
    assert api.get("/v1/assets/bin-2/material", headers=owner).json() is None
    assert births.ingest.stats.partial == {INVALID_MATERIAL: 1}
    found = samples(generate_latest(births.ingest.registry).decode())
    assert ("idleshare_ingest_births_partial_total", {"reason": INVALID_MATERIAL}, 1.0) in found
    [entry] = declarations(api, owner, "bin-1")
    assert entry["key_id"] is None
    assert entry["detail"] == {"material": SLAG.to_dict(), "agent": agent.id}

    # A refresh naming the same material writes nothing; a changed config replaces it.
    births(container("bin-1", SLAG))
    assert len(declarations(api, owner, "bin-1")) == 1
    births(container("bin-1", SAWDUST))
    assert api.get("/v1/assets/bin-1/material", headers=owner).json() == SAWDUST.to_dict()
    assert len(declarations(api, owner, "bin-1")) == 2


def test_the_owners_declaration_or_withdrawal_through_the_api_outlives_every_birth(
    make_ingest: Callable[..., Ingest], sqlite_store: SqliteReadingStore, catalog: Catalog,
    agent: Agent, api: TestClient, tenant: str,
) -> None:
    births = Births(agent, make_ingest(sqlite_store))
    births(container("bin-1", SLAG), container("bin-2", SLAG))
    owner = auth(catalog, tenant)
    assert api.put("/v1/assets/bin-1/material", headers=owner, json=SORTED_SLAG).status_code == 200
    assert api.delete("/v1/assets/bin-2/material", headers=owner).status_code == 204
    births(container("bin-1", SLAG), container("bin-2", SLAG))
    births(container("bin-1", SAWDUST), container("bin-2", SAWDUST))
    assert api.get("/v1/assets/bin-1/material", headers=owner).json() == SORTED_SLAG
    assert api.get("/v1/assets/bin-2/material", headers=owner).json() is None
    # The owner's word is the last one in the audit log too.
    assert [e["key_id"] is None for e in declarations(api, owner, "bin-1")] == [True, False]
    assert births.ingest.stats.partial == {}
