"""Fakes for the edge agent's unit tests: a paho-shaped client, a hand-moved clock, configs."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from edge_agent.config import AgentConfig, parse
from edge_agent.mqtt import NO_CONN, SUCCESS
from idleshare import wire


@dataclass
class FakeInfo:
    mid: int
    rc: int = SUCCESS

    def wait_for_publish(self, timeout: float | None = None) -> None:
        return None


@dataclass
class Sent:
    mid: int
    topic: str
    payload: bytes
    qos: int
    retain: bool


@dataclass
class FakeClient:
    """Records what the agent asks of paho; the test decides when to connect and acknowledge."""

    client_id: str
    on_connect: Callable[..., None] | None = None
    on_disconnect: Callable[..., None] | None = None
    on_publish: Callable[..., None] | None = None
    on_connect_fail: Callable[..., None] | None = None
    on_message: Callable[..., None] | None = None
    calls: dict[str, Any] = field(default_factory=dict)
    subscriptions: list[tuple[str, int]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    connected: bool = False
    _mid: int = 0

    def username_pw_set(self, username: str | None, password: str | None = None) -> None:
        self.calls["username_pw_set"] = (username, password)

    def tls_set(self, ca_certs: str | None = None, certfile: str | None = None,
                keyfile: str | None = None) -> None:
        self.calls["tls_set"] = (ca_certs, certfile, keyfile)

    def will_set(self, topic: str, payload: bytes | None = None, qos: int = 0,
                 retain: bool = False) -> None:
        self.calls["will_set"] = (topic, payload, qos, retain)

    def reconnect_delay_set(self, min_delay: float = 1, max_delay: float = 120) -> None:
        self.calls.setdefault("reconnect_delay_set", (min_delay, max_delay))  # configure's
        self.calls["retry_delay"] = min_delay  # the publisher's later ones

    def max_inflight_messages_set(self, inflight: int) -> None:
        self.calls["max_inflight_messages_set"] = inflight

    def connect_async(self, host: str, port: int = 1883, keepalive: int = 60) -> None:
        self.calls["connect_async"] = (host, port, keepalive)

    def loop_start(self) -> None:
        self.calls["loop_start"] = True

    def loop_stop(self) -> None:
        self.calls["loop_stop"] = True

    def disconnect(self) -> None:
        self.calls["disconnect"] = True

    def publish(self, topic: str, payload: bytes | None = None, qos: int = 0,
                retain: bool = False) -> FakeInfo:
        self._mid += 1
        self.sent.append(Sent(self._mid, topic, payload or b"", qos, retain))
        return FakeInfo(self._mid, SUCCESS if self.connected else NO_CONN)

    def subscribe(self, topic: str, qos: int = 0) -> tuple[int, int]:
        self.subscriptions.append((topic, qos))
        return SUCCESS, 0

    # -- what the broker would do -------------------------------------------------------------

    def receipt(self, stored: list[int], rejected: dict[str, list[int]] | None = None) -> None:
        """Deliver a storage receipt on the agent's receipts topic, as ingest would."""
        assert self.on_message is not None
        topic = wire.receipts_topic("acme", self.client_id)
        payload = wire.encode_receipt(stored, rejected or {})
        self.on_message(self, None, SimpleNamespace(topic=topic, payload=payload, qos=1))

    def seq(self, sent: Sent) -> int:
        return int(json.loads(sent.payload)[0]["seq"])

    def connect(self) -> None:
        self.connected = True
        assert self.on_connect is not None
        self.on_connect(self, None, {}, 0, None)

    def drop(self) -> None:
        self.connected = False
        assert self.on_disconnect is not None
        self.on_disconnect(self, None, {}, 7, None)

    def ack(self, mid: int) -> None:
        assert self.on_publish is not None
        self.on_publish(self, None, mid, 0, None)

    def readings(self) -> list[Sent]:
        return [s for s in self.sent if s.topic.endswith("/readings")]


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self, t: float) -> None:
        self.start = t
        self.t = t

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


AGENT_TOML = """
[agent]
id = "gw-test"
tenant = "acme"

[buffer]
path = "{outbox}"
max_pack = {max_pack}
"""


def assets_toml(interval_s: float = 60) -> str:
    """The two test assets (a warehouse zone, a parked truck) sampled every ``interval_s``."""
    return f"""
[[assets]]
id = "zone-a"
kind = "warehouse_zone"
capacity = 400
interval_s = {interval_s}

[[assets]]
id = "truck-1"
kind = "vehicle"
capacity = 20
lat = 52.4
lon = -1.9
interval_s = {interval_s}
"""


def agent_config(outbox: Path, max_pack: int = 50, extra: str = "") -> AgentConfig:
    return parse(AGENT_TOML.format(outbox=outbox, max_pack=max_pack) + assets_toml() + extra)
