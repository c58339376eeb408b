"""Ingest end to end on the real broker, with InfluxDB and with SQLite behind it."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable

import pytest

from idleshare import wire
from idleshare.assets import Asset
from idleshare.wire import Measurement
from ingest.service import Ingest
from storage.catalog import Catalog
from storage.influx import InfluxV1Store
from storage.readings import ReadingStore
from storage.sqlite import SqliteReadingStore
from tests.ingest.conftest import Agent, DeadLetters, wait_for
from tests.storage.conftest import unique

M = Measurement


@pytest.fixture(params=["influxdb", "sqlite"])
def store(request: pytest.FixtureRequest) -> ReadingStore:
    if request.param == "influxdb":
        return InfluxV1Store(request.getfixturevalue("influxdb").url, unique("ingest"))
    return request.getfixturevalue("sqlite_store")


def assets(tenant: str) -> tuple[Asset, Asset]:
    return (Asset(id="zone-1", tenant=tenant, kind="warehouse_zone", capacity=100, unit="pallet"),
            Asset(id="press-1", tenant=tenant, kind="machine", capacity=1, unit="machine"))


def bad_messages(tenant: str, now: float) -> list[tuple[str, bytes, str]]:
    """(topic, payload, the reason ingest must give) for each way to get a message wrong."""
    zone = wire.readings_topic(tenant, "zone-1")

    def pack(*ms: Measurement, t: str = tenant, asset: str = "zone-1") -> bytes:
        return wire.encode_pack(t, asset, "agent-1", 100, ms)

    nan = json.dumps([{"bn": wire.base_name(tenant, "zone-1"), "bt": now, "agent": "agent-1",
                       "seq": 100, "n": "occupied", "v": math.nan}]).encode()
    return [
        (zone, b"{oops", "bad_json"),
        (zone, pack(M("occupied", 1, now)).replace(b'"v":1', b'"v":true'), "bad_schema"),
        (zone, nan, "not_finite"),
        (zone, pack(M("occupied", 1, now), t="someone-else"), "tenant_mismatch"),
        (wire.readings_topic(tenant, "ghost"), pack(M("occupied", 1, now), asset="ghost"),
         "unknown_asset"),
        (zone, pack(M("running", 1, now)), "unknown_metric"),
        (zone, pack(M("occupied", 1, now, unit="kg")), "bad_unit"),
        (zone, pack(M("occupied", 101, now)), "out_of_range"),
        (zone, pack(M("occupied", 1, now - 30 * 86400)), "too_old"),
        (zone, pack(M("occupied", 1, now + 86400)), "in_future"),
        (f"idleshare/v1/{tenant}/bad id!/readings", pack(M("occupied", 1, now)), "bad_topic"),
        (zone, b"[" + b" " * wire.MAX_PAYLOAD_BYTES + b"]", "oversize"),
        (wire.status_topic(tenant, "agent-1"), b"{", "bad_status"),
    ]


def test_valid_readings_are_stored_once_and_bad_messages_are_dead_lettered(
    store: ReadingStore, make_ingest: Callable[..., Ingest], agent: Agent,
    deadletters: DeadLetters, catalog: Catalog, tenant: str,
) -> None:
    ingest = make_ingest(store)
    now = round(time.time(), 3)
    agent.birth(*assets(tenant))
    bad = bad_messages(tenant, now)
    packs: dict[int, bytes] = {}
    zone_points: list[tuple[float, float]] = []
    for seq in range(1, 7):  # valid packs interleaved with bad messages
        t = now - 60 + seq * 3
        if seq % 2:
            ms = [M("occupied", seq * 10 + i, t + i) for i in range(3)]
            zone_points += [(m.time, float(m.value)) for m in ms]
            packs[seq] = agent.pack("zone-1", seq, *ms)
        else:
            packs[seq] = agent.pack("press-1", seq, M("running", 1, t), M("power", 7.5, t),
                                    M("running", 0, t + 1, unit="/"))
        for topic, payload, _ in bad[(seq - 1) * 3: seq * 3]:
            agent.publish(topic, payload)
    agent.publish(wire.readings_topic(tenant, "press-1"), packs[2])  # a redelivery

    received = 1 + 6 + len(bad) + 1
    # The birth's catalog write runs on its own thread: it may finish after the readings.
    wait_for(lambda: ingest.stats.received == received and ingest.pending == 0
             and len(deadletters.letters) == len(bad) and ingest.stats.statuses == 1,
             lambda: (ingest.stats, ingest.pending, deadletters.reasons()))
    assert store.count(tenant) == 18
    got = store.query(tenant, "zone-1", "occupied", now - 3600, now + 1)
    assert [v for _, v in got] == [v for _, v in zone_points]
    assert [t for t, _ in got] == pytest.approx([t for t, _ in zone_points], abs=1e-6)
    stats = ingest.stats
    assert (stats.stored, stats.duplicates, stats.statuses) == (18, 1, 1)
    assert stats.rejected == Counter(reason for _, _, reason in bad)
    assert deadletters.reasons() == sorted(reason for _, _, reason in bad)
    assert ingest.registry.get_sample_value("idleshare_ingest_messages_rejected_total",
                                            {"reason": "bad_unit"}) == 1.0


def test_a_dead_letter_carries_the_message_and_why(
    make_ingest: Callable[..., Ingest], sqlite_store: SqliteReadingStore, agent: Agent,
    deadletters: DeadLetters, tenant: str,
) -> None:
    make_ingest(sqlite_store)
    topic = wire.readings_topic(tenant, "zone-1")
    agent.publish(topic, b"\xff\x00 binary")
    agent.publish(topic, b"[" + b"1," * 5000 + b"1")
    wait_for(lambda: len(deadletters.letters) == 2)
    binary, text = deadletters.letters
    assert (binary["reason"], binary["topic"], binary["encoding"]) == ("bad_json", topic, "base64")
    assert binary["payload"] == "/wAgYmluYXJ5"
    assert (text["encoding"], text["truncated"], text["size"]) == ("utf-8", True, 10002)
    assert text["payload"].startswith("[1,1,") and text["detail"]


def test_a_birth_registers_its_assets_under_the_topics_tenant_and_a_will_marks_them_offline(
    make_ingest: Callable[..., Ingest], sqlite_store: SqliteReadingStore, agent: Agent,
    catalog: Catalog, tenant: str,
) -> None:
    ingest = make_ingest(sqlite_store)
    zone, press = assets(tenant)
    claimed = {**press.to_dict(), "tenant": "someone-else"}
    agent.publish(wire.status_topic(tenant, agent.id),
                  wire.encode_status(agent.id, "online", 1000.0, "1", [zone.to_dict(), claimed]))
    wait_for(lambda: ingest.stats.statuses == 1)
    rows = catalog.assets(tenant)
    assert [(r.id, r.agent, r.online, r.status_at) for r in rows] == [
        ("press-1", "agent-1", True, 1000.0), ("zone-1", "agent-1", True, 1000.0)]
    assert catalog.assets("someone-else") == []

    agent.publish(wire.status_topic(tenant, agent.id),
                  wire.encode_status(agent.id, "offline", 2000.0))
    wait_for(lambda: ingest.stats.statuses == 2)
    assert [(r.online, r.status_at) for r in catalog.assets(tenant)] == [(False, 2000.0)] * 2


def test_an_asset_unknown_before_its_birth_is_accepted_right_after_it(
    make_ingest: Callable[..., Ingest], sqlite_store: SqliteReadingStore, agent: Agent,
    tenant: str,
) -> None:
    ingest = make_ingest(sqlite_store)
    zone, _ = assets(tenant)
    agent.pack("zone-1", 1, M("occupied", 1, time.time()))
    agent.birth(zone)
    agent.pack("zone-1", 2, M("occupied", 2, time.time()))
    wait_for(lambda: ingest.stats.received == 3 and ingest.pending == 0,
             lambda: (ingest.stats, ingest.pending))
    assert ingest.stats.rejected == {"unknown_asset": 1}
    assert sqlite_store.count(tenant) == 1
