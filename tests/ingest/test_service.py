"""Ingest's own logic with a fake MQTT client: acknowledgement order, retries, refusals,
shared subscriptions and metrics. The real-broker behaviour is in test_flow and the drills."""

from __future__ import annotations

import ipaddress
import json
import logging
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from idleshare import wire
from idleshare.assets import Asset
from idleshare.errors import StoreError
from idleshare.wire import Measurement
from ingest import deadletter
from ingest.service import Ingest
from shell.logs import json_formatter
from storage.catalog import AssetRow, Catalog
from storage.readings import Reading
from storage.sqlite import SqliteReadingStore
from tests.ingest.conftest import FakeStart, wait_for
from tests.ingest.fakes import GatedStore
from tests.servers import free_port

TENANT = "acme"
ZONE = Asset(id="zone-1", tenant=TENANT, kind="warehouse_zone", capacity=100, unit="pallet")
TOPIC = wire.readings_topic(TENANT, "zone-1")


class FlakyCatalog(Catalog):
    """A catalog that fails its first ``failures`` asset look-ups."""

    failures = 0

    def asset(self, tenant_id: str, asset_id: str) -> AssetRow | None:
        if self.failures:
            self.failures -= 1
            raise StoreError("catalog error: database is locked")
        return super().asset(tenant_id, asset_id)


@pytest.fixture
def flaky_catalog(tmp_path: Path) -> Iterator[FlakyCatalog]:
    cat = FlakyCatalog(f"sqlite:///{tmp_path / 'flaky.db'}")
    cat.upsert_asset(ZONE)
    yield cat
    cat.close()


def pack(seq: int, value: float = 1.0, asset: str = "zone-1") -> bytes:
    return wire.encode_pack(TENANT, asset, "agent-1", seq, [Measurement("occupied", value,
                                                                        time.time() - 1)])


def metric(ingest: Ingest, name: str, labels: dict[str, str] | None = None) -> float | None:
    return ingest.registry.get_sample_value(f"idleshare_ingest_{name}", labels or {})


def test_a_message_is_acknowledged_only_after_its_write_returns(
    gated_store: GatedStore, flaky_catalog: FlakyCatalog, fake_ingest: FakeStart,
) -> None:
    ingest, client = fake_ingest(gated_store, flaky_catalog)
    client.deliver(TOPIC, pack(1), mid=11)
    wait_for(lambda: ingest.pending == 1)
    time.sleep(0.2)
    assert client.acks == [] and gated_store.count() == 0
    gated_store.gate.set()
    wait_for(lambda: client.acks == [11], lambda: client.acks)
    assert gated_store.count() == 1


def test_a_message_the_catalog_could_not_check_is_handled_again_once_it_answers(
    sqlite_store: SqliteReadingStore, flaky_catalog: FlakyCatalog, fake_ingest: FakeStart,
) -> None:
    flaky_catalog.failures = 2
    ingest, client = fake_ingest(sqlite_store, flaky_catalog)
    client.deliver(TOPIC, pack(1), mid=5)
    wait_for(lambda: client.acks == [5], lambda: (ingest.stats, client.acks), timeout_s=10)
    assert (sqlite_store.count(), ingest.stats.store_errors, ingest.stats.received) == (1, 2, 1)


def test_a_retry_is_dropped_when_its_connection_is_gone(
    sqlite_store: SqliteReadingStore, flaky_catalog: FlakyCatalog, fake_ingest: FakeStart,
) -> None:
    flaky_catalog.failures = 1
    _, client = fake_ingest(sqlite_store, flaky_catalog)
    client.deliver(TOPIC, pack(1), mid=5)
    client.drop()  # the broker will send it again on the next connection
    time.sleep(1.0)
    assert client.acks == [] and sqlite_store.count() == 0
    client.connect()
    client.deliver(TOPIC, pack(1), mid=1)
    wait_for(lambda: client.acks == [1], lambda: client.acks)


def test_a_written_message_of_a_lost_connection_is_not_acknowledged_on_the_next(
    gated_store: GatedStore, flaky_catalog: FlakyCatalog, fake_ingest: FakeStart,
) -> None:
    ingest, client = fake_ingest(gated_store, flaky_catalog)
    client.deliver(TOPIC, pack(1), mid=7)
    wait_for(lambda: ingest.pending == 1)
    client.drop()
    client.connect()
    gated_store.gate.set()
    wait_for(lambda: ingest.pending == 0)
    assert client.acks == []
    client.deliver(TOPIC, pack(1), mid=3)  # the broker's copy: a known repeat, acknowledged
    assert client.acks == [3] and ingest.stats.duplicates == 1


def test_readings_the_store_refuses_go_to_the_dead_letter_topic_and_are_acknowledged(
    sqlite_store: SqliteReadingStore, flaky_catalog: FlakyCatalog, fake_ingest: FakeStart,
) -> None:
    # The catalog accepts any unit string (the API registers assets too); InfluxDB's line
    # protocol cannot carry one ending in a backslash, so the store refuses it.
    flaky_catalog.upsert_asset(Asset(id="odd", tenant=TENANT, kind="warehouse_zone",
                                     capacity=10, unit="box\\"))

    class Influxish(SqliteReadingStore):
        def write(self, readings: Sequence[Reading]) -> None:
            from storage.lineproto import to_lines

            to_lines(readings)  # raises StoreRefused like the InfluxDB adapters
            super().write(readings)

    store = Influxish(sqlite_store.path)
    ingest, client = fake_ingest(store, flaky_catalog)
    client.deliver(TOPIC, pack(1), mid=1)
    client.deliver(wire.readings_topic(TENANT, "odd"), pack(2, asset="odd"), mid=2)
    client.deliver(TOPIC, pack(3), mid=3)
    wait_for(lambda: sorted(client.acks) == [1, 2, 3], lambda: client.acks)
    [(topic, letter)] = client.published
    assert topic == deadletter.TOPIC and json.loads(letter)["reason"] == "store_refused"
    assert (store.count(), ingest.stats.rejected) == (2, {"store_refused": 1})
    client.deliver(wire.readings_topic(TENANT, "odd"), pack(2, asset="odd"), mid=4)
    assert client.acks[-1] == 4 and ingest.stats.duplicates == 1  # its redelivery too


