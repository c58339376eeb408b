"""Start real Mosquitto and InfluxDB 1.x servers on free loopback ports for tests.

Both are Debian packages (`mosquitto`, `influxdb`); `.ci/run` installs them. Each server runs
in its own temporary directory and is stopped (and can be restarted) by the test.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.serverprocess import (
    InfluxServer,
    MosquittoServer,
    Server,
    start_influxdb,
    start_mosquitto_with,
)
from shell.localservers import INFLUXD, MOSQUITTO, free_port, mosquitto_conf, wait_for_port

__all__ = ["INFLUXD", "MOSQUITTO", "InfluxServer", "MosquittoServer", "Server", "free_port",
           "start_influxdb", "start_mosquitto", "wait_for_port"]


def start_mosquitto(workdir: Path, extra: str = "") -> MosquittoServer:
    """A broker like deploy/mosquitto/idleshare.conf, persistent under ``workdir``."""
    return start_mosquitto_with(
        workdir, lambda port: mosquitto_conf(port, workdir, max_queued=1_000_000, extra=extra))


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


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The ASGI ``app`` served by a real uvicorn on a free loopback port, in a thread: its
    base URL, until the block ends."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
