"""Cluster drill: 2 ingest workers (one MQTT 5 shared subscription), 2 analytics workers and
2 API processes, each a separate ``idleshare`` process, on one real PostgreSQL catalog, one
InfluxDB and one Mosquitto. Under traffic (an agent publishing, platforms holding and
confirming through both APIs) one of each is killed with SIGKILL, the ingest worker restarted
as systemd would (same client id). Afterwards no reading is lost or doubled, no offer is
overbooked, and the surviving analytics worker goes on making offers, taking over the dead
one's share of each pass.
A webhook receiver counts deliveries by (subscription, event id): none arrives twice, and
deliveries go on after the API process that ran one of the dispatchers died.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from idleshare.assets import Asset
from market.caller import Caller
from market.feeds import changes
from shell.localpostgres import PostgresServer
from storage.catalog import BookingRow, Catalog, OfferRow, WebhookRow, counts
from storage.catalog import leases as L
from storage.influx import InfluxV1Store
from storage.readings import Reading
from tests.ingest.drill import Load, assert_exactly_once
from tests.ingest.drill import counts as stored_counts
from tests.servers import InfluxServer, MosquittoServer, free_port, wait_for_port

ZONES, STEP, H = 6, 600.0, 3600.0
INTERVAL_S, LEASE_S = 3.0, 1.0


def env(catalog_url: str, influx: InfluxServer, database: str, mqtt_url: str,
        data_dir: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IDLESHARE_")}
    return clean | {"IDLESHARE_CATALOG_URL": catalog_url, "IDLESHARE_INFLUX_URL": influx.url,
                    "IDLESHARE_INFLUX_DB": database, "IDLESHARE_MQTT_URL": mqtt_url,
                    "IDLESHARE_DATA_DIR": str(data_dir),
                    "IDLESHARE_INGEST_SHARE_GROUP": "drill",
                    "IDLESHARE_WEBHOOK_ALLOW_HTTP": "1",
                    "IDLESHARE_WEBHOOK_ALLOW": "127.0.0.0/8",
                    "IDLESHARE_ANALYTICS_INTERVAL_S": str(INTERVAL_S),
                    "IDLESHARE_ANALYTICS_LEASE_S": str(LEASE_S)}


def spawn(argv: list[str], environ: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115 - owned by the process
    return subprocess.Popen([sys.executable, "-m", "shell.cli", *argv], env=environ,
                            stdout=out, stderr=subprocess.STDOUT)


Cluster = tuple[Catalog, dict[str, subprocess.Popen[bytes]], list[str], dict[str, str], Path]


@pytest.fixture
def cluster(postgres: PostgresServer, influxdb: InfluxServer, mosquitto: MosquittoServer,
            tmp_path: Path) -> Iterator[Cluster]:
    url = postgres.create_database(f"drill_{uuid.uuid4().hex[:8]}")
    database = f"drill_{uuid.uuid4().hex[:8]}"
    catalog = Catalog(url)
    store = InfluxV1Store(influxdb.url, database=database)
    # Two days of readings per zone, idle every night: seasonal-naive offers for tomorrow.
    t0 = math.floor(time.time() / 86400) * 86400 - 2 * 86400
    for n in range(ZONES):
        catalog.upsert_asset(Asset(f"zone-{n}", "acme", "warehouse_zone", 100, "pallet"),
                             online=True)
        store.write([Reading("acme", f"zone-{n}", "occupied", t0 + i * STEP,
                             10.0 if (i * STEP / H) % 24 < 8 else 90.0, "pallet")
                     for i in range(int(time.time() - t0) // int(STEP))])
    with catalog.session() as s:
        from storage.catalog import AssetRow

        for row in s.scalars(select(AssetRow)):
            row.policy = {"visibility": "public"}
    environ = env(url, influxdb, database, mosquitto.url, tmp_path)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    ports = [free_port(), free_port()]
    try:
        for w in ("i1", "i2"):
            procs[w] = ingest(environ, w, tmp_path)
        for w in ("a1", "a2"):
            procs[w] = spawn(["analytics", "--worker-id", w], environ, tmp_path / f"{w}.log")
        for i, port in enumerate(ports):
            procs[f"api{i}"] = spawn(["api", "--port", str(port)], environ,
                                     tmp_path / f"api{i}.log")
        for port in ports:
            wait_for_port(port, timeout=30)
        yield catalog, procs, [f"http://127.0.0.1:{p}" for p in ports], environ, tmp_path
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
        for p in procs.values():
            p.wait(timeout=30)
        store.close()
        catalog.close()


class Receiver(ThreadingHTTPServer):
    """A platform's webhook endpoint on loopback: counts each (subscription, event id)."""

    def __init__(self) -> None:
        self.seen: Counter[tuple[int, int]] = Counter()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import json

                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.seen[(body["webhook"], body["event"]["cursor"])] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        super().__init__(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


def ingest(environ: dict[str, str], worker: str, logs: Path) -> subprocess.Popen[bytes]:
    return spawn(["ingest"], environ | {"IDLESHARE_MQTT_CLIENT_ID": f"drill-{worker}"},
                 logs / f"{worker}.log")


def live_offers(catalog: Catalog) -> list[OfferRow]:
    with catalog.session() as s:
        return list(s.scalars(select(OfferRow).where(OfferRow.status == "live",
                                                     OfferRow.start > time.time())))


def test_killing_one_of_each_service_loses_no_reading_overbooks_nothing_and_offers_go_on(
    cluster: Cluster, mosquitto: MosquittoServer, influxdb: InfluxServer,
) -> None:
    catalog, procs, apis, environ, logs = cluster
    deadline = time.monotonic() + 30
    while not live_offers(catalog):
        assert time.monotonic() < deadline, "the analytics workers made no offers"
        time.sleep(0.2)
    keys = [catalog.create_key(f"platform{i}", role="platform") for i in range(4)]
    receiver = Receiver()
    hooks: dict[int, tuple[Caller, int, tuple[str, ...]]] = {}  # id -> platform, start, types
    for i in range(2):  # two subscriptions, made through each API
        r = httpx.post(f"{apis[i]}/v1/webhooks", json={"url": receiver.url},
                       headers={"Authorization": f"Bearer {keys[i]}"}, timeout=10)
        assert r.status_code == 201, r.text
        with catalog.session() as s:
            row = s.get(WebhookRow, r.json()["id"])
            assert row is not None
            hooks[row.id] = (Caller(f"platform{i}", "platform"), row.last_event_id,
                             tuple(row.events))
    stop, outcomes = threading.Event(), {"held": 0, "confirmed": 0, "refused": 0, "down": 0}
    lock = threading.Lock()

    def platform(i: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            offers = live_offers(catalog)
            if not offers:
                continue
            offer = offers[n % len(offers)]
            base = apis[(i + n) % 2]
            try:
                with httpx.Client(base_url=base, timeout=10,
                                  headers={"Authorization": f"Bearer {keys[i]}"}) as c:
                    r = c.post("/v1/bookings", json={"offer_id": offer.id, "quantity": 7})
                    kind = "held" if r.status_code == 201 else "refused"
                    if r.status_code == 201 and n % 2:
                        c.post(f"/v1/bookings/{r.json()['id']}/confirm").raise_for_status()
                        kind = "confirmed"
            except httpx.TransportError:
                kind = "down"  # the killed API process: a platform retries the other
            with lock:
                outcomes[kind] += 1

    time.sleep(2)  # both ingest workers subscribed
    load = Load(mosquitto.port, "fleet", count=3000, rate=300.0)
    load.birth()
    threads = [threading.Thread(target=platform, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    load.start()
    try:
        time.sleep(3)
        procs["i1"].send_signal(signal.SIGKILL)
        procs["i1"].wait()
        time.sleep(1)
        procs["i1"] = ingest(environ, "i1", logs)  # systemd's Restart=always
        procs["a1"].send_signal(signal.SIGKILL)
        killed_at = time.time()
        time.sleep(2)
        procs["api0"].send_signal(signal.SIGKILL)
        with receiver.lock:
            before_kill = max((c for _, c in receiver.seen), default=0)
        time.sleep(3 * INTERVAL_S)
    finally:
        stop.set()
        for t in threads:
            t.join(30)

    load.wait()
    db = environ["IDLESHARE_INFLUX_DB"]
    deadline = time.monotonic() + 30
    while sum(stored_counts(influxdb.url, db, "fleet").values()) < load.readings \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    assert_exactly_once(influxdb.url, db, load)
    load.close()
    assert outcomes["held"] + outcomes["confirmed"] > 0 and outcomes["refused"] > 0, outcomes
    with catalog.session() as s:
        over = s.execute(
            select(OfferRow.id, OfferRow.quantity, func.sum(BookingRow.quantity))
            .join(BookingRow, BookingRow.offer_id == OfferRow.id).where(counts(time.time()))
            .group_by(OfferRow.id, OfferRow.quantity)
            .having(func.sum(BookingRow.quantity) > OfferRow.quantity + 1e-9)).all()
        assert over == []
        # A whole pass after the kill, done by the survivor alone: every bucket.
        later = int(killed_at // INTERVAL_S) + 2
        # The survivor may be inside its next pass when we look (a bucket not done yet): read
        # again for up to two intervals, until every bucket's newest pass is done.
        deadline = time.monotonic() + 2 * INTERVAL_S
        while True:
            s.expire_all()
            rows = s.scalars(select(L.AnalyticsBucketRow)).all()
            if all(r.done for r in rows) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert all(r.pass_no >= later and r.done for r in rows), \
            [(r.bucket, r.pass_no, r.worker_id, r.done) for r in rows if r.pass_no < later]
        assert {r.worker_id for r in rows} == {"a2"}
    assert live_offers(catalog), "offers still made after the kills"
    # Webhooks: deliveries went on after api0's dispatcher died (at worst once its claim's
    # lease lapsed), and no event reached a subscription twice.
    deadline = time.monotonic() + 70
    while max((c for _, c in receiver.seen), default=0) <= before_kill:
        assert time.monotonic() < deadline, "no webhook delivered after the API kill"
        time.sleep(0.5)
    # Every event each subscription may see, up to the head as it is now, reaches it: the
    # feed's own rule (market.feeds.changes) says which. Delivery is at least once by event
    # id: a host killed between the receiver's 200 and writing its progress sends that one
    # event again after its lease lapses, so at most one repeat per subscription and kill.
    expected = {(hook, c.cursor) for hook, (caller, start, types) in hooks.items()
                for c in changes(catalog, caller, start, 1_000_000, types)}
    assert expected, "the platforms saw no offer events"
    deadline = time.monotonic() + 90
    while not expected <= set(receiver.seen):
        assert time.monotonic() < deadline, \
            f"{len(expected - set(receiver.seen))} of {len(expected)} events never delivered"
        time.sleep(0.5)
    receiver.shutdown()
    assert {w for w, _ in receiver.seen} == set(hooks)
    repeats = Counter(w for (w, _), n in receiver.seen.items() if n > 1)
    assert all(n <= 1 for n in repeats.values()), repeats
