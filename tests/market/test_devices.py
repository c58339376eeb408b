"""Device provisioning against a real Mosquitto with password and ACL files."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner, Result

from idleshare.urls import MqttUrl
from idleshare.wire import (
    DEADLETTER_TOPIC,
    encode_receipt,
    readings_topic,
    receipts_topic,
    status_topic,
)
from market.devices import MOSQUITTO_PASSWD, acl_lines, add_device, username
from shell.commands import app as cli_app
from tests.servers import MosquittoServer, start_mosquitto

pytestmark = pytest.mark.servers


def devices_add(tenant: str, device: str, passwd: Path, acl: Path, *options: str) -> Result:
    """``idleshare devices add`` for ``tenant``/``device`` on these files, with ``options``."""
    return CliRunner().invoke(cli_app, ["devices", "add", "--tenant", tenant, "--device", device,
                                        "--password-file", str(passwd), "--acl-file", str(acl),
                                        *options])


def _broker(tmp_path: Path, passwd: Path, acl: Path) -> MosquittoServer:
    return start_mosquitto(
        tmp_path / "broker",
        extra=f"allow_anonymous false\npassword_file {passwd}\nacl_file {acl}\n",
    )


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[tuple[MosquittoServer, Path, Path]]:
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    add_device(passwd, acl, "ops", "ingest", [], password="ingest-pw", reader=True)
    result = devices_add("acme", "agent-1", passwd, acl,
                         "--asset", "z1", "--asset", "z2", "--data-dir", str(tmp_path / "data"))
    assert result.exit_code == 0, result.output
    server = _broker(tmp_path, passwd, acl)
    (tmp_path / "device-password").write_text(result.output.split("password: ")[1].splitlines()[0])
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
    admin, rc = connect(server, "ops/ingest", "ingest-pw")
    assert not rc.is_failure
    got: list[str] = []
    subscribed = threading.Event()
    admin.on_message = lambda c, u, m: got.append(m.topic)
    admin.on_subscribe = lambda *a: subscribed.set()
    admin.subscribe("idleshare/#", qos=1)
    assert subscribed.wait(10)
    device, rc = connect(server, "acme/agent-1", (tmp_path / "device-password").read_text())
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


@pytest.mark.parametrize(("user", "password"), [("acme/ghost", "x"), ("ops/ingest", "wrong")])
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
    device, got, _ = _subscriber(server, "acme/agent-1",
                                 (tmp_path / "device-password").read_text(),
                                 [mine, other, receipts_topic("globex", "agent-1")])
    ingest, rc = connect(server, "ops/ingest", "ingest-pw")
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
    watcher, got, _ = _subscriber(server, "ops/ingest", "ingest-pw", ["idleshare/#"])
    ingest, _ = connect(server, "ops/ingest", "ingest-pw")
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
    result = devices_add("acme", "d", tmp_path / "p", tmp_path / "a")
    assert result.exit_code == 2
    assert "at least one asset" in result.output


def _received(server: MosquittoServer, user: str, password: str, topics: list[str]) -> list[str]:
    """What the ingest account receives of ``topics`` published by ``user``, in order."""
    watcher, got, _ = _subscriber(server, "ops/ingest", "ingest-pw", ["idleshare/#"])
    device, rc = connect(server, user, password)
    assert not rc.is_failure
    for topic in topics:
        device.publish(topic, b"x", qos=1).wait_for_publish(10)
    device.publish("idleshare/v1/ops/agents/ingest/status", b"end", qos=1)  # refused as well
    time.sleep(0.5)  # QoS 1 to the broker is done; anything allowed has been routed by now
    for c in (watcher, device):
        c.loop_stop()
        c.disconnect()
    return got


def _passwd_line(passwd: Path, user: str) -> str:
    return next(line for line in passwd.read_text().splitlines() if line.startswith(user + ":"))


def test_dotted_ids_that_used_to_share_a_user_get_their_own_users_passwords_and_acls(
    tmp_path: Path,
) -> None:
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    add_device(passwd, acl, "ops", "ingest", [], password="ingest-pw", reader=True)
    # Under <tenant>.<device> both of these were the user "a.b.c".
    first, first_pw = add_device(passwd, acl, "a.b", "c", ["z1"])
    first_entry, first_acl = _passwd_line(passwd, first), acl.read_text()
    second, second_pw = add_device(passwd, acl, "a", "b.c", ["z2"])
    assert (first, second) == ("a.b/c", "a/b.c")
    assert _passwd_line(passwd, first) == first_entry  # adding the second left it alone
    assert first_acl in acl.read_text()
    assert "\n".join(acl_lines("a", "b.c", ["z2"])) in acl.read_text()
    server = _broker(tmp_path, passwd, acl)
    try:
        for user, password in ((first, second_pw), (second, first_pw)):
            c, rc = connect(server, user, password)  # neither password opens the other
            c.loop_stop()
            assert rc.is_failure
        topics = [readings_topic("a.b", "z1"), status_topic("a.b", "c"),
                  readings_topic("a", "z2"), status_topic("a", "b.c")]
        assert _received(server, first, first_pw, topics) == topics[:2]
        assert _received(server, second, second_pw, topics) == topics[2:]
    finally:
        server.stop()


def _legacy(passwd: Path, acl: Path, tenant: str, device: str, asset: str, password: str) -> str:
    """An entry as idleshare wrote it before: user <tenant>.<device>, same ACL rules."""
    user = f"{tenant}.{device}"
    subprocess.run([MOSQUITTO_PASSWD, "-b", str(passwd), user, password], check=True)
    block = acl_lines(tenant, device, [asset])
    acl.write_text(acl.read_text() + "\n".join([f"user {user}", *block[1:]]) + "\n\n")
    return user


def _can_connect(server: MosquittoServer, user: str, password: str) -> bool:
    c, rc = connect(server, user, password)
    c.loop_stop()
    c.disconnect()
    return not rc.is_failure


def test_old_dotted_users_keep_working_until_their_device_is_added_again(tmp_path: Path) -> None:
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    add_device(passwd, acl, "ops", "ingest", [], password="ingest-pw", reader=True)
    old = _legacy(passwd, acl, "acme", "agent-1", "z1", "old-pw")
    other = _legacy(passwd, acl, "globex", "agent-9", "g1", "globex-pw")
    # "x.y.z" is the old name of both (x.y, z) and (x, y.z); this one is (x.y, z)'s.
    ambiguous = _legacy(passwd, acl, "x.y", "z", "q1", "xy-pw")
    server = _broker(tmp_path, passwd, acl)
    try:
        assert _received(server, old, "old-pw", [readings_topic("acme", "z1")]) == [
            readings_topic("acme", "z1")]
        user, password = add_device(passwd, acl, "acme", "agent-1", ["z1"])
        add_device(passwd, acl, "x", "y.z", ["q2"])  # must not take (x.y, z)'s old entry
        assert f"user {old}" not in acl.read_text() and old + ":" not in passwd.read_text()
        assert server.proc is not None
        server.proc.send_signal(signal.SIGHUP)  # what `systemctl reload mosquitto` does
        deadline = time.monotonic() + 10
        while _can_connect(server, old, "old-pw") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _can_connect(server, old, "old-pw")  # no second valid password left behind
        assert _received(server, user, password, [readings_topic("acme", "z1")]) == [
            readings_topic("acme", "z1")]
        for name, pw, tenant, asset in ((other, "globex-pw", "globex", "g1"),
                                        (ambiguous, "xy-pw", "x.y", "q1")):
            assert _received(server, name, pw, [readings_topic(tenant, asset)]) == [
                readings_topic(tenant, asset)]
    finally:
        server.stop()


def test_the_cli_prints_the_user_escaped_for_a_broker_url(tmp_path: Path) -> None:
    result = devices_add("ops", "ingest", tmp_path / "p", tmp_path / "a",
                         "--reader", "--data-dir", str(tmp_path / "data"))
    assert result.exit_code == 0, result.output
    assert f"username: {username('ops', 'ingest')}\n" in result.output
    assert "mqtt://ops%2Fingest:<password>@<host>" in result.output
    # ingest's IDLESHARE_MQTT_URL, written that way, connects as the user itself
    assert MqttUrl.parse("mqtt://ops%2Fingest:pw@127.0.0.1").username == "ops/ingest"
