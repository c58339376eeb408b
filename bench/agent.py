"""Benchmark of the edge agent against the issue's budgets, on a Mosquitto it starts itself.

1. Steady state: an agent process (``python -m edge_agent run``) samples ``--assets`` assets
   every second (one reading each: ``--assets`` readings/s); after a warm-up its resident memory
   (RSS, and peak) and CPU share of one core are read from ``/proc``. Budget: 40 MB, 5 %.
2. Drain: an outbox holding ``--backlog`` readings is drained by an agent process to the
   broker with storage receipts: a stand-in for ingest subscribes to the readings and publishes
   a receipt of what it got every 20 ms (ingest's idle flush), and a reading counts as drained
   only once receipted and deleted. Its readings/s and the agent's peak RSS are compared with a
   plain paho publisher sending the same packs (QoS 1, same in-flight window) to the same
   broker in the same run. Budget: 5,000 readings/s, 40 MB.

Run ``python -m bench agent`` (Linux: it reads ``/proc``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.mqtt import MAX_INFLIGHT
from edge_agent.outbox import Outbox
from idleshare import wire
from idleshare.wire import Measurement

TENANT, AGENT = "bench", "gw-bench"
RSS_BUDGET_MB, CPU_BUDGET, DRAIN_BUDGET = 40.0, 0.05, 5000.0


# -- a broker of our own (as tests/servers.py starts one) ------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_mosquitto(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nuser {getpass.getuser()}\n"
                    "allow_anonymous true\nmax_inflight_messages 100\n"
                    "max_packet_size 1048576\n")
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("mosquitto did not start")


def config_text(port: int, outbox: Path, assets: int, interval_s: int, max_pack: int) -> str:
    head = (f'[agent]\nid = "{AGENT}"\ntenant = "{TENANT}"\n'
            f'[mqtt]\nurl = "mqtt://127.0.0.1:{port}"\n'
            f'[buffer]\npath = "{outbox}"\nmax_pack = {max_pack}\n')
    return head + "".join(
        f'[[assets]]\nid = "zone-{i:02d}"\nkind = "warehouse_zone"\ncapacity = 400\n'
        f"interval_s = {interval_s}\n" for i in range(assets))


# -- 1. steady state ------------------------------------------------------------------------------

def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _proc_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/{pid}/status")


def steady(port: int, workdir: Path, assets: int, seconds: float, warmup: float) -> dict:
    path = workdir / "steady.toml"
    path.write_text(config_text(port, workdir / "steady.db", assets, 1, 50))
    received = [0]
    sub = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-steady-sub")
    sub.on_message = lambda c, u, m: received.__setitem__(
        0, received[0] + len(_json(m.payload)))
    sub.connect("127.0.0.1", port)
    sub.subscribe(wire.READINGS_FILTER, qos=1)
    sub.loop_start()
    proc = subprocess.Popen([sys.executable, "-m", "edge_agent", "--log-level", "WARNING",
                             "run", "--config", str(path)])
    try:
        time.sleep(warmup)
        cpu0, t0, n0 = _proc_cpu_s(proc.pid), time.monotonic(), received[0]
        time.sleep(seconds)
        cpu1, t1, n1 = _proc_cpu_s(proc.pid), time.monotonic(), received[0]
        rss, peak = _proc_kb(proc.pid, "VmRSS") / 1024, _proc_kb(proc.pid, "VmHWM") / 1024
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        sub.loop_stop()
        sub.disconnect()
    return {"rss_mb": rss, "peak_rss_mb": peak, "cpu_share": (cpu1 - cpu0) / (t1 - t0),
            "readings_per_s": (n1 - n0) / (t1 - t0)}


def _json(payload: bytes) -> list[dict]:
    return list(json.loads(payload))


# -- 2. drain -------------------------------------------------------------------------------------

def fill(path: Path, readings: int, assets: int) -> None:
    box = Outbox(path, AGENT)
    t0 = time.time() - readings  # in the past, one reading per asset per `assets` seconds
    batch = 1000
    for start in range(0, readings, batch):
        n = min(batch, readings - start)
        for a in range(assets):
            ms = [Measurement("occupied", float(i % 400), t0 + i, "pallet")
                  for i in range(start + a, start + n, assets)]
            if ms:
                box.add(f"zone-{a:02d}", ms)
    box.close()


class Receipter:
    """Ingest's part in the drain, without a database: receipt every message it receives, in
    one receipt per 20 ms, as ingest does per write batch."""

    def __init__(self, port: int) -> None:
        self.readings = 0
        self._seqs: list[int] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-receipter")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(wire.readings_topic(TENANT, "+"), qos=1)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        records = json.loads(msg.payload)
        with self._lock:
            self._seqs.append(records[0]["seq"])
            self.readings += len(records)

    def _run(self) -> None:
        topic = wire.receipts_topic(TENANT, AGENT)
        while not self._stop.wait(0.02):
            with self._lock:
                seqs, self._seqs = self._seqs, []
            if seqs:
                self.client.publish(topic, wire.encode_receipt(seqs, {}), qos=1)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.client.loop_stop()
        self.client.disconnect()


def _queued(outbox: Path) -> int:
    import sqlite3

    db = sqlite3.connect(f"file:{outbox}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
    finally:
        db.close()


def drain(port: int, workdir: Path, readings: int, assets: int, max_pack: int) -> dict:
    outbox = workdir / "drain.db"
    t = time.monotonic()
    fill(outbox, readings, assets)
    fill_s = time.monotonic() - t
    path = workdir / "drain.toml"
    path.write_text(config_text(port, outbox, assets, 86400, max_pack))
    receipter = Receipter(port)
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "edge_agent", "--log-level", "WARNING",
                             "run", "--config", str(path)])
    try:
        peak = 0.0
        while True:
            peak = max(peak, _proc_kb(proc.pid, "VmHWM") / 1024)
            if receipter.readings >= readings and _queued(outbox) == 0:
                break
            if proc.poll() is not None:
                raise RuntimeError("the agent exited during the drain")
            time.sleep(0.05)
        elapsed = time.monotonic() - t0
        peak = max(peak, _proc_kb(proc.pid, "VmHWM") / 1024)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        receipter.close()
    return {"fill_s": fill_s, "drain_s": elapsed, "readings_per_s": readings / elapsed,
            "peak_rss_mb": peak, "received": receipter.readings}


def raw_paho(port: int, readings: int, max_pack: int) -> dict:
    """A plain paho publisher: the same number of packs of the same size, QoS 1."""
    packs = max(readings // max_pack, 1)
    ms = [Measurement("occupied", float(i), 1.7e9 + i, "pallet") for i in range(max_pack)]
    payload = wire.encode_pack(TENANT, "zone-00", AGENT, 1, ms)
    done, acked = threading.Event(), [0]

    def on_publish(client: paho.Client, userdata: object, mid: int, *rest: object) -> None:
        acked[0] += 1
        if acked[0] >= packs:
            done.set()

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-raw",
                         protocol=paho.MQTTv311)
    client.max_inflight_messages_set(MAX_INFLIGHT)
    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    topic = wire.readings_topic(TENANT, "zone-00")
    t0 = time.monotonic()
    for _ in range(packs):
        client.publish(topic, payload, qos=1)
    done.wait()
    elapsed = time.monotonic() - t0
    client.loop_stop()
    client.disconnect()
    return {"drain_s": elapsed, "readings_per_s": packs * max_pack / elapsed}


# -- report ---------------------------------------------------------------------------------------

def _verdict(ok: bool) -> str:
    return "within budget" if ok else "OVER BUDGET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench agent", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="steady-state window")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--backlog", type=int, default=1_000_000, help="readings to drain")
    parser.add_argument("--max-pack", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="idleshare-agent-bench-") as tmp:
        workdir = Path(tmp)
        broker, port = start_mosquitto(workdir)
        try:
            s = steady(port, workdir, args.assets, args.seconds, args.warmup)
            print(f"steady state: {args.assets} assets sampled every 1 s, "
                  f"{s['readings_per_s']:.1f} readings/s arrived over {args.seconds:.0f} s")
            print(f"  RSS {s['rss_mb']:.1f} MB (peak {s['peak_rss_mb']:.1f} MB), budget "
                  f"{RSS_BUDGET_MB:.0f} MB: {_verdict(s['peak_rss_mb'] <= RSS_BUDGET_MB)}")
            print(f"  CPU {100 * s['cpu_share']:.2f} % of one core, budget "
                  f"{100 * CPU_BUDGET:.0f} %: {_verdict(s['cpu_share'] <= CPU_BUDGET)}")
            d = drain(port, workdir, args.backlog, args.assets, args.max_pack)
            r = raw_paho(port, args.backlog, args.max_pack)
            print(f"drain with receipts: {args.backlog:,} queued readings (filled in "
                  f"{d['fill_s']:.1f} s) receipted and deleted in {d['drain_s']:.1f} s "
                  f"({d['received']:,} received: resends included)")
            print(f"  agent peak RSS {d['peak_rss_mb']:.1f} MB, budget {RSS_BUDGET_MB:.0f} MB: "
                  f"{_verdict(d['peak_rss_mb'] <= RSS_BUDGET_MB)}")
            print(f"  agent {d['readings_per_s']:,.0f} readings/s, budget >= "
                  f"{DRAIN_BUDGET:,.0f}: {_verdict(d['readings_per_s'] >= DRAIN_BUDGET)}")
            print(f"  raw paho publisher, same packs and broker: {r['readings_per_s']:,.0f} "
                  f"readings/s (agent at {d['readings_per_s'] / r['readings_per_s']:.0%} of it)")
        finally:
            broker.terminate()
            broker.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
