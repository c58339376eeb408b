"""Helpers of the failure drills: a steady publishing load and exact counts in InfluxDB."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from idleshare import wire
from idleshare.assets import Asset

ASSETS = ("zone-1", "zone-2", "zone-3", "zone-4")


def zones(tenant: str) -> list[Asset]:
    return [Asset(id=a, tenant=tenant, kind="warehouse_zone", capacity=1000, unit="pallet")
            for a in ASSETS]


class Load:
    """Publishes ``count`` packs of ``per_pack`` readings, round robin over :data:`ASSETS`, at
    ``rate`` messages/s from a thread, as an edge agent does: QoS 1 in a persistent session,
    so paho sends again whatever the broker had not acknowledged when a connection drops.

    ``expected[asset]`` maps each reading's time to its value: what storage must hold, exactly.
    """

    def __init__(self, port: int, tenant: str, count: int, rate: float, per_pack: int = 1,
                 agent: str = "agent-1", first_seq: int = 1) -> None:
        self.tenant, self.count, self.rate, self.per_pack = tenant, count, rate, per_pack
        self.agent, self.first_seq = agent, first_seq
        self.t0 = time.time() - 3600  # readings an hour old: well inside max_age
        self.expected: dict[str, dict[int, float]] = {a: {} for a in ASSETS}
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"load-{uuid.uuid4().hex[:8]}", clean_session=False)
        self.client.max_inflight_messages_set(200)
        self.client.reconnect_delay_set(0.2, 1)
        # PUBACKs seen: a message published while disconnected has an error code on its info
        # yet is queued and sent on reconnection, so its acknowledgement is what counts.
        self.acked: set[int] = set()
        self.client.on_publish = lambda _c, _u, mid, _rc, _p: self.acked.add(mid)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.infos: list[mqtt.MQTTMessageInfo] = []
        self.sent = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def birth(self) -> None:
        info = self.client.publish(
            wire.status_topic(self.tenant, self.agent),
            wire.encode_status(self.agent, "online", time.time(), "drill",
                               [a.to_dict() for a in zones(self.tenant)]), qos=1, retain=True)
        info.wait_for_publish(10)

    def message(self, i: int) -> tuple[str, bytes]:
        asset = ASSETS[i % len(ASSETS)]
        ms = []
        for k in range(self.per_pack):
            t_us = round((self.t0 + i * 0.01 + k * 0.0001) * 1_000_000)  # distinct times
            value = float((i * 7 + k) % 1000)
            self.expected[asset][t_us] = value
            ms.append(wire.Measurement("occupied", value, t_us / 1_000_000))
        payload = wire.encode_pack(self.tenant, asset, self.agent, self.first_seq + i, ms)
        return wire.readings_topic(self.tenant, asset), payload

    def start(self) -> Load:
        self._thread.start()
        return self

    def _run(self) -> None:
        started = time.monotonic()
        for i in range(self.count):
            delay = started + i / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            topic, payload = self.message(i)
            self.infos.append(self.client.publish(topic, payload, qos=1))
            self.sent += 1

    def wait(self, timeout_s: float = 120.0) -> None:
        """Until every message was published and acknowledged by the broker."""
        if self._thread.ident is not None:
            self._thread.join(timeout_s)
        deadline = time.monotonic() + timeout_s
        while len(self.acked) < len(self.infos):
            if time.monotonic() > deadline:
                waiting = len(self.infos) - len(self.acked)
                raise AssertionError(f"{waiting} messages never reached the broker")
            time.sleep(0.05)

    @property
    def readings(self) -> int:
        return sum(len(v) for v in self.expected.values())

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def influxql(url: str, db: str, q: str) -> dict:
    data = urllib.parse.urlencode({"db": db, "q": q, "epoch": "u"}).encode()
    with urllib.request.urlopen(f"{url}/query", data=data, timeout=30) as resp:
        return json.loads(resp.read())


def counts(url: str, db: str, tenant: str) -> dict[str, int]:
    """Points stored per asset of the tenant (0 when InfluxDB does not answer)."""
    try:
        answer = influxql(url, db, "SELECT COUNT(value) FROM readings WHERE tenant = "
                                   f"'{tenant}' GROUP BY asset")
    except OSError:
        return {}
    return {s["tags"]["asset"]: s["values"][0][1]
            for s in answer["results"][0].get("series", [])}


def stored(url: str, db: str, tenant: str, asset: str) -> dict[int, float]:
    """Every point of one series: time in microseconds -> value."""
    answer = influxql(url, db, f"SELECT value FROM readings WHERE tenant = '{tenant}' AND "
                               f"asset = '{asset}'")
    [result] = answer["results"]
    rows = [row for s in result.get("series", []) for row in s["values"]]
    return {t: v for t, v in rows}


def assert_exactly_once(url: str, db: str, load: Load) -> None:
    """Every published reading is in InfluxDB once, with its value, and nothing else is."""
    got = counts(url, db, load.tenant)
    want = {a: len(v) for a, v in load.expected.items() if v}
    assert got == want, f"points per series: stored {got}, published {want}"
    for asset, points in load.expected.items():
        assert stored(url, db, load.tenant, asset) == points, asset
