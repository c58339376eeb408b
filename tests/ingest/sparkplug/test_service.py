"""The Sparkplug B service against a real Mosquitto, fed real protobuf payloads by an edge node:
births register assets, data is stored once, gaps ask for a rebirth, deaths mark offline, and
bad payloads are dead-lettered with their reason without stopping good ones."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from idleshare.errors import StoreError
from ingest.sparkplug.mapping import Mapping
from ingest.sparkplug.service import SparkplugIngest
from ingest.sparkplug.sparkplug_payload_pb2 import DataType
from storage.catalog import Catalog
from storage.readings import Reading
from storage.sqlite import SqliteReadingStore
from tests.ingest.conftest import DeadLetters, wait_for
from tests.ingest.sparkplug.conftest import DEVICE, Commands, EdgeNode
from tests.ingest.sparkplug.payloads import data, dbirth, ddeath, nbirth, ndeath
from tests.servers import MosquittoServer

pytestmark = pytest.mark.servers

B, D = DataType.Boolean, DataType.Double
POWER, RUNNING, OCCUPIED = 11, 12, 1  # aliases
Make = Callable[..., SparkplugIngest]


def born(edge: EdgeNode, bd_seq: int = 0) -> None:
    """NBIRTH (seq 0) with the bay's occupancy, DBIRTH (seq 1) of the press."""
    edge.send("NBIRTH", nbirth(0, bd_seq, (("Bay/Occupied", 12.0, D, OCCUPIED),
                                           ("Diagnostics/CPU", 0.3, D, 2))))
    edge.send("DBIRTH", dbirth(1, (("Power", 1500.0, D, POWER),
                                   ("Status/Running", True, B, RUNNING))), DEVICE)


def online(catalog: Catalog, tenant: str, asset: str) -> bool | None:
    row = catalog.asset(tenant, asset)
    return None if row is None else row.online


def points(store: SqliteReadingStore, tenant: str, asset: str, metric: str
           ) -> list[tuple[float, float]]:
    return store.query(tenant, asset, metric, 0, time.time() + 3600)


def test_births_register_the_assets_and_data_is_stored_once(
        make_service: Make, plant_mapping: Mapping, edge: EdgeNode, sqlite_catalog: Catalog,
        sqlite_store: SqliteReadingStore, tenant: str) -> None:
    service = make_service(plant_mapping)
    born(edge)
    wait_for(lambda: online(sqlite_catalog, tenant, "press-7") and online(sqlite_catalog, tenant,
                                                                       "bay-1"))
    row = sqlite_catalog.asset(tenant, "press-7")
    assert row is not None and (row.kind, row.agent) == ("machine", "spb.Plant_" +
                                                         edge.group.split()[1] + ".Line_3")
    at = time.time() - 5
    ddata = data(2, (POWER, 2200.0, D), (RUNNING, False, B), at=at)
    edge.send("DDATA", ddata, DEVICE)
    edge.send("DDATA", ddata, DEVICE)  # the same message again: a repeat
    # Births' values are readings too: bay 1, then press 2 (power and running), then 2 here.
    wait_for(lambda: service.stats.stored == 5 and service.pending == 0, lambda: service.stats)
    assert service.stats.duplicates == 1
    power = points(sqlite_store, tenant, "press-7", "power")
    # In W, stored in kW (the mapping's scale), at the metric's own time.
    assert power == [(pytest.approx(at, abs=0.001), pytest.approx(2.2)),
                     (pytest.approx(time.time(), abs=30), 1.5)]
    assert [v for _, v in points(sqlite_store, tenant, "press-7", "running")] == [0.0, 1.0]
    assert [v for _, v in points(sqlite_store, tenant, "bay-1", "occupied")] == [12.0]
    assert sqlite_store.count(tenant) == 5
    assert service.skipped["unmapped_metric"] >= 3  # bdSeq, Node Control/Rebirth, CPU
    assert service.stats.rejected == {}


def test_a_historical_value_keeps_its_timestamp(
        make_service: Make, plant_mapping: Mapping, edge: EdgeNode,
        sqlite_store: SqliteReadingStore, tenant: str) -> None:
    service = make_service(plant_mapping)
    born(edge)
    hour_ago = time.time() - 3600
    edge.send("DDATA", data(2, (POWER, 900.0, D), at=hour_ago, historical=True), DEVICE)
    wait_for(lambda: service.stats.stored == 4, lambda: service.stats)
    assert (pytest.approx(hour_ago, abs=0.001), 0.9) in points(sqlite_store, tenant, "press-7",
                                                               "power")


