"""Freight end to end on real Mosquitto and InfluxDB: a truck agent's readings become leg
offers, a platform finds one by corridor search and books it, the next pass's offer of that run
is reduced by the booking, and ``GET /v1/impact`` totals the booking's tonne-km and CO2e.

The agent is the real edge agent with the ``truck_sim`` source; its simulated clock starts
16 days back and runs fast enough to sample that history in seconds (every due time is sampled:
:mod:`edge_agent.agent`), then follows the wall clock. Seed 1 with Venlo as the only stop gives
a truck shuttling Duisburg -> Venlo at 05:30 on weekdays with about half a load, and back.
Ingest is told to take readings up to 17 days old (7 by default).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from analytics.runner import run_once
from api.main import create_app
from edge_agent.agent import Agent
from edge_agent.cities import CITIES_BY_CODE
from edge_agent.config import parse
from edge_agent.sources.truck_sim import Place, haversine_km, path_km, road_path, truck_plan
from ingest.service import Ingest
from market.impact_factors import HGV_AVERAGE_LADEN_TKM
from storage.catalog import Catalog
from storage.influx import InfluxV1Store
from tests.servers import InfluxServer, MosquittoServer

TENANT, TRUCK, PLATFORM = "rhein-logistik", "truck-07", "freightco"
DEPOT, STOP = CITIES_BY_CODE["dui"], CITIES_BY_CODE["ven"]
ZONE, SEED, HISTORY_D = "Europe/Berlin", 1, 16
#: Clock seconds per real second while catching up: 16 days in about 7 s, within what the
#: agent samples per pass (500 per 0.1 s tick, 20 per tick needed here). The agent samples
#: from where the clock is at its first pass, a moment after the start: at this speed a second
#: late costs 2.3 days, hence 16 days asked and 14 (each weekday twice) required.
SPEED = 200_000.0
PRICE_PER_TONNE, BOOKED_T = 9.5, 2.0
CORRIDOR_KM = 20.0
DAY = 86400.0


def wait_for(what: str, condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@dataclass
class Freight:
    catalog: Catalog
    store: InfluxV1Store
    api: TestClient
    owner: dict[str, str]
    platform: dict[str, str]
    now: float

    def offers(self, who: dict[str, str], **params: Any) -> list[dict[str, Any]]:
        got = self.api.get("/v1/offers", params={"kind": "vehicle", "limit": 1000, **params},
                           headers=who)
        assert got.status_code == 200, got.text
        return list(got.json()["items"])

    def corridor(self, **params: Any) -> list[dict[str, Any]]:
        """Origin near the depot, destination near Venlo, departing in the next 7 days
        (unless ``params`` say otherwise)."""
        return self.offers(self.platform, **{
            "lat": DEPOT.lat, "lon": DEPOT.lon, "km": CORRIDOR_KM, "dest_lat": STOP.lat,
            "dest_lon": STOP.lon, "dest_km": CORRIDOR_KM, "start": self.now,
            "end": self.now + 7 * DAY, **params})


@pytest.fixture
def freight(mosquitto: MosquittoServer, influxdb: InfluxServer, tmp_path: Path
            ) -> Iterator[Freight]:
    """The truck's agent -> Mosquitto -> ingest -> InfluxDB, every reading stored once; the
    owner's policy set; one analytics pass at the wall clock."""
    store = InfluxV1Store(influxdb.url, database=f"freight_{uuid.uuid4().hex}")
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    config = parse(f"""
[agent]
id = "gw-{TRUCK}"
tenant = "{TENANT}"
[mqtt]
url = "{mosquitto.url}"
[buffer]
path = "outbox.db"
[clock]
start = "-{HISTORY_D}d"
speed = {SPEED}
[[assets]]
id = "{TRUCK}"
kind = "vehicle"
capacity = 24
lat = {DEPOT.lat}
lon = {DEPOT.lon}
source = "truck_sim"
interval_s = 300
[assets.truck_sim]
seed = {SEED}
timezone = "{ZONE}"
stops = ["{STOP.code}"]
""", base_dir=tmp_path)
    # Ingest refuses readings over 7 days old by default: the backfilled history is older.
    ingest = Ingest(store, catalog, mosquitto.url, client_id=f"freight-{uuid.uuid4().hex[:8]}",
                    max_age_s=(HISTORY_D + 1) * DAY)
    ingest.start()
    try:
        assert ingest.wait_ready(15)
        agent = Agent(config)  # its clock starts now
        try:
            agent.start()
            wait_for("the agent to catch up with the wall clock",
                     lambda: agent.clock.now() >= time.time() - 1.0, 30)
            wait_for("every reading to leave the outbox", lambda: agent.stats.queued == 0, 30)
        finally:
            agent.stop()
        sampled = agent.stats.sampled
        wait_for("ingest to store every reading", lambda: store.count(TENANT) >= sampled, 30)
    finally:
        ingest.stop()
    assert store.count(TENANT) == sampled, "every reading stored exactly once"
    assert sum(ingest.stats.rejected.values()) == 0
    assert sampled >= 4 * 14 * 288  # four metrics every 5 minutes for 14 days at least

    api = TestClient(create_app(catalog, store, dispatch_interval_s=None))
    owner = {"Authorization": f"Bearer {catalog.create_key(TENANT, 'owner', 'e2e')}"}
    platform = {"Authorization": f"Bearer {catalog.create_key(PLATFORM, 'platform', 'e2e')}"}
    policy = api.put(f"/v1/assets/{TRUCK}/policy", headers=owner, json={
        "timezone": ZONE, "price_per_tonne": PRICE_PER_TONNE, "capabilities": ["tail_lift"]})
    assert policy.status_code == 200, policy.text
    now = time.time()
    report = run_once(catalog, store, now=now)
    assert report.errors == 0
    yield Freight(catalog, store, api, owner, platform, now)
    catalog.close()
    store.close()


