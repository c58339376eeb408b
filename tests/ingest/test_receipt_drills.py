"""Storage receipts under failure, with a real edge agent, Mosquitto and InfluxDB: a reading
leaves the gateway only when the database holds it, whatever else loses its copy.

The agent replays known readings (``receipt_drill.Readings``), so the exact set InfluxDB must
hold is known; every drill checks it point by point.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from edge_agent.agent import Agent
from storage.catalog import Catalog
from storage.influx import InfluxV1Store
from tests.catalogs import fresh_url
from tests.ingest.conftest import DRILL_INGEST, Process, wait_for
from tests.ingest.conftest import ingests as started_ingests
from tests.ingest.drill import Load, assert_exactly_once
from tests.ingest.receipt_drill import (
    ROWS_PER_S,
    Readings,
    assert_stored_exactly_once,
    total,
    volatile_mosquitto,
)
from tests.servers import InfluxServer, MosquittoServer, start_influxdb
from tests.storage.conftest import unique

pytestmark = pytest.mark.servers
#: How long InfluxDB stays down: long past many write retries (``retry_max_s`` 1 s) and the
#: agent's receipt timeout (RECEIPT_TIMEOUT_S, then twice that: two rounds of resends)
#: (IDLESHARE_RECEIPT_OUTAGE_S sets another length).
OUTAGE_S = float(os.environ.get("IDLESHARE_RECEIPT_OUTAGE_S", "20"))
#: The agent's receipt timeout in the outage drill, short so that the outage outlasts it
#: (the default is 60 s).
RECEIPT_TIMEOUT_S = 5


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoServer]:
    server = volatile_mosquitto(tmp_path / "mosquitto")
    yield server
    server.stop(signal.SIGKILL)


@pytest.fixture
def catalog_url(tmp_path: Path) -> str:
    """SQLite only: these drills fail the broker, InfluxDB, ingest and the agent, while the
    catalog only answers ingest's asset look-ups, alike on either engine (test_flow and
    test_drills run ingest's catalog work on both)."""
    return fresh_url("sqlite", tmp_path, None)


@pytest.fixture
def ingests(broker: MosquittoServer, catalog: Catalog, tenant: str) -> Iterator[Any]:
    """``start(store)``: an in-process ingest as ``idleshare ingest`` runs it (MQTT 5)."""
    yield from started_ingests(catalog, broker.url, client_id=f"ingest-{tenant}",
                               tenant_filter=tenant, **DRILL_INGEST)


@pytest.fixture
def agents() -> Iterator[list[Agent]]:
    made: list[Agent] = []
    yield made
    for agent in made:
        agent.stop(drain_s=0)


def start_agent(agents: list[Agent], readings: Readings, tenant: str, url: str, outbox: Path,
                extra: str = "") -> Agent:
    agent = Agent(readings.config("gw-1", tenant, url, outbox, extra))
    agent.start()
    agents.append(agent)
    return agent


def test_a_broker_without_persistence_killed_while_ingest_is_stopped_loses_nothing(
    broker: MosquittoServer, influxdb: InfluxServer, ingests: Any, agents: list[Agent],
    tenant: str, tmp_path: Path,
) -> None:
    db = unique("receipts")
    readings = Readings(tmp_path / "csv", backlog_s=30, live_s=12)
    ingest = ingests(InfluxV1Store(influxdb.url, db))
    agent = start_agent(agents, readings, tenant, broker.url, tmp_path / "outbox.db")
    wait_for(lambda: total(influxdb.url, db, tenant) > 0, timeout_s=30)
    ingest.stop()  # a restart, a deploy: the broker queues for its persistent session ...
    time.sleep(4)  # ... while the agent keeps publishing and the broker PUBACKs
    assert agent.outbox.sent_readings() > 0, "nothing was PUBACKed without receipt"
    at_risk = agent.outbox.sent_readings()
    broker.stop(signal.SIGKILL)  # ... and the broker dies: its queue is gone
    broker.start()
    ingest = ingests(InfluxV1Store(influxdb.url, db))
    wait_for(lambda: time.time() > readings.end + 1 and agent.stats.queued == 0,
             lambda: agent.stats, timeout_s=60)
    wait_for(lambda: total(influxdb.url, db, tenant) >= readings.count,
             lambda: total(influxdb.url, db, tenant), timeout_s=30)
    assert_stored_exactly_once(influxdb.url, db, tenant, readings)
    assert at_risk > 0 and agent.stats.dropped == 0


def _outbox_number(outbox: Path, query: str) -> int:
    """A number the agent's outbox file answers (0 while it has no tables yet)."""
    db = sqlite3.connect(f"file:{outbox}?mode=ro", uri=True)
    try:
        return int(db.execute(query).fetchone()[0] or 0)
    except sqlite3.OperationalError:  # the agent is still creating its tables
        return 0
    finally:
        db.close()


def _sent_unreceipted(outbox: Path) -> int:
    return _outbox_number(outbox, "SELECT COUNT(*) FROM sent WHERE acked = 1")