def test_data_at_qos_0_as_sparkplug_sends_it_by_default_is_stored(
        make_service: Make, plant_mapping: Mapping, edge: EdgeNode,
        sqlite_store: SqliteReadingStore, tenant: str) -> None:
    service = make_service(plant_mapping)
    born(edge)
    edge.client.publish(edge.topic("DDATA", DEVICE),
                        data(2, (RUNNING, False, B)).SerializeToString(), qos=0)
    wait_for(lambda: service.stats.stored == 4 and service.pending == 0, lambda: service.stats)
    assert [v for _, v in points(sqlite_store, tenant, "press-7", "running")][-1] == 0.0


def test_a_seq_gap_asks_the_edge_node_for_a_rebirth(
        make_service: Make, plant_mapping: Mapping, edge: EdgeNode, commands: Commands,
        sqlite_store: SqliteReadingStore, tenant: str) -> None:
    service = make_service(plant_mapping)
    born(edge)
    edge.send("DDATA", data(2, (POWER, 1000.0, D)), DEVICE)
    edge.send("DDATA", data(4, (POWER, 1200.0, D)), DEVICE)  # 3 is lost
    wait_for(lambda: commands.rebirths() == 1, lambda: (commands.received, service.stats))
    # A time-series host keeps what arrived: seq 4's value is stored all the same.
    assert service.stats.stored == 5
    edge.send("DDATA", data(5, (POWER, 1300.0, D)), DEVICE)  # in order again: no new request
    wait_for(lambda: service.stats.stored == 6, lambda: service.stats)
    born(edge)  # the edge node answers with its births
    wait_for(lambda: service.stats.stored == 9, lambda: service.stats)
    assert commands.rebirths() == 1


def test_a_late_message_within_the_reorder_timeout_needs_no_rebirth(
        make_service: Make, plant_mapping: Mapping, edge: EdgeNode,
        commands: Commands) -> None:
    service = make_service(plant_mapping, reorder_timeout_s=3.0)
    born(edge)
    edge.send("DDATA", data(3, (POWER, 1200.0, D)), DEVICE)
    edge.send("DDATA", data(2, (POWER, 1000.0, D)), DEVICE)  # the missing one, late
    wait_for(lambda: service.stats.stored == 5, lambda: service.stats)
    time.sleep(3.5)  # past the reorder timeout: the point is that nothing is sent
    assert commands.rebirths() == 0


def test_deaths_mark_the_assets_offline_and_a_stale_will_does_not(
        make_service: Make, plant_mapping: Mapping, edge: EdgeNode, sqlite_catalog: Catalog,
        tenant: str) -> None:
    service = make_service(plant_mapping)
    born(edge)
    wait_for(lambda: online(sqlite_catalog, tenant, "press-7") and online(sqlite_catalog, tenant,
                                                                       "bay-1"))
    edge.send("DDEATH", ddeath(2), DEVICE)
    wait_for(lambda: online(sqlite_catalog, tenant, "press-7") is False)
    assert online(sqlite_catalog, tenant, "bay-1")
    edge.send("DBIRTH", dbirth(3, (("Power", 0.0, D, POWER),)), DEVICE)
    wait_for(lambda: online(sqlite_catalog, tenant, "press-7"))
    # The will of an older connection (bdSeq 7, not this session's 0) changes nothing...
    edge.send("NDEATH", ndeath(7))
    wait_for(lambda: service.skipped["stale_death"] == 1, lambda: service.skipped)
    assert online(sqlite_catalog, tenant, "press-7") and online(sqlite_catalog, tenant, "bay-1")
    # ...the node's own will, sent by the broker when its connection is lost, marks all.
    edge.drop_connection()
    wait_for(lambda: online(sqlite_catalog, tenant, "press-7") is False
             and online(sqlite_catalog, tenant, "bay-1") is False, timeout_s=30)
    assert service.sessions.get((edge.group, "Line 3")) is None  # data now needs a birth


