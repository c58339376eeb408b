"""The command line: ``check`` validates and names bad keys; ``run`` runs until SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from importlib import resources
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.cli import main
from idleshare import wire
from tests.servers import MosquittoServer

GOOD = """
[agent]
id = "gw-cli"
tenant = "cli"
[mqtt]
url = "{url}"
[buffer]
path = "outbox.db"
[[assets]]
id = "zone-a"
kind = "warehouse_zone"
capacity = 400
"""


def test_check_accepts_a_shipped_sample(capsys: pytest.CaptureFixture[str]) -> None:
    sample = resources.files("edge_agent").joinpath("samples", "simulator.toml")
    assert main(["check", "--config", str(sample)]) == 0
    assert "ok, agent 'gw-acme-01'" in capsys.readouterr().out


def test_check_names_the_bad_key_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(GOOD.format(url="mqtt://127.0.0.1:1883") + "[assets.simulator]\nseed = 'one'\n")
    assert main(["check", "--config", str(path)]) == 1
    assert "assets[0].simulator.seed must be an integer: got 'one'" in capsys.readouterr().err


def test_check_opens_replay_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(GOOD.format(url="mqtt://127.0.0.1:1883") + "source = 'replay'\n"
                    "[assets.replay]\nfile = 'missing.csv'\nvalues = { occupied = 'x' }\n")
    assert main(["check", "--config", str(path)]) == 1
    assert "assets[0].replay.file cannot be read" in capsys.readouterr().err


def test_check_of_a_missing_file_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", "/nonexistent/agent.toml"]) == 1
    assert "config file cannot be read" in capsys.readouterr().err


@pytest.mark.servers
def test_run_goes_online_and_leaves_offline_on_sigterm(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(GOOD.format(url=mosquitto.url))
    states: list[str] = []
    got = threading.Event()
    sub = paho.Client(CallbackAPIVersion.VERSION2, client_id="cli-sub")

    def on_message(client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        if not msg.retain:  # a retained status is an earlier run's, not this agent's
            states.append(json.loads(msg.payload)["state"])
            got.set()

    sub.on_message = on_message
    sub.connect("127.0.0.1", mosquitto.port)
    sub.subscribe(wire.status_topic("cli", "gw-cli"), qos=1)
    sub.loop_start()
    proc = subprocess.Popen([sys.executable, "-m", "edge_agent", "run", "--config", str(path)],
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while "online" not in states and time.monotonic() < deadline:
            got.wait(0.1)
        assert "online" in states
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        deadline = time.monotonic() + 5
        while states[-1] != "offline" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert states[-1] == "offline"
    finally:
        if proc.poll() is None:
            proc.kill()
        sub.loop_stop()
        sub.disconnect()
    assert (tmp_path / "outbox.db").exists()
