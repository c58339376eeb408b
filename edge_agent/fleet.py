"""A demo fleet: about 60 assets of every kind, for three tenants, one agent each (and one
for its containers).

``acme-logistics`` runs warehouse zones and trucks, ``borealis-steel`` machines, equipment and
by-product containers, ``citymotion`` a mix. Locations are around real cities, one site of
its tenant's per city (:func:`demo_sites`), named in the agents' births. The clock starts a
day back at ``speed``, so a day of history builds up quickly. When the shared data sets are
present, a few assets replay real recordings: Birmingham car parks (as warehouse zones counting
spaces) and a steel plant (as a machine), shifted by whole weeks to the clock's start so
weekdays and times of day stay true.

:func:`demo_trucks` adds a few trucks of ``acme-logistics`` (``truck_sim``: rotations from its
cities to others in range) on an agent of their own whose clock starts
:data:`TRUCK_HISTORY_D` days back and runs fast enough to sample that history in about half a
minute: recurring legs need each weekday seen twice, so leg offers appear in the demo's first
minutes. Ingest must then take readings that old (the demo tells it).

Containers hold their tenant's by-product (:data:`DEMO_MATERIALS`, declared in their agent's
config and so in its birth). A fill forecast needs the current cycle's readings up to the
present, which a clock starting a day back at ``speed`` reaches only after many minutes: each
tenant's containers run on an agent of their own whose clock starts
:data:`CONTAINER_HISTORY_D` days back at :data:`CATCH_UP_SPEED`, so by-product offers appear
in the demo's first minutes too.
"""

from __future__ import annotations

import csv
import os
import random
from dataclasses import dataclass
from pathlib import Path

from edge_agent.cities import CITIES_BY_CODE, City
from edge_agent.config import (
    AgentConfig,
    AgentSection,
    AssetConfig,
    BufferSection,
    ClockSection,
    MqttSection,
)
from edge_agent.sources.replay import ReplaySettings
from edge_agent.sources.simulator import SimulatorSettings
from edge_agent.sources.truck_sim import PAYLOAD_T, TruckSimSettings
from idleshare.materials import MATERIAL_KINDS, Material

PARKING_CSV = "uci_parking_birmingham/dataset_until_2016-12-05.csv"
STEEL_CSV = "uci_steel_industry_energy/Steel_industry_data.csv"
CAR_PARKS = ("BHMBCCMKT01", "Broad Street", "Shopping")  # full coverage from day one
WEEK_S = 7 * 86400.0
INTERVAL_S = 300.0
#: Steel plant: power (kW) above which the line counts as running (light load is ~13 kW).
STEEL_RUNNING_KW = 40.0
#: Days of truck history sampled at start (legs need 14: each weekday twice).
TRUCK_HISTORY_D = 16
#: Days of container history sampled at start: more than the longest time between two
#: emptyings (120 h, see :func:`_simulated`), so every container shows a whole past cycle.
CONTAINER_HISTORY_D = 6
#: The clock of an agent catching up its history: 16 days in about 28 s, so a late first
#: sample (the agent samples from where the clock is then) costs minutes, not days.
CATCH_UP_SPEED = 50_000.0
TRUCK_TENANT = "acme-logistics"
#: What each tenant's containers hold. Densities are bulk densities, assumed for the demo:
#: slag near the low end of the compacted unit weight of steel slag in FHWA-RD-97-148 (User
#: Guidelines for Waste and Byproduct Materials in Pavement Construction, about 1.6-1.9
#: t/m3; loose in a skip it is lighter); sawdust and shavings as wet, loose mill residues in
#: Briggs 1994 (Forest Products Measurements and Conversion Factors, table 7-2: 0.18-0.26).
DEMO_MATERIALS = {
    "borealis-steel": Material(code="10 02 02", description="unprocessed slag (steelworks)",
                               density_t_per_m3=1.6),
    "citymotion": Material(code="03 01 05", description="sawdust and shavings (pallet repair)",
                           density_t_per_m3=0.21),
}


BIRMINGHAM, MANCHESTER, LEEDS, DUISBURG, SHEFFIELD, ROTTERDAM, LYON = (
    CITIES_BY_CODE[code] for code in ("bhm", "man", "lds", "dui", "shf", "rtm", "lyo"))


