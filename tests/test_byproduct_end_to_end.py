"""By-products end to end on real Mosquitto and InfluxDB: a container agent's fill readings
become a by-product offer of its declared material, a collector's platform key finds it by EWC
code prefix and books part of it, the next pass's offer has the booking taken off what is
available, and ``GET /v1/impact`` totals the tonnes diverted (m3 x the declared density).

The agent replays a known fill (tests/reference.py's way: a CSV, a reading every 10 minutes):
a first cycle filling at 0.7 m3/h for 30 h, an emptying, then the current cycle filling at
0.5 m3/h for 40 h, up to 10 minutes ago.
"""

from __future__ import annotations

import math
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from analytics.byproduct_offers import METHOD
from analytics.runner import run_once
from api.main import create_app
from edge_agent.agent import Agent
from edge_agent.config import parse
from ingest.service import Ingest
from market.offers import iso
from storage.catalog import Catalog
from storage.influx import InfluxV1Store
from tests.servers import InfluxServer, MosquittoServer

TENANT, BIN, COLLECTOR = "borealis-steel", "dui-cont-01", "recyclo"
CAPACITY, STEP, H = 30.0, 600.0, 3600.0
FIRST_H, CURRENT_H, FIRST_RATE, RATE = 30.0, 40.0, 0.7, 0.5
DENSITY, BOOKED_M3 = 0.21, 5.0


def fill_pattern(now: float) -> tuple[list[float], list[float], float]:
    """Times, fill (m3) and the time of the emptying's first reading."""
    start = math.floor(now / STEP) * STEP - (FIRST_H + CURRENT_H) * H
    times, fill = [], []
    for i in range(int((FIRST_H + CURRENT_H) * H / STEP)):
        t = start + i * STEP
        elapsed = (t - start) / H
        current = elapsed - FIRST_H
        times.append(t)
        fill.append(round(FIRST_RATE * elapsed if current < 0 else 0.2 + RATE * current, 3))
    emptied = start + FIRST_H * H
    return times, fill, emptied


def ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_a_containers_fill_becomes_a_by_product_offer_found_by_ewc_prefix_and_booked(
        mosquitto: MosquittoServer, influxdb: InfluxServer, tmp_path: Path) -> None:
    times, fill, emptied = fill_pattern(time.time())
    csv = tmp_path / "fill.csv"
    csv.write_text("time,fill\n" + "".join(f"{t:.0f},{v}\n" for t, v in zip(times, fill,
                                                                         strict=True)))
    config = parse(f"""
[agent]
id = "gw-borealis"
tenant = "{TENANT}"
[mqtt]
url = "{mosquitto.url}"
[buffer]
path = "outbox.db"
[[assets]]
id = "{BIN}"
kind = "container"
capacity = {CAPACITY}
unit = "m3"
lat = 51.45
lon = 6.73
source = "replay"
interval_s = 60
[assets.replay]
file = "{csv}"
time_format = "epoch"
values = {{ fill = "fill" }}
""", base_dir=tmp_path)
    store = InfluxV1Store(influxdb.url, database=f"byproduct_{uuid.uuid4().hex}")
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    ingest = Ingest(store, catalog, mosquitto.url, client_id=f"bp-{uuid.uuid4().hex[:8]}")
    ingest.start()
    assert ingest.wait_ready(15)
    agent = Agent(config)
    agent.start()
    try:
        deadline = time.monotonic() + 60
        while store.count(TENANT) < len(times) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        agent.stop()
        ingest.stop()
    assert store.count(TENANT) == len(times), "every reading stored exactly once"
    assert sum(ingest.stats.rejected.values()) == 0

    api = TestClient(create_app(catalog, store, dispatch_interval_s=None))
    owner = {"Authorization": f"Bearer {catalog.create_key(TENANT, 'owner', 'e2e')}"}
    market = {"Authorization": f"Bearer {catalog.create_key(COLLECTOR, 'platform', 'e2e')}"}
    now = times[-1] + STEP
    run_once(catalog, store, now=now)  # no material declared: nothing to collect
    assert api.get("/v1/offers", headers=market).json()["items"] == []

    declared = api.put(f"/v1/assets/{BIN}/material", headers=owner, json={
        "code": "10 02 02", "description": "unprocessed slag", "density_t_per_m3": DENSITY})
    assert declared.status_code == 200, declared.text
    run_once(catalog, store, now=now)
    found = api.get("/v1/offers", headers=market, params={"eural": "10 02"}).json()["items"]
    assert api.get("/v1/offers", headers=market, params={"eural": "03"}).json()["items"] == []
    [offer] = found
    assert (offer["asset"], offer["kind"], offer["unit"], offer["method"]) == (
        BIN, "container", "m3", METHOD)
    assert offer["material"] == {"code": "10 02 02", "description": "unprocessed slag",
                                 "hazardous": False, "density_t_per_m3": DENSITY,
                                 "emptied_at": iso(emptied)}
    # Above worth collecting (15 m3) already: open now, until 27 m3 at 0.5 m3/h.
    level = fill[-1]
    assert ts(offer["start"]) == pytest.approx(now)
    assert ts(offer["end"]) == pytest.approx(times[-1] + (27.0 - level) / RATE * H, abs=STEP)
    # The lower estimate less the 10 % reserve: never more than is there.
    assert offer["quantity"] <= 0.9 * (level + RATE * STEP / H)
    assert offer["quantity"] == pytest.approx(0.9 * level, abs=0.3)

    held = api.post("/v1/bookings", headers=market,
                    json={"offer_id": offer["id"], "quantity": BOOKED_M3})
    assert held.status_code == 201, held.text
    assert api.post(f"/v1/bookings/{held.json()['id']}/confirm",
                    headers=market).status_code == 200
    run_once(catalog, store, now=now + 300)
    [again] = api.get("/v1/offers", headers=market, params={"eural": "100202"}).json()["items"]
    assert again["id"] == offer["id"]
    assert again["available"] == pytest.approx(again["quantity"] - BOOKED_M3)

    for key in (market, owner):
        impact = api.get("/v1/impact", headers=key, params={
            "start": iso(now - 86400), "end": iso(now + 86400)})
        assert impact.status_code == 200, impact.text
        total = impact.json()["total"]
        assert total["bookings"] == 1
        assert total["tonnes_diverted"] == pytest.approx(BOOKED_M3 * DENSITY)  # 1.05 t
        assert total["kg_co2e_avoided"] is None
    store.close()
    catalog.close()