def outbound_runs(now: float) -> list[float]:
    """Local 05:30 on the weekdays of the next 7 days: the plan's departures (the truth)."""
    plan = truck_plan(TRUCK, Place(TRUCK, DEPOT.lat, DEPOT.lon), ZONE, 24.0, SEED, (STOP.code,))
    (rotation,) = plan.rotations
    assert rotation.depart_h == 5.5 and rotation.weekdays == (0, 1, 2, 3, 4)
    zone = ZoneInfo(ZONE)
    today = datetime.fromtimestamp(now, zone).date()
    out = []
    for k in range(8):
        d = datetime.fromordinal(today.toordinal() + k).replace(tzinfo=zone)
        at = d.replace(hour=5, minute=30).timestamp()
        if d.weekday() in rotation.weekdays and now <= at < now + 7 * DAY:
            out.append(at)
    return out


def ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_a_truck_agents_readings_become_leg_offers_a_platform_books_and_the_impact_counts(
    freight: Freight,
) -> None:
    f = freight
    # Enough free that the run is still worth offering (min_quantity 1 t) after the booking.
    found = f.corridor(min_quantity=BOOKED_T + 1.0)
    # Every offer the corridor finds is an outbound run: from the depot, to Venlo, departing
    # around 05:30 on a weekday ahead; its distance the simulated road's, as driven.
    runs = outbound_runs(f.now)
    assert found and len(found) <= len(runs)
    road_km = path_km(road_path(Place("", DEPOT.lat, DEPOT.lon), Place("", STOP.lat, STOP.lon)))
    for o in found:
        leg = o["leg"]
        assert o["asset"] == TRUCK and o["unit"] == "t" and o["available"] >= BOOKED_T + 1.0
        assert any(ts(o["start"]) <= run <= ts(o["end"]) for run in runs), o
        assert haversine_km(leg["destination"]["lat"], leg["destination"]["lon"],
                            STOP.lat, STOP.lon) <= CORRIDOR_KM
        assert leg["distance_km"] == pytest.approx(road_km, rel=0.1)
        assert leg["price_per_tonne"] == PRICE_PER_TONNE and o["capabilities"] == ["tail_lift"]
    # The returns are leg offers too, but to the depot: not in this corridor.
    every = f.offers(f.platform, start=f.now, end=f.now + 7 * DAY)
    returns = [o for o in every if o["leg"] and haversine_km(
        o["leg"]["destination"]["lat"], o["leg"]["destination"]["lon"],
        DEPOT.lat, DEPOT.lon) <= CORRIDOR_KM]
    assert returns and not {o["id"] for o in returns} & {o["id"] for o in found}

    first = found[0]
    # A departure window around that run finds that run alone.
    window = f.corridor(start=ts(first["start"]) - 3600, end=ts(first["end"]) + 3600)
    assert [o["id"] for o in window] == [first["id"]]
    held = f.api.post("/v1/bookings", json={"offer_id": first["id"], "quantity": BOOKED_T},
                      headers=f.platform)
    assert held.status_code == 201, held.text
    confirmed = f.api.post(f"/v1/bookings/{held.json()['id']}/confirm", headers=f.platform)
    assert confirmed.status_code == 200, confirmed.text

    # The next pass forecasts the same run again: the offer keeps its id, and what a platform
    # can still book on it is its quantity less the booking (so a larger minimum misses it).
    assert run_once(f.catalog, f.store, now=f.now + 60).errors == 0
    (kept,) = [o for o in f.corridor() if o["id"] == first["id"]]
    assert kept["quantity"] == first["quantity"]
    assert kept["available"] == pytest.approx(first["available"] - BOOKED_T)
    assert first["id"] not in {o["id"] for o in f.corridor(min_quantity=kept["available"] + 0.01)}

    # The owner takes the offer down; the booking stands, and the pass after offers that run
    # again less what the booking holds.
    assert f.api.post(f"/v1/offers/{first['id']}/withdraw", headers=f.owner).status_code == 200
    assert run_once(f.catalog, f.store, now=f.now + 120).errors == 0
    again = [o for o in f.corridor() if o["leg"]["leg_id"] == first["leg"]["leg_id"]
             and o["start"] == first["start"]]
    assert [o["quantity"] for o in again] == [round(first["quantity"] - BOOKED_T, 3)]
    assert again[0]["id"] != first["id"] and again[0]["available"] == again[0]["quantity"]

    # The confirmed booking's impact, by hand from the factor table: tonnes x the leg's km.
    tkm = BOOKED_T * first["leg"]["distance_km"]
    period = {"start": f.now, "end": f.now + 8 * DAY}
    for who in (f.platform, f.owner):
        got = f.api.get("/v1/impact", params=period, headers=who)
        assert got.status_code == 200, got.text
        total = got.json()["total"]
        assert total["bookings"] == 1
        assert total["tonne_km"] == pytest.approx(tkm)
        assert total["kg_co2e_avoided"] == pytest.approx(tkm * HGV_AVERAGE_LADEN_TKM.value)
        assert total["factors"] == [HGV_AVERAGE_LADEN_TKM.id]
        assert total["revenue"] == {"EUR": round(BOOKED_T * PRICE_PER_TONNE, 2)}
    # Nobody else's impact holds it.
    other = {"Authorization": f"Bearer {f.catalog.create_key('other', 'platform', 'e2e')}"}
    assert f.api.get("/v1/impact", params=period, headers=other).json()["total"]["bookings"] == 0
