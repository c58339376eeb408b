"""Throw-away Mosquitto and InfluxDB 1.x for the ingest benchmark, on free loopback ports.

A few lines in the spirit of tests/servers.py (the benchmark must not import tests): the
broker queues deliberately (max_queued_messages) so a preloaded session loses nothing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
INFLUXD = shutil.which("influxd") or "/usr/bin/influxd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(ready: object, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if ready():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {timeout_s:g} s")


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
        f"listener {mqtt_port} 127.0.0.1\nallow_anonymous true\n"
        "max_queued_messages 2000000\nmax_inflight_messages 1000\nmax_packet_size 1048576\n")
    (workdir / "influxdb.conf").write_text(
        f'reporting-disabled = true\nbind-address = "127.0.0.1:{rpc_port}"\n'
        f'[meta]\n  dir = "{workdir}/meta"\n'
        f'[data]\n  dir = "{workdir}/data"\n  wal-dir = "{workdir}/wal"\n'
        '  query-log-enabled = false\n  index-version = "inmem"\n'
        "[monitor]\n  store-enabled = false\n"
        f'[http]\n  bind-address = "127.0.0.1:{influx_port}"\n  log-enabled = false\n'
        "[continuous_queries]\n  enabled = false\n")
    log = open(workdir / "servers.log", "ab")  # noqa: SIM115 - owned by the processes
    procs = [subprocess.Popen([MOSQUITTO, "-c", str(workdir / "mosquitto.conf")],
                              stdout=log, stderr=subprocess.STDOUT),
             subprocess.Popen([INFLUXD, "-config", str(workdir / "influxdb.conf")],
                              stdout=log, stderr=subprocess.STDOUT)]
    servers = BenchServers(workdir, mqtt_port, influx_port, procs)
    try:
        _wait(lambda: socket.create_connection(("127.0.0.1", mqtt_port), 0.5).close() is None,
              "mosquitto")
        _wait(lambda: urllib.request.urlopen(f"{servers.influx_url}/ping", timeout=1).status
              == 204, "influxd")
    except RuntimeError:
        servers.stop()
        raise
    return servers
