"""Storage receipts with a fake MQTT client: what ingest tells an agent after the durable write,
and that PUBACKs keep arrival order. The real-broker drills are in test_receipt_drills.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from idleshare import wire
from idleshare.errors import StoreRefused
from ingest import deadletter
from storage.catalog import Catalog
from storage.sqlite import SqliteReadingStore
from tests.ingest.conftest import FakeStart, wait_for
from tests.ingest.fakes import FakeClient, GatedStore
from tests.ingest.test_service import TENANT, TOPIC, ZONE, pack

RECEIPTS = wire.receipts_topic(TENANT, "agent-1")


@pytest.fixture
def catalog(catalog: Catalog) -> Catalog:
    catalog.upsert_asset(ZONE)
    return catalog


def birth(client: FakeClient, receipts: bool, mid: int = 100) -> None:
    client.deliver(wire.status_topic(TENANT, "agent-1"), wire.encode_status(
        "agent-1", "online", time.time(), "1", [ZONE.to_dict()], receipts=receipts), mid)


def receipts(client: FakeClient) -> list[dict]:
    return [json.loads(p) for t, p in client.published if t == RECEIPTS]


def test_one_receipt_per_agent_per_batch_lists_the_stored_ranges_after_the_write(
    gated_store: GatedStore, catalog: Catalog, fake_ingest: FakeStart,
) -> None:
    ingest, client = fake_ingest(gated_store, catalog)
    birth(client, receipts=True)
    for seq in (1, 2, 3, 7):
        client.deliver(TOPIC, pack(seq), mid=seq)
    wait_for(lambda: ingest.pending == 4)
    time.sleep(0.1)
    assert receipts(client) == []  # nothing before the durable write
    gated_store.gate.set()
    wait_for(lambda: client.acks == [100, 1, 2, 3, 7], lambda: client.acks)
    assert receipts(client) == [{"stored": [[1, 3], [7, 7]], "rejected": {}}]
    assert (ingest.stats.receipts, ingest.stats.receipted) == (1, 4)


def test_repeats_are_receipted_again_and_rejections_with_their_reason(
    sqlite_store: SqliteReadingStore, catalog: Catalog, fake_ingest: FakeStart,
) -> None:
    _, client = fake_ingest(sqlite_store, catalog)
    birth(client, receipts=True)
    client.deliver(TOPIC, pack(1), mid=1)
    wait_for(lambda: len(receipts(client)) == 1)
    client.deliver(TOPIC, pack(1), mid=2)  # a resend of a stored message
    wait_for(lambda: len(receipts(client)) == 2)
    client.deliver(TOPIC, pack(2, value=1e9), mid=3)  # out of range for good
    wait_for(lambda: len(receipts(client)) == 3)
    assert receipts(client) == [{"stored": [[1, 1]], "rejected": {}},
                                {"stored": [[1, 1]], "rejected": {}},
                                {"stored": [], "rejected": {"out_of_range": [[2, 2]]}}]
    assert [t for t, _ in client.published].count(deadletter.TOPIC) == 1
    assert sqlite_store.count() == 1 and client.acks == [100, 1, 2, 3]


def test_a_malformed_pack_is_receipted_as_rejected_when_its_sender_can_be_read(
    sqlite_store: SqliteReadingStore, catalog: Catalog, fake_ingest: FakeStart,
) -> None:
    _, client = fake_ingest(sqlite_store, catalog)
    birth(client, receipts=True)
    bad = json.dumps([{"bn": wire.base_name(TENANT, "zone-1"), "bt": time.time(),
                       "agent": "agent-1", "seq": 9, "n": "occupied", "v": 1, "x": 1}])
    client.deliver(TOPIC, bad.encode(), mid=1)
    client.deliver(TOPIC, b"{", mid=2)  # no sender to tell: dead-lettered only
    wait_for(lambda: client.acks == [100, 1, 2], lambda: client.acks)
    assert receipts(client) == [{"stored": [], "rejected": {"bad_schema": [[9, 9]]}}]


def test_an_agent_that_did_not_announce_receipts_gets_pubacks_only(
    sqlite_store: SqliteReadingStore, catalog: Catalog, fake_ingest: FakeStart,
) -> None:
    _, client = fake_ingest(sqlite_store, catalog)
    birth(client, receipts=False)
    client.deliver(TOPIC, pack(1), mid=1)
    client.deliver(TOPIC, pack(2, value=1e9), mid=2)
    wait_for(lambda: client.acks == [100, 1, 2], lambda: client.acks)
    assert receipts(client) == [] and sqlite_store.count() == 1


def test_pubacks_leave_in_arrival_order_when_a_rejection_follows_a_pending_write(
    gated_store: GatedStore, catalog: Catalog, fake_ingest: FakeStart,
) -> None:
    _, client = fake_ingest(gated_store, catalog)
    birth(client, receipts=False)
    client.deliver(TOPIC, pack(1), mid=1)
    client.deliver(TOPIC, b"{", mid=2)  # rejected at once, but behind a pending write
    client.deliver(TOPIC, pack(1), mid=3)  # a repeat of the pending one
    time.sleep(0.1)
    assert client.acks == [100]
    gated_store.gate.set()
    wait_for(lambda: client.acks == [100, 1, 2, 3], lambda: client.acks)


def test_a_dead_letter_the_client_refuses_to_queue_is_counted(
    sqlite_store: SqliteReadingStore, catalog: Catalog, fake_ingest: FakeStart,
) -> None:
    ingest, client = fake_ingest(sqlite_store, catalog)
    client.publish_rc = 15  # paho's MQTT_ERR_QUEUE_SIZE (NO_CONN would be queued, not lost)
    client.deliver(TOPIC, b"{", mid=1)
    wait_for(lambda: client.acks == [1], lambda: client.acks)
    assert ingest.stats.publish_failures == 1
    assert ingest.registry.get_sample_value("idleshare_ingest_publish_failures_total",
                                            {"topic": "deadletter"}) == 1.0


def test_a_refused_store_write_is_receipted_as_store_refused(
    tmp_path: Path, catalog: Catalog, fake_ingest: FakeStart,
) -> None:
    class Refusing(SqliteReadingStore):
        def write(self, readings: object) -> None:
            raise StoreRefused("outside the retention period")

    _, client = fake_ingest(Refusing(tmp_path / "r.db"), catalog)
    birth(client, receipts=True)
    client.deliver(TOPIC, pack(5), mid=1)
    wait_for(lambda: client.acks == [100, 1], lambda: client.acks)
    assert receipts(client) == [{"stored": [], "rejected": {"store_refused": [[5, 5]]}}]
