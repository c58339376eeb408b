"""``python -m bench ingest``: how fast ingest is, next to the limits measured in the same run.

(a) the raw ceiling: a paho subscriber with an empty callback draining the same broker;
(b) InfluxDB's raw line-protocol write rate (5,000-line POSTs, one writer, as ingest);
(c) idleshare end to end, draining a preloaded queue into InfluxDB: messages/s and readings/s
    with 1 reading per message and with 50-reading packs, loss checked by count in InfluxDB;
    each with storage receipts off (the agents' births do not announce them: PUBACK only) and
    on (one receipt per agent per write batch), (a) measured again before each;
(d) freshness: publish to queryable (InfluxDB answers a point once its write returned), p50
    and p99, with a publisher in another process at half the rate measured in (c) (at most
    4,000 msg/s, what one Python publisher keeps up here), receipts on;
(e) memory: 1,000,000 messages (x scale) queued at the broker, drained by ingest in a process
    of its own: its peak RSS;
(f) recovery: InfluxDB stopped for 20 s (x scale) while as many messages as in (c) are
    published, then started again: how soon after it answers the drain starts, and its rate.
CPU per reading is this process's CPU time (ingest's threads; the servers run apart) during a
drain, divided by the readings stored; (a) and (a') give the same per message: paho's client and
ingest's batch reader (``ingest.mqtt.BatchReadClient``), each with an empty callback. (c) also
runs on paho's own reader, for the share the reader makes.
Throughput is measured on a queue preloaded into a persistent session, so the publisher's own
speed (Python, same 2 cores) does not cap what is measured.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench import servers as benchservers
from bench.ingest_queued import queued_drain
from bench.ingest_recovery import recovery
from idleshare import wire
from idleshare.assets import Asset
from ingest.mqtt import BatchReadClient, plain_paho_client
from ingest.service import Ingest
from storage import lineproto
from storage.catalog import Catalog
from storage.influx import InfluxV1Store
from storage.readings import Reading

TENANT = "bench"
ASSETS = 100
AGENTS = 10
FRESHNESS_MAX_RATE = 4000.0  # msg/s of (d)
TARGETS = {"ratio_single": 0.60, "pack_readings_per_s": 100_000.0, "p99_s": 2.0,
           "receipts_keep": 0.90}


def _client(client_id: str, port: int, clean: bool = True, receive_maximum: int = 10_000,
            client_class: type[mqtt.Client] = mqtt.Client) -> mqtt.Client:
    client = client_class(CallbackAPIVersion.VERSION2, client_id=client_id,
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


def _cpu_s() -> float:
    """CPU seconds of this process so far (user + system, every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raw_ceiling(port: int, n: int, client_class: type[mqtt.Client] = mqtt.Client
                ) -> tuple[float, float]:
    """Messages/s a subscriber with an empty callback drains from a preloaded queue, and its
    CPU µs per message: paho's client, or ingest's reader (``BatchReadClient``)."""
    got = [0]
    done = threading.Event()

    def on_message(_c: Any, _u: Any, _m: Any) -> None:
        got[0] += 1
        if got[0] == n:
            done.set()

    client = _client("bench-raw", port, clean=False, client_class=client_class)
    client.on_message = on_message
    started, cpu = time.perf_counter(), _cpu_s()
    client.loop_start()
    done.wait(600)
    elapsed, cpu = time.perf_counter() - started, _cpu_s() - cpu
    client.disconnect()
    client.loop_stop()
    return got[0] / elapsed, cpu * 1e6 / max(1, got[0])


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
    """Records, while ``timing``, how long after its own time each reading stamped since
    ``since`` became queryable (an older one is a redelivery of an earlier phase)."""

    timing = False
    since = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.latencies: list[float] = []

    def write(self, readings: Sequence[Reading]) -> None:
        super().write(readings)
        if self.timing:
            now = time.time()
            self.latencies.extend(now - r.time for r in readings if r.time >= self.since)


def _stored(store: InfluxV1Store) -> int:
    return store.count(TENANT)


@dataclass
class Drain:
    msgs_per_s: float
    readings_per_s: float
    stored: int  # points InfluxDB holds afterwards, more than before
    receipted: int  # messages receipts covered
    cpu_us_per_reading: float  # CPU of this process (ingest's threads) per stored reading


def drain(servers: benchservers.BenchServers, store: TimedStore, catalog: Catalog,
          messages: int, readings: int, **ingest_options: Any) -> Drain:
    """Start ingest on a preloaded session and time it until all is written."""
    before = _stored(store)
    ingest = Ingest(store, catalog, servers.mqtt_url, client_id="bench-ingest",
                    protocol=mqtt.MQTTv5, **ingest_options)
    started, cpu = time.perf_counter(), _cpu_s()
    ingest.start()
    while ingest.stats.stored < readings and time.perf_counter() - started < 900:
        time.sleep(0.005)
    elapsed, cpu = time.perf_counter() - started, _cpu_s() - cpu
    ingest.stop()
    return Drain(messages / elapsed, readings / elapsed, _stored(store) - before,
                 ingest.stats.receipted, cpu * 1e6 / readings)


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
    store.since, store.timing = time.time(), True
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


def run(scale: float = 1.0, out: Callable[[str], None] = print,
        queued: int | None = None) -> dict[str, float]:
    """Run every measurement; ``scale`` shrinks the message counts (1.0 = full run: 100,000
    messages per phase, 1,000,000 queued for (e) unless ``queued`` says otherwise)."""
    out(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    n_queued = queued if queued is not None else max(1000, int(1_000_000 * scale))
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
                raw, raw_cpu = raw_ceiling(servers.mqtt_port, n_single)
                figures[f"a_raw_msgs_per_s_{tag}"] = raw
                figures[f"a_raw_cpu_us_{tag}"] = raw_cpu
                out(f"(a) raw paho subscriber, empty callback: {raw:,.0f} msg/s, "
                    f"{raw_cpu:.1f} µs CPU/message")
                one = drain(servers, store, catalog, n_single, n_single)
                figures.update({f"c1_msgs_per_s_{tag}": one.msgs_per_s,
                                f"c1_lost_{tag}": n_single - one.stored,
                                f"c1_ratio_{tag}": one.msgs_per_s / raw,
                                f"c1_receipted_{tag}": one.receipted,
                                f"c1_cpu_us_{tag}": one.cpu_us_per_reading})
                out(f"(c) idleshare, 1 reading/message, receipts {tag}: {one.msgs_per_s:,.0f} "
                    f"msg/s = {one.msgs_per_s / raw:.0%} of (a), {one.cpu_us_per_reading:.1f} µs "
                    f"CPU/reading = {one.cpu_us_per_reading / raw_cpu:.0%} of (a)'s per message, "
                    f"lost {n_single - one.stored}, receipted {one.receipted}")
                packs = _messages(n_packs, 50, t0 + 3600 + k * 900, seq0=k * 10**7 + 10**6)
                out(f"receipts {tag}: preloading {n_packs} packs of 50 readings ...")
                _publish(servers.mqtt_port, _births(receipts) + packs)
                raw_ceiling(servers.mqtt_port, n_packs)  # the raw session's copy, drained
                pack = drain(servers, store, catalog, n_packs, n_packs * 50)
                figures.update({f"c50_msgs_per_s_{tag}": pack.msgs_per_s,
                                f"c50_readings_per_s_{tag}": pack.readings_per_s,
                                f"c50_lost_{tag}": n_packs * 50 - pack.stored,
                                f"c50_receipted_{tag}": pack.receipted,
                                f"c50_cpu_us_{tag}": pack.cpu_us_per_reading})
                out(f"(c) idleshare, 50 readings/message, receipts {tag}: "
                    f"{pack.msgs_per_s:,.0f} msg/s, {pack.readings_per_s:,.0f} readings/s, "
                    f"{pack.cpu_us_per_reading:.1f} µs CPU/reading, "
                    f"lost {n_packs * 50 - pack.stored}, receipted {pack.receipted}")
            # The same drain with paho's own reader, and ingest's reader with an empty callback.
            single = _messages(n_single, 1, t0 + 3 * 1800, seq0=2 * 10**7)  # clear of the packs
            out(f"paho's reader: preloading {n_single} single-reading messages ...")
            _publish(servers.mqtt_port, _births(True) + single)
            raw, raw_cpu = raw_ceiling(servers.mqtt_port, n_single, BatchReadClient)
            figures.update(a_batch_msgs_per_s=raw, a_batch_cpu_us=raw_cpu)
            out(f"(a') ingest's reader, empty callback: {raw:,.0f} msg/s, "
                f"{raw_cpu:.1f} µs CPU/message")
            one = drain(servers, store, catalog, n_single, n_single,
                        client_factory=plain_paho_client)
            figures.update(c1_paho_msgs_per_s=one.msgs_per_s, c1_paho_cpu_us=one.cpu_us_per_reading,
                           c1_paho_lost=n_single - one.stored)
            out(f"(c) idleshare on paho's own reader, 1 reading/message, receipts on: "
                f"{one.msgs_per_s:,.0f} msg/s, {one.cpu_us_per_reading:.1f} µs CPU/reading, "
                f"lost {n_single - one.stored}")
            figures["c1_msgs_per_s"] = figures["c1_msgs_per_s_on"]
            figures["c50_readings_per_s"] = figures["c50_readings_per_s_on"]
            figures["a_raw_msgs_per_s"] = figures["a_raw_msgs_per_s_on"]
            # Half of (c), at most what one Python publisher keeps up on this machine: past
            # that, (d) measures the publisher falling behind (publish times drift into lag).
            rate = min(figures["c1_msgs_per_s"] / 2, FRESHNESS_MAX_RATE)
            p50, p99, sent, stored = freshness(servers, store, catalog, rate, fresh_s)
            figures.update(d_rate=rate, d_p50_s=p50, d_p99_s=p99, d_lost=sent - stored)
            out(f"(d) publish to queryable at {rate:,.0f} msg/s for {fresh_s:g} s: "
                f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, lost {sent - stored}")
            back = recovery(servers, store, catalog, n_single, t0 + 7200, outage_s=fresh_s)
            figures.update(f_outage_s=back.outage_s, f_drain_started_s=back.drain_started_s,
                           f_readings_per_s=back.readings_per_s, f_lost=back.lost)
            out(f"(f) InfluxDB stopped for {back.outage_s:g} s while {back.messages:,} messages "
                f"were published: drain started {back.drain_started_s:.2f} s after it answered "
                f"again (target <= 1 s), backlog drained at {back.readings_per_s:,.0f} "
                f"readings/s = {back.readings_per_s / figures['c1_msgs_per_s_on']:.0%} of (c), "
                f"lost {back.lost}")
            deep = queued_drain(servers, f"sqlite:///{tmp}/catalog.db", n_queued, t0)
            figures.update(e_queued=n_queued, e_peak_rss_mb=deep.peak_rss_mb,
                           e_msgs_per_s=n_queued / deep.seconds, e_lost=n_queued - deep.stored)
            out(f"(e) {n_queued:,} messages queued at the broker, drained by ingest in its own "
                f"process: peak RSS {deep.peak_rss_mb:.0f} MB, {n_queued / deep.seconds:,.0f} "
                f"msg/s, stored {deep.stored:,}")
        finally:
            catalog.close()
            servers.stop()
    figures["cpu_share_of_raw"] = figures["c1_cpu_us_on"] / figures["a_raw_cpu_us_on"]
    out(f"CPU per reading, 1 reading/message, receipts on: {figures['c1_cpu_us_on']:.1f} µs; "
        f"on paho's own reader {figures['c1_paho_cpu_us']:.1f} µs; raw paho subscriber "
        f"{figures['a_raw_cpu_us_on']:.1f} µs/message, ingest's reader "
        f"{figures['a_batch_cpu_us']:.1f} µs/message")
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
    out(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    out(json.dumps({k: round(v, 4) for k, v in figures.items()}))
    return figures
