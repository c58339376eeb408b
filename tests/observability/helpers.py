"""Shared by the observability tests: the ``idleshare`` command as a subprocess, scrapes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]


class Command:
    """``idleshare <args> --data-dir <data_dir>`` running, with only the given ``IDLESHARE_*``
    settings and no inherited ``PROMETHEUS_MULTIPROC_DIR``. Its output goes to files (a full
    pipe would stall a server that logs every request)."""

    def __init__(self, args: list[str], data_dir: Path, **env: str) -> None:
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("IDLESHARE_", "PROMETHEUS_MULTIPROC"))}
        data_dir.mkdir(parents=True, exist_ok=True)
        self.out, self.err = data_dir / "stdout.txt", data_dir / "stderr.txt"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "shell.cli", *args, "--data-dir", str(data_dir)],
                env={**base, **env}, cwd=REPO, stdin=subprocess.DEVNULL, stdout=out,
                stderr=err, text=True)

    def output(self) -> tuple[str, str]:
        return self.out.read_text(), self.err.read_text()

    def stop(self, timeout_s: float = 60.0) -> tuple[str, str]:
        """SIGTERM (killed if it does not stop in time); its stdout and stderr."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.output()


def wait_until(condition: Callable[[], Any], what: str, timeout_s: float = 90.0) -> Any:
    """Poll ``condition`` until it is truthy (the machine is shared: generous time)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = condition()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Every sample of a Prometheus text exposition: (name, labels, value)."""
    return [(s.name, s.labels, s.value)
            for family in text_string_to_metric_families(text) for s in family.samples]


def scrape(port: int) -> list[tuple[str, dict[str, str], float]]:
    answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    answer.raise_for_status()
    return samples(answer.text)


def value(found: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    """The sum of the samples named ``name`` whose labels include ``labels``."""
    return sum(v for n, lbl, v in found if n == name and labels.items() <= lbl.items())


def listen_addresses(port: int) -> list[str]:
    """The IPv4 addresses listening on ``port`` (/proc/net/tcp, state 0A)."""
    import socket
    import struct

    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if int(hex_port, 16) == port and state == "0A":
            found.append(socket.inet_ntoa(struct.pack("<I", int(address, 16))))
    return found
