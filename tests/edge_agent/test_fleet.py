"""The demo fleet: every kind, three tenants, real-data replays when the data sets are there."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from edge_agent.agent import make_sources
from edge_agent.fleet import demo_fleet, shared_data_dir
from edge_agent.sources.replay import ReplaySettings
from idleshare.assets import KINDS

START = 1_700_000_000.0


def test_fleet_has_sixty_assets_of_every_kind_across_three_tenants(tmp_path: Path) -> None:
    configs = demo_fleet(speed=120.0, mqtt_url="mqtt://broker:1884", outbox_dir=tmp_path,
                         seed=3, data_dir=tmp_path / "no-data")
    assert [c.agent.tenant for c in configs] == ["acme-logistics", "borealis-steel", "citymotion"]
    assets = [a for c in configs for a in c.assets]
    assert len(assets) == 60
    assert {a.kind for a in assets} == {k.name for k in KINDS}
    kinds = {c.agent.tenant: {a.kind for a in c.assets} for c in configs}
    assert kinds["acme-logistics"] == {"warehouse_zone", "vehicle"}
    assert kinds["borealis-steel"] == {"machine", "equipment", "container"}
    assert kinds["citymotion"] == {k.name for k in KINDS}
    for c in configs:
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
