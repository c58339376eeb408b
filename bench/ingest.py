"""``python -m bench ingest``: how fast ingest is, next to the limits measured in the same run.

(a) the raw ceiling: a paho subscriber with an empty callback draining the same broker;
(b) InfluxDB's raw line-protocol write rate (5,000-line POSTs, one writer, as ingest);
(c) idleshare end to end, draining a preloaded queue into InfluxDB: messages/s and readings/s
    with 1 reading per message and with 50-reading packs, loss checked by count in InfluxDB;
    each with storage receipts off (the agents' births do not announce them: PUBACK only) and
    on (one receipt per agent per write batch), (a) measured again before each;
(d) freshness: publish to queryable (InfluxDB answers a point once its write returned), p50
    and p99, with a publisher in another process at half the rate measured in (c), receipts on.
Throughput is measured on a queue preloaded into a persistent session, so the publisher's own
speed (Python, same 2 cores) does not cap what is measured.
"""

from __future__ import annotations

import json
import multiprocessing
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench import servers as benchservers
from idleshare import wire
from idleshare.assets import Asset
from ingest.service import Ingest
from storage import lineproto
from storage.catalog import Catalog
from storage.influx import InfluxV1Store
from storage.readings import Reading

TENANT = "bench"
ASSETS = 100
AGENTS = 10
TARGETS = {"ratio_single": 0.60, "pack_readings_per_s": 100_000.0, "p99_s": 2.0,
           "receipts_keep": 0.90}


def _client(client_id: str, port: int, clean: bool = True,
            receive_maximum: int = 10_000) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)  # publishing: PUBACKs awaited at once
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = receive_maximum
    props.SessionExpiryInterval = 0 if clean else 3600
    client.connect("127.0.0.1", port, clean_start=clean, properties=props)
    return client


def _session(client_id: str, port: int, filters: Sequence[str]) -> None:
    """Create a persistent session subscribed to ``filters``, so the broker queues for it."""
    client = _client(client_id, port, clean=False)
    done = threading.Event()
    client.on_subscribe = lambda *_: done.set()
    client.loop_start()
    client.subscribe([(f, 1) for f in filters])
    done.wait(10)
    client.disconnect()
    client.loop_stop()


def _messages(n: int, per_pack: int, t0: float, seq0: int = 0) -> list[tuple[str, bytes]]:
    out = []
    for i in range(n):
        asset = f"zone-{i % ASSETS}"
        t = t0 + i * 0.001
        ms = [wire.Measurement("occupied", float(i % 90), t + k * 1e-5) for k in range(per_pack)]
        out.append((wire.readings_topic(TENANT, asset),
                    wire.encode_pack(TENANT, asset, f"agent-{i % AGENTS}", seq0 + i, ms)))
    return out


def _births(receipts: bool) -> list[tuple[str, bytes]]:
    """Live births of the agents, announcing receipts or not; queued before their readings."""
    return [(wire.status_topic(TENANT, f"agent-{a}"),
             wire.encode_status(f"agent-{a}", wire.ONLINE, time.time(), "bench",
                                receipts=receipts)) for a in range(AGENTS)]


def _publish(port: int, messages: Sequence[tuple[str, bytes]]) -> None:
    client = _client("bench-pub", port)
    acked = [0]
    client.on_publish = lambda *_: acked.__setitem__(0, acked[0] + 1)
    client.loop_start()
    for i, (topic, payload) in enumerate(messages):
        # Our own window, below paho's in-flight limit: past it paho queues messages itself,
        # and its queue, fed from this thread while its loop thread takes PUBACKs, was seen
        # to stall for good.
        while i - acked[0] >= 500:
            time.sleep(0.0005)
        client.publish(topic, payload, qos=1)
    deadline = time.monotonic() + 600
    while acked[0] < len(messages) and time.monotonic() < deadline:
        time.sleep(0.01)
    client.disconnect()
    client.loop_stop()
    if acked[0] < len(messages):
        raise RuntimeError(f"the broker acknowledged {acked[0]} of {len(messages)} messages")


def raw_ceiling(port: int, n: int) -> float:
    """Messages/s a paho subscriber with an empty callback drains from a preloaded queue."""
    got = [0]
    done = threading.Event()

    def on_message(_c: Any, _u: Any, _m: Any) -> None:
        got[0] += 1
        if got[0] == n:
            done.set()

    client = _client("bench-raw", port, clean=False)
    client.on_message = on_message
    started = time.perf_counter()
    client.loop_start()
    done.wait(600)
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return got[0] / elapsed


