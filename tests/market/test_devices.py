"""Device provisioning against a real Mosquitto with password and ACL files."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from idleshare.wire import (
    DEADLETTER_TOPIC,
    encode_receipt,
    readings_topic,
    receipts_topic,
    status_topic,
)
from market.devices import add_device
from shell.commands import app as cli_app
from tests.servers import MosquittoServer, start_mosquitto

pytestmark = pytest.mark.servers


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[tuple[MosquittoServer, Path, Path]]:
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    add_device(passwd, acl, "ops", "ingest", [], password="ingest-pw", reader=True)
    result = CliRunner().invoke(
        cli_app,
        [
            "devices",
            "add",
            "--tenant",
            "acme",
            "--device",
            "agent-1",
            "--asset",
            "z1",
            "--asset",
            "z2",
            "--password-file",
            str(passwd),
            "--acl-file",
            str(acl),
        ],
    )
    assert result.exit_code == 0, result.output
    server = start_mosquitto(
        tmp_path / "broker",
        extra=f"allow_anonymous false\npassword_file {passwd}\nacl_file {acl}\n",
    )
    (tmp_path / "device-password").write_text(result.output.split("password: ")[1].strip())
    yield server, passwd, acl
    server.stop()


def connect(server: MosquittoServer, user: str, password: str) -> tuple[mqtt.Client, object]:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{user}-{time.monotonic_ns()}")
    c.username_pw_set(user, password)
    done = threading.Event()
    result: dict[str, object] = {}

    def on_connect(client, userdata, flags, reason_code, properties) -> None:
        result["rc"] = reason_code
        done.set()

    c.on_connect = on_connect
    c.connect("127.0.0.1", server.port)
    c.loop_start()
    assert done.wait(10), "no CONNACK"
    return c, result["rc"]


def test_a_device_publishes_only_its_own_tenant_and_assets(
    broker: tuple[MosquittoServer, Path, Path], tmp_path: Path
) -> None:
    server, _, acl = broker
    assert "topic write idleshare/v1/acme/z1/readings" in acl.read_text()
    admin, rc = connect(server, "ops.ingest", "ingest-pw")
    assert not rc.is_failure
    got: list[str] = []
    subscribed = threading.Event()
    admin.on_message = lambda c, u, m: got.append(m.topic)
    admin.on_subscribe = lambda *a: subscribed.set()
    admin.subscribe("idleshare/#", qos=1)
    assert subscribed.wait(10)
    device, rc = connect(server, "acme.agent-1", (tmp_path / "device-password").read_text())
    assert not rc.is_failure
    forbidden = [
        readings_topic("globex", "z1"),
        readings_topic("acme", "z9"),
        status_topic("globex", "agent-1"),
        status_topic("acme", "agent-2"),
    ]
    for topic in forbidden:
        device.publish(topic, b"x", qos=1).wait_for_publish(10)
    allowed = [readings_topic("acme", "z1"), status_topic("acme", "agent-1")]
    for topic in allowed:
        device.publish(topic, b"x", qos=1).wait_for_publish(10)
    deadline = time.monotonic() + 10
    while len(got) < len(allowed) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # anything forbidden would have arrived by now too
    assert got == allowed
    for c in (admin, device):
        c.loop_stop()
        c.disconnect()


@pytest.mark.parametrize(("user", "password"), [("acme.ghost", "x"), ("ops.ingest", "wrong")])
def test_unknown_devices_and_wrong_passwords_cannot_connect(
    broker: tuple[MosquittoServer, Path, Path], user: str, password: str
) -> None:
    c, rc = connect(broker[0], user, password)
    c.loop_stop()
    assert rc.is_failure
    assert rc.value in (4, 5, 134, 135)  # bad credentials / not authorised (v3.1.1 and v5)


def _subscriber(server: MosquittoServer, user: str, password: str, topics: list[str]
                ) -> tuple[mqtt.Client, list[str], list[int]]:
    client, rc = connect(server, user, password)
    assert not rc.is_failure
    got: list[str] = []
    granted: list[int] = []
    subscribed = threading.Event()
    client.on_message = lambda c, u, m: got.append(m.topic)

    def on_subscribe(c: mqtt.Client, u: object, mid: int, codes: list, p: object) -> None:
        granted.extend(code.value for code in codes)
        subscribed.set()

    client.on_subscribe = on_subscribe
    client.subscribe([(t, 1) for t in topics])
    assert subscribed.wait(10)
    return client, got, granted


def test_a_device_reads_its_own_receipts_and_not_another_agents(
    broker: tuple[MosquittoServer, Path, Path], tmp_path: Path
) -> None:
    server, _, acl = broker
    assert "topic read idleshare/v1/acme/agents/agent-1/receipts" in acl.read_text()
    mine, other = receipts_topic("acme", "agent-1"), receipts_topic("acme", "agent-2")
    # Mosquitto grants the subscriptions (MQTT 3.1.1) and checks the ACL on each delivery.
    device, got, _ = _subscriber(server, "acme.agent-1",
                                 (tmp_path / "device-password").read_text(),
                                 [mine, other, receipts_topic("globex", "agent-1")])
    ingest, rc = connect(server, "ops.ingest", "ingest-pw")
    assert not rc.is_failure
    for topic in (other, receipts_topic("globex", "agent-1"), mine):
        ingest.publish(topic, encode_receipt([1], {}), qos=1).wait_for_publish(10)
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # another agent's receipt would have arrived by now too
    assert got == [mine]
    for c in (device, ingest):
        c.loop_stop()
        c.disconnect()


def test_the_ingest_account_publishes_receipts_and_dead_letters_but_no_readings(
    broker: tuple[MosquittoServer, Path, Path]
) -> None:
    server = broker[0]
    watcher, got, _ = _subscriber(server, "ops.ingest", "ingest-pw", ["idleshare/#"])
    ingest, _ = connect(server, "ops.ingest", "ingest-pw")
    topics = [readings_topic("acme", "z1"), status_topic("acme", "agent-1"), DEADLETTER_TOPIC,
              receipts_topic("acme", "agent-1")]
    for topic in topics:
        ingest.publish(topic, b"{}", qos=1).wait_for_publish(10)
    deadline = time.monotonic() + 10
    while len(got) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert got == topics[2:]
    for c in (watcher, ingest):
        c.loop_stop()
        c.disconnect()


def test_devices_add_refuses_a_device_without_assets(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli_app,
        [
            "devices",
            "add",
            "--tenant",
            "acme",
            "--device",
            "d",
            "--password-file",
            str(tmp_path / "p"),
            "--acl-file",
            str(tmp_path / "a"),
        ],
    )
    assert result.exit_code == 2
    assert "at least one asset" in result.output
