"""The demo fleet: every kind, three tenants, real-data replays when the data sets are there."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from analytics.byproduct_offers import byproduct_window
from analytics.fill import forecast_fill
from analytics.policy import SharingPolicy
from edge_agent.agent import make_sources
from edge_agent.fleet import (
    CATCH_UP_SPEED,
    CONTAINER_HISTORY_D,
    DEMO_MATERIALS,
    demo_fleet,
    shared_data_dir,
)
from edge_agent.sources.replay import ReplaySettings
from idleshare.assets import KINDS

START = 1_700_000_000.0


def test_fleet_has_sixty_assets_of_every_kind_across_three_tenants(tmp_path: Path) -> None:
    configs = demo_fleet(speed=120.0, mqtt_url="mqtt://broker:1884", outbox_dir=tmp_path,
                         seed=3, data_dir=tmp_path / "no-data")
    assert [c.agent.id for c in configs] == [
        "gw-acme-logistics", "gw-borealis-steel", "gw-borealis-steel-containers",
        "gw-citymotion", "gw-citymotion-containers"]
    assets = [a for c in configs for a in c.assets]
    assert len(assets) == 60
    assert {a.kind for a in assets} == {k.name for k in KINDS}
    kinds: dict[str, set[str]] = {}
    for c in configs:
        kinds.setdefault(c.agent.tenant, set()).update(a.kind for a in c.assets)
    assert kinds["acme-logistics"] == {"warehouse_zone", "vehicle"}
    assert kinds["borealis-steel"] == {"machine", "equipment", "container"}
    assert kinds["citymotion"] == {k.name for k in KINDS}
    for c in configs:
        # Containers catch up their history fast: a fill forecast needs the present cycle.
        if c.agent.id.endswith("-containers"):
            assert {a.kind for a in c.assets} == {"container"}
            assert (c.clock.start, c.clock.speed) == (f"-{CONTAINER_HISTORY_D}d", CATCH_UP_SPEED)
        else:
            assert "container" not in {a.kind for a in c.assets}
            assert c.clock.start == "-1d" and c.clock.speed == 120.0
        assert c.mqtt.url == "mqtt://broker:1884"
        assert Path(c.buffer.path).parent == tmp_path
        assert len({a.id for a in c.assets}) == len(c.assets)
        assert all(a.source == "simulator" and a.interval_s == 300 for a in c.assets)


def test_the_same_seed_gives_the_same_fleet(tmp_path: Path) -> None:
    def fleet(seed: int) -> list:
        return demo_fleet(seed=seed, outbox_dir=tmp_path, data_dir=tmp_path)

    assert fleet(5) == fleet(5)
    assert fleet(5) != fleet(6)


def test_fleet_replays_birmingham_car_parks_and_the_steel_plant_when_data_is_there(
    tmp_path: Path,
) -> None:
    assert (shared_data_dir() / "uci_parking_birmingham").is_dir(), "shared data sets missing"
    configs = demo_fleet(outbox_dir=tmp_path)
    replays = {a.id: (c.agent.tenant, a) for c in configs for a in c.assets
               if a.source == "replay"}
    assert sum(len(c.assets) for c in configs) == 60
    parks = [a for tenant, a in replays.values() if a.kind == "warehouse_zone"]
    assert len(parks) == 3 and all(a.unit == "space" for a in parks)
    assert {a.settings.filter_value: a.capacity for a in parks}["Shopping"] == 1920.0
    steel = replays["dui-steel-line-1"][1]
    assert replays["dui-steel-line-1"][0] == "borealis-steel" and steel.kind == "machine"
    assert isinstance(steel.settings, ReplaySettings)
    assert steel.settings.scale == {"power": 4.0} and steel.settings.state_metric == "running"
    # Every replay loads and yields readings within a day of the clock's start.
    for config in configs:
        sources = make_sources(config, START)
        for asset in config.assets:
            if asset.source == "replay":
                readings = sources[asset.id].read(START + 86400)
                assert readings and all(START <= m.time <= START + 86400 for m in readings)


def test_shared_data_dir_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDLESHARE_SHARED_DATA", str(tmp_path))
    assert shared_data_dir() == tmp_path
    configs = demo_fleet(outbox_dir=tmp_path)
    assert not any(a.source == "replay" for c in configs for a in c.assets)


def test_fleet_simulated_assets_sit_near_their_cities(tmp_path: Path) -> None:
    configs = demo_fleet(outbox_dir=tmp_path, data_dir=tmp_path)
    counts = Counter(a.id.split("-")[0] for c in configs for a in c.assets)
    assert set(counts) == {"bhm", "man", "lds", "dui", "shf", "rtm", "lyo"}
    for c in configs:
        for a in c.assets:
            assert 45 < a.lat < 54.5 and -2.5 < a.lon < 7.5


@pytest.mark.parametrize("n_assets", [15, 60])  # the demo test's fleet, and the default one
def test_every_container_holds_its_tenants_material_and_its_history_gives_an_offer_now(
    tmp_path: Path, n_assets: int,
) -> None:
    """What the demo's by-product showcase needs: the containers' history, sampled as their
    agent does from its clock's start, gives each a by-product offer at the present."""
    configs = [c for c in demo_fleet(n_assets, outbox_dir=tmp_path)  # with replays, as the demo
               if c.agent.id.endswith("-containers")]
    assert configs and {c.agent.tenant for c in configs} <= set(DEMO_MATERIALS)
    now = START + CONTAINER_HISTORY_D * 86400.0
    for config in configs:
        sources = make_sources(config, START)
        for asset in config.assets:
            assert asset.material == DEMO_MATERIALS[config.agent.tenant]
            readings = [m for t in np.arange(START, now, asset.interval_s)
                        for m in sources[asset.id].read(float(t))]
            forecast = forecast_fill([m.time for m in readings], [m.value for m in readings],
                                     asset.capacity)
            assert forecast is not None and forecast.emptied_at is not None, asset.id
            assert byproduct_window(forecast, SharingPolicy(), now) is not None, asset.id
