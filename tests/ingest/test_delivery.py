"""At-least-once delivery: a message is acknowledged only once its readings are written."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from idleshare.assets import Asset
from idleshare.wire import Measurement
from ingest.service import Ingest
from storage.influx import InfluxV1Store
from storage.sqlite import SqliteReadingStore
from tests.ingest.conftest import Agent, wait_for
from tests.servers import free_port, start_influxdb


def zone(tenant: str) -> Asset:
    return Asset(id="zone-1", tenant=tenant, kind="warehouse_zone", capacity=100, unit="pallet")


def send(agent: Agent, seqs: range) -> None:
    now = time.time()
    for seq in seqs:
        agent.pack("zone-1", seq, Measurement("occupied", seq, now - 100 + seq),
                   Measurement("occupied", seq, now - 100 + seq + 0.5))


def test_readings_wait_while_the_store_is_down_and_are_stored_once_it_is_back(
    make_ingest: Callable[..., Ingest], agent: Agent, tenant: str, tmp_path: Path,
) -> None:
    server = start_influxdb(tmp_path / "influxdb")  # our own, to stop and start again
    try:
        store = InfluxV1Store(server.url, "idleshare", timeout_s=2)
        ingest = make_ingest(store)
        agent.birth(zone(tenant))
        send(agent, range(1, 2))
        wait_for(lambda: ingest.stats.stored == 2, lambda: ingest.stats)
        server.stop()
        send(agent, range(2, 5))
        wait_for(lambda: ingest.stats.store_errors >= 2 and ingest.pending == 3,
                 lambda: (ingest.stats, ingest.pending))
        assert ingest.stats.stored == 2
        server.start()
        wait_for(lambda: ingest.pending == 0, lambda: (ingest.stats, ingest.pending))
        assert (ingest.stats.stored, store.count(tenant)) == (8, 8)
    finally:
        server.stop()


@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5], ids=["mqtt3", "mqtt5"])
def test_messages_not_written_before_a_stop_go_to_the_next_session(
    make_ingest: Callable[..., Ingest], agent: Agent, tenant: str,
    sqlite_store: SqliteReadingStore, protocol: int,
) -> None:
    down = InfluxV1Store(f"http://127.0.0.1:{free_port()}", "idleshare", timeout_s=1)
    first = make_ingest(down, protocol=protocol, stop_timeout_s=0.3)
    agent.birth(zone(tenant))
    send(agent, range(1, 4))
    wait_for(lambda: first.stats.received == 4 and first.stats.store_errors >= 1,
             lambda: first.stats)
    assert first.stop() is False  # nothing written, so nothing acknowledged

    second = make_ingest(sqlite_store, protocol=protocol)
    wait_for(lambda: sqlite_store.count(tenant) == 6 and second.pending == 0,
             lambda: (second.stats, second.pending))
    assert (second.stats.received, second.stats.stored) == (3, 6)


def test_a_repeat_arriving_while_its_first_copy_is_written_is_dropped(
    make_ingest: Callable[..., Ingest], agent: Agent, tenant: str,
    sqlite_store: SqliteReadingStore,
) -> None:
    # A long flush interval keeps the first copy queued when the repeat arrives.
    ingest = make_ingest(sqlite_store, flush_interval_s=1, idle_flush_s=1)
    agent.birth(zone(tenant))
    payload = agent.pack("zone-1", 1, Measurement("occupied", 1, time.time()))
    agent.publish(f"idleshare/v1/{tenant}/zone-1/readings", payload)
    wait_for(lambda: ingest.stats.received == 3 and ingest.pending == 0,
             lambda: (ingest.stats, ingest.pending), timeout_s=10)
    assert (ingest.stats.duplicates, ingest.stats.stored, sqlite_store.count(tenant)) == (1, 1, 1)
