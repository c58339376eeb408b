"""Throw-away Mosquitto and InfluxDB 1.x for the ingest benchmark, on free loopback ports.

The broker queues deliberately (max_queued_messages) so a preloaded session loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.serverprocess import Server, start_influxdb, start_mosquitto_with
from shell.localservers import mosquitto_conf


@dataclass
class BenchServers:
    mqtt_port: int
    mqtt_url: str
    influx_url: str
    processes: tuple[Server, ...]

    def stop(self) -> None:
        for server in self.processes:
            server.stop()


def start(workdir: Path) -> BenchServers:
    mosquitto = start_mosquitto_with(
        workdir, lambda port: mosquitto_conf(port, max_queued=2_000_000, max_inflight=1000))
    try:
        influxdb = start_influxdb(workdir)
    except BaseException:
        mosquitto.stop()
        raise
    return BenchServers(mosquitto.port, mosquitto.url, influxdb.url, (mosquitto, influxdb))
