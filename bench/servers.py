"""Throw-away Mosquitto and InfluxDB 1.x for the ingest benchmark, on free loopback ports.

Built from shell.localservers, like tests/servers.py (the benchmark must not import
tests): the broker queues deliberately (max_queued_messages) so a preloaded session loses
nothing.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from shell.localservers import (
    INFLUXD,
    MOSQUITTO,
    free_port,
    influxdb_conf,
    mosquitto_conf,
    wait_for_influxdb,
    wait_for_port,
)


@dataclass
class BenchServers:
    workdir: Path
    mqtt_port: int
    influx_port: int
    procs: list[subprocess.Popen[bytes]]

    @property
    def mqtt_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.mqtt_port}"

    @property
    def influx_url(self) -> str:
        return f"http://127.0.0.1:{self.influx_port}"

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def start(workdir: Path) -> BenchServers:
    workdir.mkdir(parents=True, exist_ok=True)
    mqtt_port, influx_port, rpc_port = free_port(), free_port(), free_port()
    (workdir / "mosquitto.conf").write_text(
        mosquitto_conf(mqtt_port, max_queued=2_000_000, max_inflight=1000))
    (workdir / "influxdb.conf").write_text(influxdb_conf(influx_port, rpc_port, workdir))
    log = open(workdir / "servers.log", "ab")  # noqa: SIM115 - owned by the processes
    procs = [subprocess.Popen([MOSQUITTO, "-c", str(workdir / "mosquitto.conf")],
                              stdout=log, stderr=subprocess.STDOUT),
             subprocess.Popen([INFLUXD, "-config", str(workdir / "influxdb.conf")],
                              stdout=log, stderr=subprocess.STDOUT)]
    servers = BenchServers(workdir, mqtt_port, influx_port, procs)
    try:
        wait_for_port(mqtt_port)
        wait_for_influxdb(servers.influx_url)
    except TimeoutError:
        servers.stop()
        raise
    return servers
