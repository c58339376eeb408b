"""Ingest over TLS to a real Mosquitto, MQTT 5 and 3.1.1: the batch reader sees the decrypted
stream in TLS records of at most 16 KiB, so single readings and packs larger than a record are
delivered, stored once and acknowledged across record boundaries."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from idleshare import wire
from idleshare.assets import Asset
from ingest.service import Ingest
from storage.catalog import Catalog
from storage.sqlite import SqliteReadingStore
from tests.edge_agent.test_drills import make_certs
from tests.ingest.conftest import Agent, wait_for
from tests.servers import MosquittoServer, free_port, start_mosquitto, wait_for_port


@pytest.fixture
def tls_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MosquittoServer,
                                                                                 str]]:
    """A broker with a plain listener (the publisher's) and a TLS one (ingest's), whose CA the
    default trust store (``SSL_CERT_FILE``) holds, as a deployment's system CAs would."""
    certs = make_certs(tmp_path / "certs")
    monkeypatch.setenv("SSL_CERT_FILE", str(certs["ca.crt"]))
    tls_port = free_port()
    broker = start_mosquitto(tmp_path / "mosquitto", extra=(
        f"listener {tls_port} 127.0.0.1\ncafile {certs['ca.crt']}\n"
        f"certfile {certs['server.crt']}\nkeyfile {certs['server.key']}\n"))
    wait_for_port(tls_port)
    yield broker, f"mqtts://127.0.0.1:{tls_port}"
    broker.stop()


@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5], ids=["mqtt3", "mqtt5"])
def test_readings_over_tls_are_stored_once_small_and_larger_than_a_tls_record(
    tls_broker: tuple[MosquittoServer, str], catalog: Catalog, sqlite_store: SqliteReadingStore,
    tenant: str, protocol: int,
) -> None:
    broker, url = tls_broker
    zone = Asset(id="zone-1", tenant=tenant, kind="warehouse_zone", capacity=100, unit="pallet")
    ingest = Ingest(sqlite_store, catalog, url, client_id=f"ingest-{tenant}", protocol=protocol,
                    flush_interval_s=0.2).start()
    agent = Agent(broker, tenant)
    try:
        assert ingest.wait_ready(10), "ingest did not subscribe over TLS"
        agent.birth(zone)
        t0 = time.time() - 3600
        singles = 600
        for seq in range(singles):
            agent.pack("zone-1", seq, wire.Measurement("occupied", float(seq % 90), t0 + seq))
        big = [wire.Measurement("occupied", float(i % 90), t0 + 1000 + i * 0.001)
               for i in range(2000)]
        for k in range(3):  # about 20 KB each: more than one TLS record per message
            agent.pack("zone-1", singles + k, *big[k::3])
        readings = singles + len(big)
        wait_for(lambda: ingest.stats.stored >= readings and ingest.pending == 0,
                 lambda: ingest.stats)
        assert sqlite_store.count(tenant) == readings
        stats = ingest.stats
        assert (stats.stored, stats.duplicates, stats.rejected) == (readings, 0, {})
    finally:
        agent.close()
        ingest.stop()