def influx_raw(url: str, points: int, batch: int = 5000) -> float:
    """Points/s of plain line-protocol POSTs of ``batch`` lines to InfluxDB 1.x."""
    store = InfluxV1Store(url, "raw")
    store.count()  # creates the database
    t0 = time.time() - 3600
    bodies = [lineproto.to_lines([Reading(TENANT, f"zone-{i % ASSETS}", "occupied",
                                          t0 + (b * batch + i) * 1e-4, 1.0, "pallet")
                                  for i in range(batch)]).encode()
              for b in range(max(1, points // batch))]
    params = urllib.parse.urlencode({"db": "raw", "precision": "ns"})
    started = time.perf_counter()
    for body in bodies:
        req = urllib.request.Request(f"{url}/write?{params}", data=body, method="POST")
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert resp.status == 204
    return len(bodies) * batch / (time.perf_counter() - started)


class TimedStore(InfluxV1Store):
    """Records, while ``timing``, how long after its own time each reading became queryable."""

    timing = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.latencies: list[float] = []

    def write(self, readings: Sequence[Reading]) -> None:
        super().write(readings)
        if self.timing:
            now = time.time()
            self.latencies.extend(now - r.time for r in readings)


def _stored(store: InfluxV1Store) -> int:
    return store.count(TENANT)


def drain(servers: benchservers.BenchServers, store: TimedStore, catalog: Catalog,
          messages: int, readings: int) -> tuple[float, float, int, int]:
    """Start ingest on a preloaded session; messages/s and readings/s until all is written,
    the number of points InfluxDB then holds, and the messages receipts covered."""
    before = _stored(store)
    ingest = Ingest(store, catalog, servers.mqtt_url, client_id="bench-ingest",
                    protocol=mqtt.MQTTv5)
    started = time.perf_counter()
    ingest.start()
    while ingest.stats.stored < readings and time.perf_counter() - started < 900:
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    ingest.stop()
    return (messages / elapsed, readings / elapsed, _stored(store) - before,
            ingest.stats.receipted)


def _publish_at_rate(port: int, rate: float, seconds: float, seq0: int,
                     result: Any) -> None:
    """Child process: one reading per message, stamped with the time it is published."""
    client = _client("bench-rate", port)
    client.loop_start()
    client.publish(wire.status_topic(TENANT, "agent-rate"), wire.encode_status(
        "agent-rate", wire.ONLINE, time.time(), "bench", receipts=True), qos=1).wait_for_publish()
    started, n = time.perf_counter(), int(rate * seconds)
    for i in range(n):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        asset = f"zone-{i % ASSETS}"
        payload = wire.encode_pack(TENANT, asset, "agent-rate", seq0 + i,
                                   [wire.Measurement("occupied", 1.0, time.time())])
        client.publish(wire.readings_topic(TENANT, asset), payload, qos=1)
    time.sleep(1)
    client.disconnect()
    client.loop_stop()
    result.put(n)


def freshness(servers: benchservers.BenchServers, store: TimedStore, catalog: Catalog,
              rate: float, seconds: float) -> tuple[float, float, int, int]:
    """p50 and p99 publish-to-queryable latency (s), readings published and stored."""
    before = _stored(store)
    ingest = Ingest(store, catalog, servers.mqtt_url, client_id="bench-ingest",
                    protocol=mqtt.MQTTv5).start()
    ingest.wait_ready(10)
    store.latencies.clear()
    store.timing = True
    ctx = multiprocessing.get_context("spawn")
    result = ctx.Queue()
    proc = ctx.Process(target=_publish_at_rate, args=(servers.mqtt_port, rate, seconds,
                                                      10**9, result))
    proc.start()
    sent = result.get(timeout=seconds + 120)
    proc.join(30)
    deadline = time.monotonic() + 60
    while len(store.latencies) < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    ingest.stop()
    store.timing = False
    lat = sorted(store.latencies)
    pick = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]) if lat else (lambda q: 0.0)
    return pick(0.5), pick(0.99), sent, _stored(store) - before


def run(scale: float = 1.0, out: Callable[[str], None] = print) -> dict[str, float]:
    """Run every measurement; ``scale`` shrinks the message counts (1.0 = full run)."""
    n_single = max(200, int(100_000 * scale))
    n_packs = max(20, int(4_000 * scale))
    fresh_s = max(2.0, 20.0 * scale)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="idleshare-bench-") as tmp:
        servers = benchservers.start(Path(tmp))
        catalog = Catalog(f"sqlite:///{tmp}/catalog.db")
        try:
            for i in range(ASSETS):
                catalog.upsert_asset(Asset(id=f"zone-{i}", tenant=TENANT, kind="warehouse_zone",
                                           capacity=100, unit="pallet"))
            store = TimedStore(servers.influx_url, "idleshare")
            store.count()
            t0 = time.time() - 6 * 3600
            _session("bench-raw", servers.mqtt_port, [wire.READINGS_FILTER])
            _session("bench-ingest", servers.mqtt_port, [wire.STATUS_FILTER, wire.READINGS_FILTER])
            figures["b_influx_points_per_s"] = influx_raw(servers.influx_url, n_single * 2)
            out(f"(b) InfluxDB raw line protocol:          "
                f"{figures['b_influx_points_per_s']:,.0f} points/s")
            for k, receipts in enumerate((False, True)):
                tag = "on" if receipts else "off"
                single = _messages(n_single, 1, t0 + k * 1800, seq0=k * 10**7)
                out(f"receipts {tag}: preloading {n_single} single-reading messages ...")
                _publish(servers.mqtt_port, _births(receipts) + single)
                raw = raw_ceiling(servers.mqtt_port, n_single)
                figures[f"a_raw_msgs_per_s_{tag}"] = raw
                out(f"(a) raw paho subscriber, empty callback: {raw:,.0f} msg/s")
                msg_s, _, stored, receipted = drain(servers, store, catalog, n_single, n_single)
                figures.update({f"c1_msgs_per_s_{tag}": msg_s,
                                f"c1_lost_{tag}": n_single - stored,
                                f"c1_ratio_{tag}": msg_s / raw, f"c1_receipted_{tag}": receipted})
                out(f"(c) idleshare, 1 reading/message, receipts {tag}: {msg_s:,.0f} msg/s "
                    f"= {msg_s / raw:.0%} of (a), lost {n_single - stored}, "
                    f"receipted {receipted}")
                packs = _messages(n_packs, 50, t0 + 3600 + k * 900, seq0=k * 10**7 + 10**6)
                out(f"receipts {tag}: preloading {n_packs} packs of 50 readings ...")
                _publish(servers.mqtt_port, _births(receipts) + packs)
                raw_ceiling(servers.mqtt_port, n_packs)  # the raw session's copy, drained
                msg_s, rd_s, stored, receipted = drain(servers, store, catalog, n_packs,
                                                       n_packs * 50)
                figures.update({f"c50_msgs_per_s_{tag}": msg_s,
                                f"c50_readings_per_s_{tag}": rd_s,
                                f"c50_lost_{tag}": n_packs * 50 - stored,
                                f"c50_receipted_{tag}": receipted})
                out(f"(c) idleshare, 50 readings/message, receipts {tag}: {msg_s:,.0f} msg/s, "
                    f"{rd_s:,.0f} readings/s, lost {n_packs * 50 - stored}, "
                    f"receipted {receipted}")
            figures["c1_msgs_per_s"] = figures["c1_msgs_per_s_on"]
            figures["c50_readings_per_s"] = figures["c50_readings_per_s_on"]
            figures["a_raw_msgs_per_s"] = figures["a_raw_msgs_per_s_on"]
            rate = figures["c1_msgs_per_s"] / 2
            p50, p99, sent, stored = freshness(servers, store, catalog, rate, fresh_s)
            figures.update(d_rate=rate, d_p50_s=p50, d_p99_s=p99, d_lost=sent - stored)
            out(f"(d) publish to queryable at {rate:,.0f} msg/s for {fresh_s:g} s: "
                f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, lost {sent - stored}")
        finally:
            catalog.close()
            servers.stop()
    figures["ratio_single"] = figures["c1_msgs_per_s"] / figures["a_raw_msgs_per_s"]
    # Receipts against today's path, each against the raw ceiling of its own phase.
    figures["receipts_keep_single"] = figures["c1_ratio_on"] / figures["c1_ratio_off"]
    figures["receipts_keep_packs"] = (figures["c50_readings_per_s_on"]
                                      / figures["c50_readings_per_s_off"])
    out(f"receipts on / off: single {figures['receipts_keep_single']:.0%} (share of raw), "
        f"packs {figures['receipts_keep_packs']:.0%} (target >= "
        f"{TARGETS['receipts_keep']:.0%})")
    out(f"ratios: (c) single / (a) raw = {figures['ratio_single']:.0%} "
        f"(target >= {TARGETS['ratio_single']:.0%}); packs {figures['c50_readings_per_s']:,.0f}"
        f" readings/s (target >= {TARGETS['pack_readings_per_s']:,.0f}); (c) readings/s / (b) "
        f"= {figures['c50_readings_per_s'] / figures['b_influx_points_per_s']:.0%}; "
        f"p99 {figures['d_p99_s']:.2f} s (target <= {TARGETS['p99_s']:g} s)")
    out(json.dumps({k: round(v, 4) for k, v in figures.items()}))
    return figures