def test_bad_payloads_are_dead_lettered_with_their_reason_and_good_data_goes_on(
        make_service: Make, plant_mapping: Mapping, edge: EdgeNode, commands: Commands,
        deadletters: DeadLetters, sqlite_store: SqliteReadingStore, tenant: str) -> None:
    service = make_service(plant_mapping, reorder_timeout_s=5.0)
    edge.send("DDATA", data(0, (POWER, 1.0, D)), DEVICE)  # before any birth
    wait_for(lambda: commands.rebirths() == 1, lambda: service.stats)
    born(edge)
    edge.send("DDATA", b"\x0a\xff\xff not protobuf", DEVICE)
    edge.send("DDATA", data(2, (99, 1.0, D)), DEVICE)  # an alias no birth declared
    wrong = data(3)
    wrong.metrics.add(alias=POWER, string_value="1.5 kW")
    edge.send("DDATA", wrong, DEVICE)
    edge.send("DDATA", data(4, (POWER, 5e9, D)), DEVICE)  # 5,000,000 kW: out of range
    edge.send("DDATA", data(5, (POWER, 3300.0, D)), DEVICE)
    wait_for(lambda: len(deadletters.letters) == 5, deadletters.reasons)
    assert deadletters.reasons() == ["bad_protobuf", "bad_type", "no_birth", "out_of_range",
                                     "unknown_alias"]
    wait_for(lambda: service.stats.stored == 4, lambda: service.stats)
    assert points(sqlite_store, tenant, "press-7", "power")[-1][1] == pytest.approx(3.3)
    assert service.stats.rejected == {"bad_protobuf": 1, "bad_type": 1, "no_birth": 1,
                                      "out_of_range": 1, "unknown_alias": 1}
    letter = next(x for x in deadletters.letters if x["reason"] == "bad_type")
    assert "Power: a Double in string_value" in letter["detail"]
    assert letter["encoding"] == "base64" and letter["topic"].endswith(f"/DDATA/Line 3/{DEVICE}")
    assert service.pending == 0  # every one acknowledged


def test_nodes_devices_and_metrics_not_in_the_mapping_are_skipped_not_dead_lettered(
        make_service: Make, plant_mapping: Mapping, mosquitto: MosquittoServer, group: str,
        edge: EdgeNode, commands: Commands, deadletters: DeadLetters,
        sqlite_store: SqliteReadingStore, tenant: str) -> None:
    service = make_service(plant_mapping)
    other = EdgeNode(mosquitto, group)
    try:
        other.client.publish(f"spBv1.0/{group}/NDATA/Line 9", b"whatever",
                             qos=1).wait_for_publish(10)
        wait_for(lambda: service.skipped["unmapped_node"] == 1, lambda: service.skipped)
    finally:
        other.close()
    born(edge)
    edge.send("DDATA", data(2, (77, 1.0, D)), "Robot 2")  # a device of the node, not mapped
    # A minute back: never in the birth's millisecond, which would overwrite its point.
    edge.send("DDATA", data(3, (POWER, 800.0, D), at=time.time() - 60), DEVICE)
    wait_for(lambda: service.stats.stored == 4, lambda: service.stats)
    assert service.skipped["unmapped_device"] == 1
    assert deadletters.letters == [] and commands.received == []
    assert sqlite_store.count(tenant) == 4


class FlakyStore:
    """The SQLite store, failing every write while ``down``."""

    def __init__(self, inner: SqliteReadingStore) -> None:
        self.inner, self.down = inner, True

    def write(self, readings: Sequence[Reading]) -> None:
        if self.down:
            raise StoreError("the store is down")
        self.inner.write(readings)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_messages_are_acknowledged_only_after_the_durable_write(
        make_service: Make, plant_mapping: Mapping, edge: EdgeNode,
        sqlite_store: SqliteReadingStore, tenant: str) -> None:
    store = FlakyStore(sqlite_store)
    first = make_service(plant_mapping, store=store, stop_timeout_s=1.0)
    born(edge)
    wait_for(lambda: first.pending == 2 and first.stats.store_errors >= 2, lambda: first.stats)
    assert first.stop() is False  # gave up: both births stay unacknowledged
    assert sqlite_store.count(tenant) == 0
    # The next run (same persistent session) gets them again from the broker and stores them.
    store.down = False
    second = make_service(plant_mapping, store=store)
    wait_for(lambda: second.stats.stored == 3 and second.pending == 0, lambda: second.stats)
    # The session was rebuilt from them (a minute back: not the birth's point overwritten).
    edge.send("DDATA", data(2, (POWER, 700.0, D), at=time.time() - 60), DEVICE)
    wait_for(lambda: second.stats.stored == 4, lambda: second.stats)
    assert sqlite_store.count(tenant) == 4