def test_influxdb_stopped_keeps_the_backlog_on_the_gateway_and_loses_nothing(
    broker: MosquittoServer, ingests: Any, agents: list[Agent], tenant: str, tmp_path: Path,
) -> None:
    influx = start_influxdb(tmp_path / "influxdb")  # our own, to stop
    try:
        db = unique("receipts")
        readings = Readings(tmp_path / "csv", backlog_s=5, live_s=OUTAGE_S + 8)
        ingest = ingests(InfluxV1Store(influx.url, db, timeout_s=2), max_inflight=500)
        outbox = tmp_path / "outbox.db"
        agent = start_agent(agents, readings, tenant, broker.url, outbox,
                            extra=f"receipt_window = 20\nreceipt_timeout_s = {RECEIPT_TIMEOUT_S}\n")
        wait_for(lambda: total(influx.url, db, tenant) > 0, timeout_s=30)
        influx.stop(signal.SIGKILL)
        most_unreceipted, outage_ends = 0, time.monotonic() + OUTAGE_S
        while time.monotonic() < outage_ends:
            most_unreceipted = max(most_unreceipted, agent.outbox.unreceipted)
            time.sleep(0.1)
        most_attempts = _outbox_number(outbox, "SELECT MAX(attempts) FROM sent")
        queued_at_end = agent.stats.queued
        influx.start()
        wait_for(lambda: time.time() > readings.end + 1 and agent.stats.queued == 0,
                 lambda: (agent.stats, ingest.stats), timeout_s=90)
        wait_for(lambda: total(influx.url, db, tenant) >= readings.count, timeout_s=30)
        assert_stored_exactly_once(influx.url, db, tenant, readings)
        # The broker never held more than the receipt window: the rest waited on the gateway.
        assert most_unreceipted == 20 and queued_at_end > 20 * ROWS_PER_S
        # ... though the outage outlasted the receipt timeout: the window's messages went again.
        assert most_attempts >= 2
        assert ingest.stats.store_errors > 0
    finally:
        influx.stop()


def test_ingest_killed_with_sigkill_under_load_loses_nothing_with_receipts(
    broker: MosquittoServer, influxdb: InfluxServer, agents: list[Agent], tenant: str,
    tmp_path: Path,
) -> None:
    db = unique("receipts")
    env = {**os.environ, "IDLESHARE_DATA_DIR": str(tmp_path / "data"),
           "IDLESHARE_MQTT_URL": broker.url, "IDLESHARE_MQTT_CLIENT_ID": f"ingest-{tenant}",
           "IDLESHARE_INFLUX_URL": influxdb.url, "IDLESHARE_INFLUX_DB": db}

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "shell", "ingest"], env=env,
                                cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=open(tmp_path / "ingest.log", "ab"))

    readings = Readings(tmp_path / "csv", backlog_s=600, live_s=8)  # 36,000 to drain
    with Process(spawn) as ingest:
        time.sleep(1.5)  # subscribed before the agent's first messages
        agent = start_agent(agents, readings, tenant, broker.url, tmp_path / "outbox.db")
        wait_for(lambda: total(influxdb.url, db, tenant) > 2000, timeout_s=30)
        killed_at = ingest.crash_and_restart(lambda: total(influxdb.url, db, tenant))
        assert killed_at < readings.count, "the drain ended before the kill"
        wait_for(lambda: time.time() > readings.end + 1 and agent.stats.queued == 0,
                 lambda: (agent.stats, (tmp_path / "ingest.log").read_text()[-2000:]),
                 timeout_s=90)
        wait_for(lambda: total(influxdb.url, db, tenant) >= readings.count, timeout_s=30)
        assert_stored_exactly_once(influxdb.url, db, tenant, readings)
        ingest.stop_cleanly()


def test_an_agent_killed_with_sent_unreceipted_messages_resends_them_after_restart(
    broker: MosquittoServer, influxdb: InfluxServer, ingests: Any, tenant: str,
    tmp_path: Path,
) -> None:
    db = unique("receipts")
    readings = Readings(tmp_path / "csv", backlog_s=60, live_s=0)
    config = tmp_path / "agent.toml"
    outbox = tmp_path / "outbox.db"
    config.write_text(readings.toml("gw-1", tenant, broker.url, outbox))

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "edge_agent", "run", "--config",
                                 str(config)], stdout=subprocess.DEVNULL,
                                stderr=open(tmp_path / "agent.log", "ab"))

    with Process(spawn) as agent:  # no ingest yet: the broker PUBACKs, nobody receipts
        wait_for(lambda: outbox.exists() and _sent_unreceipted(outbox) >= 20, timeout_s=30)

        def broker_loses_its_copies_and_ingest_starts() -> Any:
            broker.stop(signal.SIGKILL)  # and the copies the broker held are gone too
            broker.start()
            return ingests(InfluxV1Store(influxdb.url, db))

        ingest = agent.crash_and_restart(broker_loses_its_copies_and_ingest_starts)
        wait_for(lambda: total(influxdb.url, db, tenant) >= readings.count,
                 lambda: (ingest.stats, (tmp_path / "agent.log").read_text()[-2000:]),
                 timeout_s=60)
        assert_stored_exactly_once(influxdb.url, db, tenant, readings)
        wait_for(lambda: _sent_unreceipted(outbox) == 0, timeout_s=20)
        agent.stop_cleanly()


def test_a_third_party_publisher_without_receipts_is_stored_and_sent_no_receipts(
    broker: MosquittoServer, influxdb: InfluxServer, ingests: Any, tenant: str,
) -> None:
    db = unique("receipts")
    ingest = ingests(InfluxV1Store(influxdb.url, db))
    watcher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"watch-{tenant}")
    seen: list[str] = []
    watcher.on_message = lambda c, u, m: seen.append(m.topic)
    watcher.connect("127.0.0.1", broker.port)
    watcher.subscribe(f"idleshare/v1/{tenant}/agents/+/receipts", qos=1)
    watcher.loop_start()
    load = Load(broker.port, tenant, count=400, rate=400, per_pack=2)  # plain paho, PUBACK only
    load.birth()  # a birth without "receipts"
    load.start()
    load.wait()
    wait_for(lambda: ingest.stats.stored >= load.readings and ingest.pending == 0,
             lambda: ingest.stats, timeout_s=30)
    assert_exactly_once(influxdb.url, db, load)
    time.sleep(0.3)
    assert seen == [] and ingest.stats.receipts == 0
    watcher.loop_stop()
    watcher.disconnect()
    load.close()