@dataclass(frozen=True)
class Tenant:
    name: str
    share: float  # of the fleet's assets
    cities: tuple[City, ...]
    kinds: tuple[str, ...]  # cycled through


TENANTS = (
    Tenant("acme-logistics", 0.40, (BIRMINGHAM, MANCHESTER, LEEDS),
           ("warehouse_zone", "warehouse_zone", "vehicle")),
    Tenant("borealis-steel", 0.35, (DUISBURG, SHEFFIELD),
           ("machine", "machine", "equipment", "container")),
    Tenant("citymotion", 0.25, (ROTTERDAM, LYON),
           ("warehouse_zone", "vehicle", "machine", "equipment", "container")),
)

# kind -> (id code, display name, capacity range, unit)
_KIND_LOOK = {
    "warehouse_zone": ("zone", "Zone", (200, 1200), "pallet"),
    "vehicle": ("truck", "Truck", (8, 26), "t"),
    "machine": ("mach", "Press", (1, 1), "machine"),
    "equipment": ("equip", "Forklift", (1, 1), "unit"),
    "container": ("cont", "By-product container", (10, 40), "m3"),
}


def shared_data_dir() -> Path:
    """``$IDLESHARE_SHARED_DATA``, else ``<repo>/../shared/data``."""
    env = os.environ.get("IDLESHARE_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def demo_sites() -> dict[str, tuple[City, ...]]:
    """Tenant -> the cities it has a site in (the site's id is the city's code): the demo
    creates these before its agents' births name them."""
    return {tenant.name: tenant.cities for tenant in TENANTS}


def demo_fleet(
    n_assets: int = 60,
    speed: float = 60.0,
    mqtt_url: str = "mqtt://127.0.0.1:1883",
    outbox_dir: str | Path = ".",
    seed: int = 1,
    data_dir: Path | None = None,
) -> list[AgentConfig]:
    """One agent config per tenant, and one more for its containers if it has any
    (``gw-<tenant>-containers``, catching up :data:`CONTAINER_HISTORY_D` days at start):
    ``n_assets`` assets in all (replays included)."""
    rng = random.Random(seed)
    data = data_dir if data_dir is not None else shared_data_dir()
    replays = _replay_assets(data)
    configs = []
    for tenant in TENANTS:
        assets = list(replays.get(tenant.name, []))
        count = max(round(n_assets * tenant.share), len(assets) + 1)
        for i in range(count - len(assets)):
            kind = tenant.kinds[i % len(tenant.kinds)]
            assets.append(_simulated(kind, tenant.cities[i % len(tenant.cities)], i + 1, seed, rng,
                                     DEMO_MATERIALS.get(tenant.name)))
        containers = [a for a in assets if a.kind in MATERIAL_KINDS]
        configs.append(_agent(f"gw-{tenant.name}", tenant.name, mqtt_url, outbox_dir,
                              ClockSection(speed=speed, start="-1d"),
                              [a for a in assets if a.kind not in MATERIAL_KINDS]))
        if containers:
            configs.append(_agent(
                f"gw-{tenant.name}-containers", tenant.name, mqtt_url, outbox_dir,
                ClockSection(speed=CATCH_UP_SPEED, start=f"-{CONTAINER_HISTORY_D}d"), containers))
    return configs


def demo_trucks(
    n_trucks: int = 3,
    mqtt_url: str = "mqtt://127.0.0.1:1883",
    outbox_dir: str | Path = ".",
    seed: int = 1,
) -> AgentConfig:
    """An agent of ``n_trucks`` simulated trucks of :data:`TRUCK_TENANT`, based in turn at
    its cities, with :data:`TRUCK_HISTORY_D` days of history sampled at start."""
    tenant = next(t for t in TENANTS if t.name == TRUCK_TENANT)
    rng = random.Random(f"{seed}|trucks")
    trucks = []
    for n in range(1, n_trucks + 1):
        city = tenant.cities[(n - 1) % len(tenant.cities)]
        trucks.append(AssetConfig(
            id=f"{city.code}-hgv-{n:02d}", kind="vehicle", capacity=PAYLOAD_T, unit="t",
            lat=round(city.lat + rng.uniform(-0.03, 0.03), 5),
            lon=round(city.lon + rng.uniform(-0.045, 0.045), 5), name=f"Articulated truck {n}",
            site=city.code, source="truck_sim", interval_s=INTERVAL_S,
            settings=TruckSimSettings(seed=seed, timezone=city.timezone)))
    return _agent(f"gw-{TRUCK_TENANT}-trucks", TRUCK_TENANT, mqtt_url, outbox_dir,
                  ClockSection(speed=CATCH_UP_SPEED, start=f"-{TRUCK_HISTORY_D}d"), trucks)


def _agent(agent_id: str, tenant: str, mqtt_url: str, outbox_dir: str | Path,
           clock: ClockSection, assets: list[AssetConfig]) -> AgentConfig:
    """A demo agent: its outbox in ``outbox_dir``, reconnecting within 10 s."""
    return AgentConfig(
        agent=AgentSection(id=agent_id, tenant=tenant),
        mqtt=MqttSection(url=mqtt_url, reconnect_max_s=10),
        buffer=BufferSection(path=str(Path(outbox_dir) / f"{agent_id}.db")),
        clock=clock,
        assets=tuple(assets),
    )


def _simulated(kind: str, city: City, n: int, seed: int, rng: random.Random,
               material: Material | None) -> AssetConfig:
    """A simulated asset of ``kind`` near ``city``; a container holds ``material``."""
    code, label, (low, high), unit = _KIND_LOOK[kind]
    settings = SimulatorSettings(
        seed=seed, timezone=city.timezone, rated_kw=round(rng.uniform(20, 250)),
        empty_every_h=round(rng.uniform(48, 120)))
    return AssetConfig(
        id=f"{city.code}-{code}-{n:02d}", kind=kind, capacity=float(rng.randint(low, high)),
        unit=unit, lat=round(city.lat + rng.uniform(-0.05, 0.05), 5),
        lon=round(city.lon + rng.uniform(-0.08, 0.08), 5), name=f"{label} {n}",
        site=city.code, source="simulator", interval_s=INTERVAL_S, settings=settings,
        material=material if kind in MATERIAL_KINDS else None)


def _replay_assets(data: Path) -> dict[str, list[AssetConfig]]:
    out: dict[str, list[AssetConfig]] = {}
    parking, steel = data / PARKING_CSV, data / STEEL_CSV
    if parking.is_file():
        out["citymotion"] = _car_parks(parking)
    if steel.is_file():
        out["borealis-steel"] = [AssetConfig(
            id="dui-steel-line-1", kind="machine", capacity=1.0, unit="machine",
            lat=DUISBURG.lat + 0.02, lon=DUISBURG.lon - 0.03, name="Steel line 1 (replay)",
            site=DUISBURG.code, source="replay", interval_s=INTERVAL_S, settings=ReplaySettings(
                file=str(steel), time_column="date", time_format="%d/%m/%Y %H:%M",
                timezone=DUISBURG.timezone, midnight_ends_day=True,
                values={"power": "Usage_kWh"}, scale={"power": 4.0},  # kWh per 15 min -> kW
                state_metric="running", state_from="power", state_threshold=STEEL_RUNNING_KW,
                align="clock_start", align_period_s=WEEK_S))]
    return out


def _car_parks(path: Path) -> list[AssetConfig]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        capacity = {row["SystemCodeNumber"]: row["Capacity"] for row in csv.DictReader(fh)}
    assets = []
    for n, code in enumerate(c for c in CAR_PARKS if c in capacity):
        slug = code.lower().replace(" ", "-")
        assets.append(AssetConfig(
            id=f"bhm-park-{slug}", kind="warehouse_zone", capacity=float(capacity[code]),
            unit="space", lat=round(BIRMINGHAM.lat + 0.006 * (n - 1), 5),
            lon=round(BIRMINGHAM.lon + 0.008 * (n - 1), 5), name=f"Car park {code} (replay)",
            site=BIRMINGHAM.code, source="replay", interval_s=INTERVAL_S, settings=ReplaySettings(
                file=str(path), time_column="LastUpdated", time_format="%Y-%m-%d %H:%M:%S",
                timezone=BIRMINGHAM.timezone, values={"occupied": "Occupancy"},
                filter_column="SystemCodeNumber", filter_value=code,
                align="clock_start", align_period_s=WEEK_S)))
    return assets
