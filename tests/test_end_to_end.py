"""Agent → broker → ingest → store → analytics → API, on real servers and on embedded defaults.

The agent replays a known occupancy pattern (two days, a reading every 10 minutes); the test
works out independently (tests/reference.py) which idle windows and offers that pattern implies
and checks the API answers exactly those.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from analytics.runner import run_once
from api.main import create_app
from edge_agent.agent import Agent
from edge_agent.config import parse
from idleshare.broker import EmbeddedBroker
from ingest.service import Ingest
from storage.catalog import Catalog
from storage.influx import InfluxV1Store
from storage.readings import ReadingStore
from storage.sqlite import SqliteReadingStore
from tests import reference
from tests.servers import InfluxServer, MosquittoServer, free_port

TENANT, ASSET, CAPACITY = "e2e-logistics", "dock-1", 100.0
STEP, H = 600.0, 3600.0


@dataclass
class Platform:
    mqtt_url: str
    store: ReadingStore


@pytest.fixture(params=["real_servers", "embedded"])
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    if request.param == "real_servers":
        mosquitto: MosquittoServer = request.getfixturevalue("mosquitto")
        influxdb: InfluxServer = request.getfixturevalue("influxdb")
        store: ReadingStore = InfluxV1Store(influxdb.url, database=f"e2e_{uuid.uuid4().hex}")
        yield Platform(mosquitto.url, store)
        store.close()
    else:
        broker = EmbeddedBroker(port=free_port()).start()
        store = SqliteReadingStore(tmp_path / "readings.db")
        yield Platform(broker.url, store)
        store.close()
        broker.stop()


def occupied_at(i: int) -> float:
    """The pattern, by reading number (10 min apart) from the start of the first day."""
    day, hour = divmod(i * STEP / H, 24)
    if 2 <= hour < 6:  # idle every night: seen twice, so the second offer is surer
        return 20.0 if day == 0 else 30.0
    if day == 0 and 10 <= hour < 10.5:  # too short to count
        return 10.0
    if day == 1 and 14 <= hour < 17:  # idle only on the second day
        return 40.0
    if day == 1 and hour >= 22:  # idle at the end of the data: an ongoing window
        return 5.0
    return 90.0


def test_agent_to_api_returns_exactly_the_windows_and_offers_the_pattern_implies(
    platform: Platform, tmp_path: Path
) -> None:
    t0 = math.floor(time.time() / STEP) * STEP - 48 * H
    times = [t0 + i * STEP for i in range(288)]  # the last one is 10 min ago at most
    occupied = [occupied_at(i) for i in range(288)]
    csv = tmp_path / "pattern.csv"
    csv.write_text("time,occupied\n" + "".join(
        f"{t:.0f},{v}\n" for t, v in zip(times, occupied, strict=True)))
    config = parse(f"""
[agent]
id = "gw-e2e"
tenant = "{TENANT}"
[mqtt]
url = "{platform.mqtt_url}"
[buffer]
path = "outbox.db"
[[assets]]
id = "{ASSET}"
kind = "warehouse_zone"
capacity = {CAPACITY}
unit = "pallet"
lat = 52.48
lon = -1.89
source = "replay"
interval_s = 60
[assets.replay]
file = "{csv}"
time_format = "epoch"
values = {{ occupied = "occupied" }}
""", base_dir=tmp_path)

    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    key = catalog.create_key(TENANT, "owner", "e2e")
    other_key = catalog.create_key("someone-else", "owner", "e2e")
    ingest = Ingest(platform.store, catalog, platform.mqtt_url,
                    client_id=f"e2e-{uuid.uuid4().hex[:8]}")
    ingest.start()
    assert ingest.wait_ready(15)
    agent = Agent(config)
    agent.start()
    try:
        deadline = time.monotonic() + 60
        while platform.store.count(TENANT) < len(times) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        agent.stop()
        ingest.stop()
    assert platform.store.count(TENANT) == len(times), "every reading stored exactly once"
    assert sum(ingest.stats.rejected.values()) == 0

    now = t0 + 48 * H
    run_once(catalog, platform.store, now=now)
    free = [CAPACITY - v for v in occupied]
    want_windows = reference.windows(times, free, CAPACITY, 0.5, H)
    want_offers = reference.offers(times, free, CAPACITY, now)
    assert len(want_windows) == 4 and len(want_offers) == 3  # the pattern says so

    api = TestClient(create_app(catalog, platform.store))
    auth = {"Authorization": f"Bearer {key}"}
    got = api.get("/v1/idle-windows", params={"asset": ASSET, "limit": 1000}, headers=auth)
    assert got.status_code == 200, got.text
    windows = got.json()["items"]
    assert [(ts(w["start"]), ts(w["end"]), w["min_free"], w["ongoing"]) for w in windows] == [
        (w.start, w.end, w.min_free, w.ongoing) for w in want_windows]

    got = api.get("/v1/offers", params={"asset": ASSET, "limit": 1000}, headers=auth)
    assert got.status_code == 200, got.text
    offers = got.json()["items"]
    assert [(ts(o["start"]), ts(o["end"]), o["quantity"]) for o in offers] == [
        (o.start, o.end, o.quantity) for o in want_offers]
    assert [o["confidence"] for o in offers] == pytest.approx(
        [o.confidence for o in want_offers])
    assert {o["unit"] for o in offers} == {"pallet"}

    # Another company's key sees none of it.
    other = {"Authorization": f"Bearer {other_key}"}
    assert api.get("/v1/offers", headers=other).json()["items"] == []
    assert api.get(f"/v1/assets/{ASSET}", headers=other).status_code == 404
    catalog.close()


def ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
