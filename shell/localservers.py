"""Throw-away Mosquitto and InfluxDB 1.x on free loopback ports: the pieces the tests, the
benchmarks and the demo share. Standard library only, so the edge agent's benchmark can use it.
"""

from __future__ import annotations

import getpass
import shutil
import socket
import time
import urllib.request
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
INFLUXD = shutil.which("influxd") or "/usr/bin/influxd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def wait_for_influxdb(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=1) as r:
                if r.status == 204:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"influxd /ping at {url} never answered 204 in {timeout}s")


def mosquitto_conf(port: int, persistence_dir: Path | None = None,
                   max_queued: int | None = None, max_inflight: int = 100,
                   extra: str = "") -> str:
    """A broker configuration like deploy/mosquitto/idleshare.conf, on ``port``."""
    lines = [
        f"listener {port} 127.0.0.1",
        # Run as root, mosquitto would switch to user 'mosquitto' and fail to save its
        # persistence file in our folder: queued messages would not survive a restart.
        f"user {getpass.getuser()}",
        "allow_anonymous true",
    ]
    if persistence_dir is not None:
        lines += ["persistence true", f"persistence_location {persistence_dir}/",
                  "autosave_interval 1"]
    if max_queued is not None:
        # The default (1000) silently drops QoS 1 messages for a slow subscriber.
        lines.append(f"max_queued_messages {max_queued}")
    lines += [f"max_inflight_messages {max_inflight}", "max_packet_size 1048576"]
    return "\n".join(lines) + "\n" + extra


def influxdb_conf(http_port: int, rpc_port: int, workdir: Path) -> str:
    """InfluxDB 1.x with data, WAL and meta under ``workdir``, quiet and without extras."""
    return (
        "reporting-disabled = true\n"
        f'bind-address = "127.0.0.1:{rpc_port}"\n'
        f'[meta]\n  dir = "{workdir}/meta"\n'
        f'[data]\n  dir = "{workdir}/data"\n  wal-dir = "{workdir}/wal"\n'
        '  query-log-enabled = false\n  index-version = "inmem"\n'
        "[monitor]\n  store-enabled = false\n"
        f'[http]\n  bind-address = "127.0.0.1:{http_port}"\n  log-enabled = false\n'
        "[continuous_queries]\n  enabled = false\n"
    )
