"""Mosquitto and InfluxDB 1.x as processes of their own on free loopback ports, owned by a
benchmark run or a test: started and waited for, stopped (and started again: an outage).

Here in bench because the benchmark must not import tests; ``tests.servers`` builds its
fixtures on it. The configurations come from :mod:`shell.localservers`.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shell.localservers import (
    INFLUXD,
    MOSQUITTO,
    free_port,
    influxdb_conf,
    wait_for_influxdb,
    wait_for_port,
)


@dataclass
class Server:
    """A server process its owner starts and stops; ``stop()``/``start()`` simulate outages."""

    name: str
    argv: list[str]
    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        log = open(self.workdir / f"{self.name}.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(
            self.argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
        )
        try:
            self._wait_ready()
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"{self.name} did not start:\n{self.log()}") from None

    def _wait_ready(self) -> None:
        wait_for_port(self.port)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self) -> str:
        path = self.workdir / f"{self.name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


class InfluxServer(Server):
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self) -> None:
        wait_for_influxdb(self.url)


class MosquittoServer(Server):
    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"


def start_mosquitto_with(workdir: Path, conf: Callable[[int], str]) -> MosquittoServer:
    """Mosquitto on a free port with the configuration ``conf(port)`` (see
    :func:`shell.localservers.mosquitto_conf`), written to ``workdir/mosquitto.conf``."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    path = workdir / "mosquitto.conf"
    path.write_text(conf(port))
    server = MosquittoServer("mosquitto", [MOSQUITTO, "-c", str(path)], port, workdir)
    server.start()
    return server


def start_influxdb(workdir: Path) -> InfluxServer:
    """InfluxDB 1.x (Debian's influxd) with data, WAL and meta under ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    http_port, rpc_port = free_port(), free_port()
    conf = workdir / "influxdb.conf"
    conf.write_text(influxdb_conf(http_port, rpc_port, workdir))
    server = InfluxServer("influxd", [INFLUXD, "-config", str(conf)], http_port, workdir)
    server.start()
    return server
