"""Ingest's memory with a deep backlog at the broker: ``n`` single-reading messages queued for
its persistent session, drained by ingest in a process of its own, whose peak RSS is reported.

The broker may hold millions (``max_queued_messages``); ingest takes at most its MQTT 5 Receive
Maximum unacknowledged at a time, so its memory must not grow with the backlog.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from bench import servers as benchservers

CHUNK = 100_000  # messages generated and published at a time (the bench's own memory)


@dataclass
class Queued:
    messages: int
    seconds: float  # ingest's drain, from its start to the last stored reading
    peak_rss_mb: float  # ingest's process (VmHWM)
    stored: int  # readings ingest reported stored


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _drain_child(mqtt_url: str, influx_url: str, catalog_url: str, n: int, result: Any) -> None:
    from ingest.service import Ingest
    from storage.catalog import Catalog
    from storage.influx import InfluxV1Store

    catalog = Catalog(catalog_url)
    ingest = Ingest(InfluxV1Store(influx_url, "queued"), catalog, mqtt_url,
                    client_id="bench-queued", protocol=mqtt.MQTTv5)
    started = time.perf_counter()
    ingest.start()
    while ingest.stats.stored < n and time.perf_counter() - started < 1800:
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    ingest.stop()
    catalog.close()
    result.put((seconds, _peak_rss_mb(), ingest.stats.stored))


def _end_session(client: mqtt.Client) -> None:
    client.loop_start()
    deadline = time.monotonic() + 10
    while not client.is_connected() and time.monotonic() < deadline:
        time.sleep(0.01)
    client.disconnect()
    client.loop_stop()


def queued_drain(servers: benchservers.BenchServers, catalog_url: str, n: int,
                 t0: float) -> Queued:
    """Queue ``n`` messages for a fresh session, then drain them with ingest in a child."""
    from bench import ingest as bench
    from idleshare import wire

    for client_id in ("bench-raw", "bench-ingest"):  # end their sessions: no copies for them
        _end_session(bench._client(client_id, servers.mqtt_port, clean=True))
    bench._session("bench-queued", servers.mqtt_port, [wire.STATUS_FILTER, wire.READINGS_FILTER])
    for start in range(0, n, CHUNK):
        count = min(CHUNK, n - start)
        births = bench._births(True) if start == 0 else []
        bench._publish(servers.mqtt_port, births + bench._messages(
            count, 1, t0 + start * 0.001, seq0=3 * 10**7 + start))
    ctx = multiprocessing.get_context("spawn")
    result = ctx.Queue()
    proc = ctx.Process(target=_drain_child, args=(servers.mqtt_url, servers.influx_url,
                                                  catalog_url, n, result))
    proc.start()
    seconds, rss, stored = result.get(timeout=1900)
    proc.join(60)
    return Queued(n, seconds, rss, stored)
