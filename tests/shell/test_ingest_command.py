"""``idleshare ingest`` as an operator runs it: settings from the environment, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from idleshare.assets import Asset
from idleshare.wire import READINGS_FILTER, STATUS_FILTER, Measurement
from storage.sqlite import SqliteReadingStore
from tests.ingest.conftest import Agent, connected, wait_for
from tests.servers import MosquittoServer


def test_the_module_creates_its_data_dir_stores_readings_and_exits_cleanly_on_sigterm(
    mosquitto: MosquittoServer, agent: Agent, tenant: str, tmp_path: Path,
) -> None:
    # Open its persistent session first: what is published before the process subscribes waits
    # there, as it would for a restarting ingest.
    session = connected(mosquitto, f"main-{tenant}", clean_session=False)
    subscribed = threading.Event()
    session.on_subscribe = lambda *_: subscribed.set()
    session.subscribe([(STATUS_FILTER, 1), (READINGS_FILTER, 1)])
    assert subscribed.wait(10)
    session.disconnect()
    session.loop_stop()
    zone = Asset(id="zone-1", tenant=tenant, kind="warehouse_zone", capacity=10, unit="pallet")
    agent.birth(zone)
    agent.pack("zone-1", 1, Measurement("occupied", 3, time.time()))
    data = tmp_path / "new" / "dir"  # missing, as on a new host
    env = {**os.environ, "IDLESHARE_DATA_DIR": str(data), "IDLESHARE_MQTT_URL": mosquitto.url,
           "IDLESHARE_MQTT_CLIENT_ID": f"main-{tenant}", "IDLESHARE_INFLUX_URL": ""}
    proc = subprocess.Popen([sys.executable, "-m", "shell", "ingest"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: (data / "readings.db").exists())
        store = SqliteReadingStore(data / "readings.db")
        wait_for(lambda: store.count(tenant) == 1)
        store.close()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0, out.decode(errors="replace")
    finally:
        proc.kill()
        clean = connected(mosquitto, f"main-{tenant}", clean_session=True)
        clean.disconnect()
        clean.loop_stop()


def test_the_module_refuses_to_start_without_a_broker_url(tmp_path: Path) -> None:
    env = {**os.environ, "IDLESHARE_DATA_DIR": str(tmp_path), "IDLESHARE_MQTT_URL": ""}
    done = subprocess.run([sys.executable, "-m", "shell", "ingest"], env=env, cwd=tmp_path,
                          capture_output=True, timeout=60)
    assert done.returncode == 2
    assert b"mqtt_url" in done.stderr


def test_a_data_dir_that_cannot_be_created_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    env = {**os.environ, "IDLESHARE_DATA_DIR": str(tmp_path / "file" / "dir"),
           "IDLESHARE_MQTT_URL": "mqtt://127.0.0.1:1"}
    done = subprocess.run([sys.executable, "-m", "shell", "ingest"], env=env, cwd=tmp_path,
                          capture_output=True, timeout=60)
    assert done.returncode == 2
    assert b"data_dir cannot be created" in done.stderr and b"Traceback" not in done.stderr
