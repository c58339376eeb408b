"""Parsing agent status messages."""

from __future__ import annotations

import json

import pytest

from idleshare import wire
from idleshare.errors import WireError
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