def test_a_share_group_shares_readings_but_every_worker_hears_every_status(
    sqlite_store: SqliteReadingStore, flaky_catalog: FlakyCatalog, fake_ingest: FakeStart,
) -> None:
    _, client = fake_ingest(sqlite_store, flaky_catalog, share_group="ingest")
    assert client.subscriptions == ["idleshare/v1/+/agents/+/status",
                                    "$share/ingest/idleshare/v1/+/+/readings"]


def test_metrics_count_each_outcome_and_time_the_writes(
    sqlite_store: SqliteReadingStore, flaky_catalog: FlakyCatalog, fake_ingest: FakeStart,
) -> None:
    ingest, client = fake_ingest(sqlite_store, flaky_catalog)
    client.deliver(TOPIC, pack(1), mid=1)
    client.deliver(TOPIC, pack(1), mid=2)
    client.deliver(TOPIC, b"{", mid=3)
    client.deliver(TOPIC, pack(2, value=1000), mid=4)
    wait_for(lambda: ingest.pending == 0 and len(client.acks) == 4)
    assert metric(ingest, "messages_received_total") == 4
    assert metric(ingest, "readings_stored_total") == 1
    assert metric(ingest, "messages_stored_total") == 1
    assert metric(ingest, "messages_duplicate_total") == 1
    assert metric(ingest, "messages_rejected_total", {"reason": "bad_json"}) == 1
    assert metric(ingest, "messages_rejected_total", {"reason": "out_of_range"}) == 1
    assert metric(ingest, "batch_write_seconds_count") == 1
    assert metric(ingest, "reading_lag_seconds_count") == 1
    assert metric(ingest, "reading_lag_seconds_bucket", {"le": "0.5"}) == 0  # read 1 s ago
    assert metric(ingest, "reading_lag_seconds_bucket", {"le": "2.0"}) == 1
    assert metric(ingest, "pending_messages") == 0


def test_pending_gauges_show_what_waits_for_the_store(
    gated_store: GatedStore, flaky_catalog: FlakyCatalog, fake_ingest: FakeStart,
) -> None:
    ingest, client = fake_ingest(gated_store, flaky_catalog, batch_size=1)
    for seq in (1, 2, 3):
        client.deliver(TOPIC, pack(seq), mid=seq)
    wait_for(lambda: metric(ingest, "pending_readings") == 2)  # one is being written
    assert metric(ingest, "pending_messages") == 3
    gated_store.gate.set()


def test_metrics_are_served_over_http(
    sqlite_store: SqliteReadingStore, flaky_catalog: FlakyCatalog, fake_ingest: FakeStart,
) -> None:
    ingest, client = fake_ingest(sqlite_store, flaky_catalog)
    port = free_port()
    ingest.metrics.serve(port)  # the default address: loopback only
    client.deliver(TOPIC, b"{", mid=1)
    assert listening_addresses(port) == {"127.0.0.1"}
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    assert 'idleshare_ingest_messages_rejected_total{reason="bad_json"} 1.0' in text
    assert "idleshare_ingest_batch_write_seconds_bucket" in text


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the IPv4 and IPv6 sockets listening on ``port`` (/proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                raw = bytes.fromhex(address)
                # /proc prints each 32-bit word in host (little-endian) order.
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                found.add(str(ipaddress.ip_address(words)))
    return found


def test_log_lines_are_json_with_the_extra_fields() -> None:
    record = logging.LogRecord("ingest", logging.WARNING, "f.py", 1, "store down: %s", ("x",),
                               None)
    record.event, record.pending = "store_error", 12
    line = json.loads(json_formatter().format(record))
    assert line["message"] == "store down: x" and line["level"] == "WARNING"
    assert (line["event"], line["pending"]) == ("store_error", 12)


def test_an_announced_asset_is_accepted_while_the_catalog_write_of_its_birth_is_retried(
    sqlite_store: SqliteReadingStore, flaky_catalog: FlakyCatalog, fake_ingest: FakeStart,
) -> None:
    class Refusing(FlakyCatalog):
        def upsert_asset(self, *args: Any, **kwargs: Any) -> None:
            raise StoreError("catalog error: UNIQUE constraint failed: tenants.id")

    cat = Refusing(str(flaky_catalog.engine.url))
    new = Asset(id="zone-9", tenant=TENANT, kind="warehouse_zone", capacity=5, unit="pallet")
    ingest, client = fake_ingest(sqlite_store, cat)
    client.deliver(wire.status_topic(TENANT, "agent-1"),
                   wire.encode_status("agent-1", "online", time.time(), "1", [new.to_dict()]), 1)
    client.deliver(wire.readings_topic(TENANT, "zone-9"), pack(1, asset="zone-9"), mid=2)
    wait_for(lambda: 2 in client.acks, lambda: (ingest.stats, client.acks))
    assert sqlite_store.count() == 1 and ingest.stats.rejected == {}
    # The birth is acknowledged in order, before the readings behind it, while its catalog
    # write is retried off paho's thread (the retained birth redoes it after a restart).
    assert client.acks == [1, 2]
    wait_for(lambda: ingest.stats.store_errors >= 2, lambda: ingest.stats)
    assert ingest.stats.statuses == 0
