"""Parsing agent status messages."""

from __future__ import annotations

import json

import pytest

from edge_agent.config import AssetConfig
from idleshare import wire
from idleshare.errors import WireError
from idleshare.materials import Material
from ingest.status import parse_status

TOPIC = wire.Topic.parse(wire.status_topic("acme", "agent-1"))
ZONE = {"id": "zone-1", "kind": "warehouse_zone", "capacity": 10, "unit": "pallet"}


def status(**fields: object) -> bytes:
    return json.dumps({"agent": "agent-1", "state": "online", "time": 5.0, "version": "1",
                       "assets": [ZONE], **fields}).encode()


def test_a_birth_lists_assets_of_the_topics_tenant() -> None:
    s = parse_status(TOPIC, status(assets=[{**ZONE, "tenant": "evil", "colour": "red"}]))
    assert (s.tenant, s.agent, s.online, s.time) == ("acme", "agent-1", True, 5.0)
    [asset] = s.assets
    assert (asset.tenant, asset.id, asset.capacity, asset.metrics) == (
        "acme", "zone-1", 10.0, ("occupied",))


def test_a_birth_names_sites_and_carries_the_outbox_counts() -> None:
    s = parse_status(TOPIC, status(assets=[{**ZONE, "site": "bhm"}, {**ZONE, "id": "zone-2"}],
                                   queued=3, dropped=2))
    assert (s.sites, s.queued, s.dropped) == ((("zone-1", "bhm"),), 3, 2)
    assert [a.id for a in s.assets] == ["zone-1", "zone-2"]


def test_a_last_will_is_offline() -> None:
    s = parse_status(TOPIC, wire.encode_status("agent-1", "offline", 9.0))
    assert (s.online, s.assets) == (False, ())


@pytest.mark.parametrize("payload", [
    b"{",
    status(state="sleeping"),
    status(agent="agent-2"),  # not the agent of the topic
    status(time=True),
    status(extra=1),
    status(assets=[{**ZONE, "kind": "spaceship"}]),
    status(assets=[{**ZONE, "capacity": 0}]),
    status(assets=[{**ZONE, "id": "bad id"}]),
    status(assets=[{**ZONE, "unit": "pallet\\"}]),  # a tag line protocol cannot carry
    status(assets=[{**ZONE, "unit": "a\nb"}]),
    status(assets=[{**ZONE, "site": "bad site"}]),
    status(dropped=-1),
], ids=lambda p: p.decode()[:50])
def test_anything_else_is_bad_status(payload: bytes) -> None:
    with pytest.raises(WireError) as info:
        parse_status(TOPIC, payload)
    assert info.value.reason == "bad_status"


SLAG = Material(code="10 02 02", description="unprocessed slag", density_t_per_m3=1.6)
BIN = {"id": "bin-1", "kind": "container", "capacity": 20, "unit": "m3"}


def test_a_containers_material_makes_the_round_trip_from_the_agents_config() -> None:
    config = AssetConfig(id="bin-1", kind="container", capacity=20, material=SLAG)
    payload = wire.encode_status("agent-1", "online", 5.0, "1", [config.announced("acme")])
    s = parse_status(TOPIC, payload)
    assert s.materials == (("bin-1", SLAG),) and s.refused_materials == ()
    assert [a.id for a in s.assets] == ["bin-1"]


@pytest.mark.parametrize(("material", "why"), [
    ({"code": "03 01", "description": "saw"}, "an EWC code has 6 digits"),
    ({"code": "03 01 05", "description": "saw", "hazardous": "no"}, "hazardous must be true"),
    ({"code": "03 01 05", "description": "saw", "extra": 1}, "'extra' is not a key"),
    ({"description": "saw"}, "a material needs its EWC code"),
    ("03 01 05", "a material is an object of"),
    ([1, 2], "a material is an object of"),
])
def test_a_bad_material_is_set_aside_and_the_rest_of_the_birth_stands(
    material: object, why: str
) -> None:
    s = parse_status(TOPIC, status(assets=[ZONE, {**BIN, "material": material}]))
    assert [a.id for a in s.assets] == ["zone-1", "bin-1"] and s.materials == ()
    [(asset_id, reason)] = s.refused_materials
    assert asset_id == "bin-1" and why in reason


def test_a_material_on_an_asset_other_than_a_container_is_set_aside() -> None:
    s = parse_status(TOPIC, status(assets=[{**ZONE, "material": SLAG.to_dict()}]))
    assert s.materials == () and [a.id for a in s.assets] == ["zone-1"]
    assert s.refused_materials == (
        ("zone-1", "only a container holds a material: 'zone-1' is a warehouse_zone"),)
