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
from ingest.service import Ingest
from shell.broker import EmbeddedBroker
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


@dataclass
class Pipeline:
    catalog: Catalog
    key: str
    times: list[float]
    occupied: list[float]
    now: float


def run_pipeline(platform: Platform, tmp_path: Path) -> Pipeline:
    """The agent replays the pattern through the broker into ingest and the store; analytics
    runs once. Every reading must be stored exactly once, none rejected."""
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
    return Pipeline(catalog, key, times, occupied, now)


def test_agent_to_api_returns_exactly_the_windows_and_offers_the_pattern_implies(
    platform: Platform, tmp_path: Path
) -> None:
    p = run_pipeline(platform, tmp_path)
    free = [CAPACITY - v for v in p.occupied]
    want_windows = reference.windows(p.times, free, CAPACITY, 0.5, H)
    want_offers = reference.offers(p.times, free, CAPACITY, p.now)
    assert len(want_windows) == 4 and len(want_offers) == 3  # the pattern says so

    api = TestClient(create_app(p.catalog, platform.store))
    auth = {"Authorization": f"Bearer {p.key}"}
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
    other_key = p.catalog.create_key("someone-else", "owner", "e2e")
    other = {"Authorization": f"Bearer {other_key}"}
    assert api.get("/v1/offers", headers=other).json()["items"] == []
    assert api.get(f"/v1/assets/{ASSET}", headers=other).status_code == 404
    p.catalog.close()


def test_a_booked_offer_reduces_the_next_offers_for_that_asset(
    platform: Platform, tmp_path: Path
) -> None:
    p = run_pipeline(platform, tmp_path)
    api = TestClient(create_app(p.catalog, platform.store, dispatch_interval_s=None))
    owner = {"Authorization": f"Bearer {p.key}"}
    market = {"Authorization": f"Bearer {p.catalog.create_key('market', 'platform', 'e2e')}"}
    offers = api.get("/v1/offers", params={"asset": ASSET}, headers=market).json()["items"]
    first = offers[0]
    assert first["quantity"] == 63.0  # night window: least free 70, less the 10 % reserve

    held = api.post("/v1/bookings", json={"offer_id": first["id"], "quantity": 30},
                    headers=market)
    assert held.status_code == 201, held.text
    confirmed = api.post(f"/v1/bookings/{held.json()['id']}/confirm", headers=market)
    assert confirmed.status_code == 200, confirmed.text
    # The owner takes the offer down (say, to reprice it); the booking stands.
    assert api.post(f"/v1/offers/{first['id']}/withdraw", headers=owner).status_code == 200

    run_once(p.catalog, platform.store, now=p.now + 60)
    again = api.get("/v1/offers", params={"asset": ASSET}, headers=market).json()["items"]
    same_slot = [o for o in again if (o["start"], o["end"]) == (first["start"], first["end"])]
    assert [o["quantity"] for o in same_slot] == [33.0]  # 63 less the 30 booked
    assert same_slot[0]["id"] != first["id"]
    others = [(o["start"], o["quantity"]) for o in again if o not in same_slot]
    assert others == [(o["start"], o["quantity"]) for o in offers[1:]]  # untouched
    p.catalog.close()


def ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
