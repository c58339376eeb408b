"""Start real Mosquitto and InfluxDB 1.x servers on free loopback ports for tests.

Both are Debian packages (`mosquitto`, `influxdb`); `.ci/run` installs them. Each server runs
in its own temporary directory and is stopped (and can be restarted) by the test.
"""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
INFLUXD = shutil.which("influxd") or "/usr/bin/influxd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


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
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=1) as r:
                    if r.status == 204:
                        return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("influxd /ping never answered 204")


class MosquittoServer(Server):
    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"


def mosquitto_config(port: int, workdir: Path, extra: str = "") -> Path:
    """Write a broker configuration like deploy/mosquitto/idleshare.conf, on a test port."""
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\n"
        # Run as root, mosquitto would switch to user 'mosquitto' and fail to save its
        # persistence file in the test's folder: queued messages would not survive a restart.
        f"user {getpass.getuser()}\n"
        "allow_anonymous true\n"
        "persistence true\n"
        f"persistence_location {workdir}/\n"
        "autosave_interval 1\n"
        # The default (1000) silently drops QoS 1 messages for a slow subscriber.
        "max_queued_messages 1000000\n"
        "max_inflight_messages 100\n"
        "max_packet_size 1048576\n"
        f"{extra}"
    )
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
    conf.write_text(
        "reporting-disabled = true\n"
        f'bind-address = "127.0.0.1:{rpc_port}"\n'
        f'[meta]\n  dir = "{workdir}/meta"\n'
        f'[data]\n  dir = "{workdir}/data"\n  wal-dir = "{workdir}/wal"\n'
        '  query-log-enabled = false\n  index-version = "inmem"\n'
        "[monitor]\n  store-enabled = false\n"
        f'[http]\n  bind-address = "127.0.0.1:{http_port}"\n  log-enabled = false\n'
        "[continuous_queries]\n  enabled = false\n"
    )
    server = InfluxServer("influxd", [INFLUXD, "-config", str(conf)], http_port, workdir)
    server.start()
    return server
