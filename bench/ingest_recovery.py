"""Ingest back at full speed the moment InfluxDB returns: InfluxDB stopped, a backlog of
single-reading messages published while it is down, InfluxDB started again. Reported: how long
after InfluxDB answers again the first reading is stored (ingest probes the store while writes
fail, instead of sleeping through its backoff), and the rate the backlog then drains at.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from bench import servers as benchservers
from ingest.service import Ingest
from storage.catalog import Catalog
from storage.readings import ReadingStore


@dataclass
class Recovery:
    messages: int
    outage_s: float
    drain_started_s: float  # InfluxDB answering again -> the first reading stored after it
    readings_per_s: float  # the backlog left at the restart, from then to the last stored
    lost: int


def _until(done: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        time.sleep(0.005)


def recovery(servers: benchservers.BenchServers, store: ReadingStore, catalog: Catalog,
             n: int, t0: float, outage_s: float = 20.0) -> Recovery:
    """Stop InfluxDB for ``outage_s`` while ``n`` messages are published, then start it again."""
    from bench import ingest as bench

    influx = servers.processes[1]
    ingest = Ingest(store, catalog, servers.mqtt_url, client_id="bench-ingest",
                    protocol=mqtt.MQTTv5).start()
    try:
        ingest.wait_ready(10)
        before = ingest.stats.stored
        influx.stop()
        down_at = time.monotonic()
        backlog = bench._births(True) + bench._messages(n, 1, t0, seq0=5 * 10**7)
        publisher = threading.Thread(target=bench._publish, args=(servers.mqtt_port, backlog))
        publisher.start()
        time.sleep(max(0.0, down_at + outage_s - time.monotonic()))
        influx.start()  # returns once InfluxDB answers
        back_at, at_restart = time.monotonic(), ingest.stats.stored
        _until(lambda: ingest.stats.stored > at_restart, 60)
        started = time.monotonic() - back_at
        publisher.join()
        _until(lambda: ingest.stats.stored - before >= n, 600)
        drained = time.monotonic() - back_at
        stored = ingest.stats.stored - before
    finally:
        ingest.stop()
    return Recovery(n, outage_s, started, (n - (at_restart - before)) / drained, n - stored)
