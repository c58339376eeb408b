"""The agent against a real Mosquitto: packs arrive decodable and in order, and survive outages."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.agent import Agent
from edge_agent.clock import SimClock
from edge_agent.config import AgentConfig, parse
from idleshare import wire
from tests.edge_agent.fakes import assets_toml
from tests.edge_agent.packs import Pack, decode_pack
from tests.servers import MosquittoServer

pytestmark = pytest.mark.servers


def config(
    url: str, tenant: str, outbox: Path, start: str, speed: float, interval: int
) -> AgentConfig:
    return parse(f"""
[agent]
id = "gw-{tenant}"
tenant = "{tenant}"
[mqtt]
url = "{url}"
reconnect_min_s = 1
reconnect_max_s = 1
receipts = false  # a broker and no ingest: PUBACK deletes (receipts: tests/ingest)
[buffer]
path = "{outbox}"
max_pack = 20
[clock]
start = "{start}"
speed = {speed}
""" + assets_toml(interval))


@dataclass
class Subscriber:
    """A paho subscriber that keeps every message it gets (persistent session, QoS 1)."""

    port: int
    topic: str
    client_id: str
    messages: list[paho.MQTTMessage] = field(default_factory=list)
    subscribed: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                  clean_session=False)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, msg: self.messages.append(msg)
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.reconnect_delay_set(1, 1)
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        assert self.subscribed.wait(5)

    def _on_connect(self, client: paho.Client, *args: object) -> None:
        client.subscribe(self.topic, qos=1)

    def packs(self) -> list[Pack]:
        return [decode_pack(m.payload) for m in self.messages
                if m.topic.endswith("/readings")]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def wait_until(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def caught_up(agent: Agent) -> bool:
    assert isinstance(agent.clock, SimClock)
    return agent.clock.caught_up() and agent.stats.queued == 0 and agent.stats.sampled > 0


def assert_complete_series(packs: list[Pack], interval: float) -> int:
    """Every asset's readings form an unbroken grid; returns how many measurements."""
    unique = {(p.asset, m.name, m.time): m.value for p in packs for m in p.measurements}
    for asset, names in (("zone-a", {"occupied"}), ("truck-1", {"in_use", "load", "lat", "lon"})):
        for name in names:
            times = sorted(t for a, n, t in unique if (a, n) == (asset, name))
            assert times, (asset, name)
            assert times == [times[0] + i * interval for i in range(len(times))], (asset, name)
            assert times[-1] <= time.time()  # nothing from the future
    return len(unique)


def test_packs_arrive_decodable_in_order_with_a_retained_birth(
    mosquitto: MosquittoServer, tmp_path: Path, subscribe: Callable[[int, str, str], Subscriber]
) -> None:
    sub = subscribe(mosquitto.port, "idleshare/v1/it-order/#", "it-order-sub")
    agent = Agent(config(mosquitto.url, "it-order", tmp_path / "o.db", "-2h", 3600.0, 300))
    agent.start()
    try:
        wait_until(lambda: caught_up(agent), 15, "the agent to catch up and publish everything")
        late = subscribe(mosquitto.port, wire.status_topic("it-order", "gw-it-order"), "it-late")
        wait_until(lambda: bool(late.messages), 5, "the retained birth")
    finally:
        agent.stop()
    wait_until(lambda: len(sub.packs()) >= agent.stats.messages, 10, "every pack to arrive")

    birth = late.messages[0]
    assert birth.retain
    status = json.loads(birth.payload)
    assert status["state"] == "online"
    assert [a["id"] for a in status["assets"]] == ["zone-a", "truck-1"]
    packs = sub.packs()
    seqs = [p.seq for p in packs]
    assert seqs == sorted(set(seqs))  # strictly increasing
    assert {p.agent for p in packs} == {"gw-it-order"}
    assert assert_complete_series(packs, 300) == agent.stats.sampled
    assert len(packs) == agent.stats.messages


def test_every_reading_arrives_across_a_broker_outage(
    own_mosquitto: MosquittoServer, tmp_path: Path,
    subscribe: Callable[[int, str, str], Subscriber],
) -> None:
    sub = subscribe(own_mosquitto.port, "idleshare/v1/it-outage/+/readings", "it-outage-sub")
    agent = Agent(config(own_mosquitto.url, "it-outage", tmp_path / "o.db", "-1h", 600.0, 30))
    agent.start()
    try:
        wait_until(lambda: agent.stats.published > 0, 10, "a first acknowledgement")
        own_mosquitto.stop()
        wait_until(lambda: not agent.stats.connected, 5, "the agent to notice the outage")
        queued_before = agent.stats.queued
        time.sleep(3)  # 30 clock minutes: about 60 samples of each asset pile up
        assert agent.stats.queued > queued_before + 100
        own_mosquitto.start()
        wait_until(lambda: caught_up(agent), 30, "the backlog to drain")
    finally:
        agent.stop()
    sampled = agent.stats.sampled
    wait_until(lambda: len({(p.asset, m.name, m.time) for p in sub.packs()
                            for m in p.measurements}) >= sampled, 15, "every reading")

    packs = sub.packs()
    assert assert_complete_series(packs, 30) == sampled
    # A message whose acknowledgement was lost may come twice, with the same seq and content.
    first_seen = list(dict.fromkeys(p.seq for p in packs))
    assert first_seen == sorted(first_seen)
    assert max(len(p.measurements) for p in packs) == 20  # the backlog left in full packs
