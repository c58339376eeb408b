"""Start real Mosquitto and InfluxDB 1.x servers on free loopback ports for tests.

Both are Debian packages (`mosquitto`, `influxdb`); `.ci/run` installs them. Each server runs
in its own temporary directory and is stopped (and can be restarted) by the test.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from dataclasses import dataclass, field
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

__all__ = ["INFLUXD", "MOSQUITTO", "InfluxServer", "MosquittoServer", "Server", "free_port",
           "mosquitto_config", "start_influxdb", "start_mosquitto", "wait_for_port"]


@dataclass
class Server:
    """A server process the test owns: ``stop()``/``start()`` simulate outages."""

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


def mosquitto_config(port: int, workdir: Path, extra: str = "") -> Path:
    """Write a broker configuration like deploy/mosquitto/idleshare.conf, on a test port."""
    conf = workdir / "mosquitto.conf"
    conf.write_text(mosquitto_conf(port, workdir, max_queued=1_000_000, extra=extra))
    return conf


def start_mosquitto(workdir: Path, extra: str = "") -> MosquittoServer:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = mosquitto_config(port, workdir, extra)
    server = MosquittoServer("mosquitto", [MOSQUITTO, "-c", str(conf)], port, workdir)
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


class RedisServer(Server):
    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"


def start_redis(workdir: Path) -> RedisServer:
    """Debian's redis-server on a free loopback port, in memory only (no snapshots)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port),
            "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)]
    server = RedisServer("redis", argv, port, workdir)
    server.start()
    return server
