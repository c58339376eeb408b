"""`idleshare demo` as a user runs it: starts, prints a key, serves offers, stops cleanly."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.servers import free_port


def get(url: str, key: str = "") -> tuple[int, dict]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, json.loads(r.read())


def test_demo_starts_serves_offers_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "shell.cli", "demo", "--port", str(port),
         "--assets", "15", "--speed", "600"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or []],
                     daemon=True).start()
    output: list[str] = []
    try:
        key = ""
        deadline = time.monotonic() + 60
        while not key and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert proc.poll() is None, "".join(output)
                continue
            output.append(line)
            if line.startswith("API key: "):
                key = line.split()[-1]
        assert key, "no API key printed:\n" + "".join(output)

        base = f"http://127.0.0.1:{port}"
        assert get(f"{base}/healthz")[0] == 200
        offers: list[dict] = []
        deadline = time.monotonic() + 120
        while not offers and time.monotonic() < deadline:
            offers = get(f"{base}/v1/offers", key)[1]["items"]
            time.sleep(2)
        assert offers, "no offer within two minutes"
        assert all(o["quantity"] > 0 and o["start"] < o["end"] for o in offers)
        assets = get(f"{base}/v1/assets", key)[1]["items"]
        assert {o["asset"] for o in offers} <= {a["id"] for a in assets}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    while not lines.empty():
        output.append(lines.get())
    assert proc.returncode == 0, "".join(output)
    assert "idleshare demo stopped" in "".join(output)
    assert "Traceback" not in "".join(output), "".join(output)
