"""The agent with a fake MQTT client: sampling, outbox, acknowledgements, birth and will."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import idleshare
from edge_agent.agent import Agent
from edge_agent.config import AgentConfig
from edge_agent.sources.simulator import SimulatorSource
from idleshare import wire
from tests.edge_agent.fakes import FakeClient, ManualClock, agent_config
from tests.edge_agent.packs import decode_pack

T0 = 1_700_000_040.0  # on the 60 s grid
Factory = Callable[[str], FakeClient]
Runner = Callable[..., tuple[Agent, FakeClient, ManualClock]]


def wait_until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


@pytest.fixture
def running(
    tmp_path: Path, fake_clients: tuple[list[FakeClient], Factory]
) -> Iterator[Runner]:
    """Start agents on a hand-moved clock; stop them after the test."""
    made, factory = fake_clients
    agents: list[Agent] = []

    def start(config: AgentConfig | None = None) -> tuple[Agent, FakeClient, ManualClock]:
        clock = ManualClock(T0)
        agent = Agent(config or agent_config(tmp_path / "outbox.db"), client_factory=factory,
                      clock=clock, tick_s=0.005)
        agent.start()
        agents.append(agent)
        return agent, made[-1], clock

    yield start
    for agent in agents:
        agent.stop(drain_s=0)


def online(running: Runner, config: AgentConfig | None = None
           ) -> tuple[Agent, FakeClient, ManualClock]:
    """An agent started and connected, once its first two packs (zone and truck) are out."""
    agent, client, clock = running(config)
    client.connect()
    wait_until(lambda: len(client.readings()) == 2)
    return agent, client, clock


def test_start_sets_a_retained_offline_will_and_connects_in_the_background(running: Runner) -> None:
    _, client, _ = running()
    topic, payload, qos, retain = client.calls["will_set"]
    assert topic == wire.status_topic("acme", "gw-test") and qos == 1 and retain
    assert json.loads(payload)["state"] == "offline"
    assert client.client_id == "gw-test"
    assert client.calls["connect_async"] == ("127.0.0.1", 1883, 30)
    assert client.calls["reconnect_delay_set"] == (1, 60)
    assert client.calls["loop_start"]
    assert "username_pw_set" not in client.calls and "tls_set" not in client.calls


def test_credentials_and_tls_files_are_handed_to_the_client(
    running: Runner, tmp_path: Path
) -> None:
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_text("x")
    mqtt = (f"\n[mqtt]\nurl = 'mqtts://broker.example:8884'\nusername = 'gw'\n"
            f"password = 's3cret'\nca_file = '{tmp_path / 'ca.pem'}'\n"
            f"cert_file = '{tmp_path / 'client.pem'}'\n"
            f"key_file = '{tmp_path / 'client.key'}'\n")
    config = agent_config(tmp_path / "outbox.db", extra=mqtt)
    _, client, _ = running(config)
    assert client.calls["username_pw_set"] == ("gw", "s3cret")
    assert client.calls["tls_set"] == (str(tmp_path / "ca.pem"), str(tmp_path / "client.pem"),
                                       str(tmp_path / "client.key"))
    assert client.calls["connect_async"][:2] == ("broker.example", 8884)


def test_on_connect_publishes_a_retained_birth_with_every_asset(running: Runner) -> None:
    agent, client, _ = running()
    client.connect()
    birth = client.sent[0]
    assert birth.topic == wire.status_topic("acme", "gw-test") and birth.retain and birth.qos == 1
    status = json.loads(birth.payload)
    assert status["state"] == "online" and status["agent"] == "gw-test"
    assert status["version"] == idleshare.__version__
    expected = [a.to_asset("acme").to_dict() for a in agent.config.assets]
    assert status["assets"] == expected
    assert status["assets"][1]["metrics"] == ["in_use", "load", "lat", "lon"]


def test_rows_leave_the_outbox_only_with_their_storage_receipt_not_on_puback(
    running: Runner
) -> None:
    agent, client, _ = running()
    wait_until(lambda: agent.stats.sampled == 5)  # zone: occupied; truck: 4 metrics
    client.connect()
    wait_until(lambda: len(client.readings()) == 2)
    zone, truck = client.readings()
    for s in (zone, truck):
        client.ack(s.mid)
    wait_until(lambda: agent.outbox.sent_readings() == 5)  # PUBACK: queued -> sent
    assert agent.stats.queued == 5 and agent.stats.published == 0
    client.receipt([client.seq(truck)])
    wait_until(lambda: agent.stats.queued == 1)
    assert agent.stats.published == 4 and agent.stats.last_publish_time is not None
    client.receipt([client.seq(zone)])
    wait_until(lambda: agent.stats.queued == 0)
    packs = [decode_pack(s.payload) for s in client.readings()]
    assert [(p.asset, p.agent) for p in packs] == [("zone-a", "gw-test"), ("truck-1", "gw-test")]
    assert packs[0].seq < packs[1].seq
    assert all(m.time == T0 for p in packs for m in p.measurements)


def test_sent_unreceipted_messages_are_sent_again_with_the_same_seq_after_a_restart(
    running: Runner, tmp_path: Path
) -> None:
    agent, client, _ = online(running)
    for s in client.readings():
        client.ack(s.mid)  # both PUBACKed: "sent"
    client.receipt([client.seq(client.readings()[0])])  # only the first is stored
    wait_until(lambda: agent.stats.queued == 4)
    agent.stop(drain_s=0)

    _, client2, _ = running()
    client2.connect()
    wait_until(lambda: len(client2.readings()) >= 1)
    time.sleep(0.05)
    assert [json.loads(s.payload) for s in client2.readings()] == [
        json.loads(client.readings()[1].payload)]


def test_readings_taken_offline_leave_in_packs_after_connecting(
    tmp_path: Path, running: Runner
) -> None:
    agent, client, clock = running(agent_config(tmp_path / "outbox.db", max_pack=8))
    clock.t += 60 * 9  # ten samples of each asset are due
    wait_until(lambda: agent.stats.sampled == 50)
    assert client.readings() == []  # nothing is handed over while offline
    client.connect()
    wait_until(lambda: sum(len(json.loads(s.payload)) for s in client.readings()) == 50)
    packs = [decode_pack(s.payload) for s in client.readings()]
    assert max(len(p.measurements) for p in packs) == 8
    assert [p.seq for p in packs] == sorted({p.seq for p in packs})
    zone_times = [m.time for p in packs if p.asset == "zone-a" for m in p.measurements]
    assert zone_times == [T0 + 60 * i for i in range(10)]  # every due time, in order


def test_messages_handed_over_before_a_drop_are_left_to_paho_to_resend(running: Runner) -> None:
    agent, client, clock = online(running)
    client.drop()
    clock.t += 60
    wait_until(lambda: agent.stats.sampled == 10)
    time.sleep(0.05)
    assert len(client.readings()) == 2  # no duplicates from the agent while offline
    client.connect()
    wait_until(lambda: len(client.readings()) == 4)
    for s in client.readings():
        client.ack(s.mid)
    client.receipt([client.seq(s) for s in client.readings()])
    wait_until(lambda: agent.stats.queued == 0)
    assert agent.stats.published == 10


def test_a_failing_source_is_counted_and_the_others_keep_reporting(
    running: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_read = SimulatorSource.read

    def flaky(self: SimulatorSource, t: float) -> list[wire.Measurement]:
        if self.asset.id == "truck-1":
            raise OSError("sensor unplugged")
        return real_read(self, t)

    monkeypatch.setattr(SimulatorSource, "read", flaky)
    agent, _, clock = running()
    clock.t += 120
    wait_until(lambda: agent.stats.read_errors == 3)
    assert agent.stats.sampled == 3


def test_stop_publishes_a_retained_offline_status(running: Runner) -> None:
    agent, client, _ = running()
    client.connect()
    agent.stop(drain_s=0)
    last = client.sent[-1]
    assert last.retain and json.loads(last.payload)["state"] == "offline"
    assert client.calls["disconnect"] and client.calls["loop_stop"]


def _statuses(client: FakeClient) -> list[dict]:
    return [json.loads(s.payload) for s in client.sent if s.topic.endswith("/status")]


def test_the_retained_status_carries_queue_depth_and_the_dropped_count(
    running: Runner, tmp_path: Path
) -> None:
    agent, client, _ = running()
    wait_until(lambda: agent.stats.sampled == 5)
    agent.outbox._db.execute("INSERT OR REPLACE INTO meta VALUES ('dropped', '42')")
    client.connect()
    wait_until(lambda: bool(_statuses(client)))
    first = _statuses(client)[0]
    assert (first["state"], first["queued"], first["dropped"]) == ("online", 5, 42)
    assert client.sent[0].retain


def test_a_restarted_agent_resumes_after_its_last_stored_sample(
    running: Runner, tmp_path: Path
) -> None:
    agent, _, clock = running()
    clock.t += 120
    wait_until(lambda: agent.stats.sampled == 15)
    agent.stop(drain_s=0)
    again, _, clock2 = running()  # its clock starts at T0 again, as after a reboot into the past
    clock2.t += 180
    wait_until(lambda: again.stats.sampled == 5)  # only T0 + 180 is new
    time.sleep(0.05)
    assert again.stats.sampled == 5
    again.outbox.pack(50)
    times = {m.time for msg in again.outbox.messages(100) for m in msg.measurements}
    assert times == {T0 + 60 * i for i in range(4)}  # one copy of each, none twice


def test_deadband_and_heartbeat_thin_out_unchanging_metrics(
    running: Runner, tmp_path: Path
) -> None:
    extra = ("[assets.metrics.lat]\ndeadband = 1.0\nheartbeat_s = 180\n"
             "[assets.metrics.lon]\ninterval_s = 120\n")
    agent, _, clock = running(agent_config(tmp_path / "outbox.db", extra=extra))
    clock.t += 60 * 6  # seven samples of each asset
    wait_until(lambda: agent.stats.sampled >= 7 + 7 * 2 + 3 + 4)
    time.sleep(0.05)
    agent.outbox.pack(50)
    counts: dict[str, int] = {}
    for msg in agent.outbox.messages(100):
        for m in msg.measurements:
            counts[m.name] = counts.get(m.name, 0) + 1
    # The parked truck's latitude never moves: reported at T0, T0+180 and T0+360 (heartbeat).
    assert counts == {"occupied": 7, "in_use": 7, "load": 7, "lat": 3, "lon": 4}


def test_without_receipts_the_broker_acknowledgement_deletes_as_plain_mqtt(
    running: Runner, tmp_path: Path
) -> None:
    agent, client, _ = online(running, agent_config(tmp_path / "outbox.db",
                                                     extra="[mqtt]\nreceipts = false\n"))
    assert client.subscriptions == []
    assert _statuses(client)[0]["receipts"] is False
    for s in client.readings():
        client.ack(s.mid)
    wait_until(lambda: agent.stats.queued == 0)
    assert agent.stats.published == 5


def test_the_birth_announces_receipts_after_subscribing_to_its_own_receipts_topic(
    running: Runner
) -> None:
    _, client, _ = running()
    client.connect()
    wait_until(lambda: bool(_statuses(client)))
    assert client.subscriptions == [("idleshare/v1/acme/agents/gw-test/receipts", 1)]
    assert _statuses(client)[0]["receipts"] is True


def test_a_puback_without_receipt_is_sent_again_after_the_timeout_with_the_same_content(
    running: Runner, tmp_path: Path
) -> None:
    agent, client, _ = online(running, agent_config(tmp_path / "outbox.db",
                                                     extra="[mqtt]\nreceipt_timeout_s = 1\n"))
    first = client.readings()
    for s in first:
        client.ack(s.mid)
    time.sleep(0.5)
    assert len(client.readings()) == 2  # not before the timeout
    wait_until(lambda: len(client.readings()) == 4, timeout=3.0)
    assert [s.payload for s in client.readings()[2:]] == [s.payload for s in first]
    for s in client.readings()[2:]:
        client.ack(s.mid)

    def second_wait() -> list[tuple[int, float]]:
        with agent.outbox._lock:
            rows = agent.outbox._db.execute("SELECT attempts, due FROM sent WHERE acked = 1")
            return [(attempts, due - time.time()) for attempts, due in rows.fetchall()]

    wait_until(lambda: len(second_wait()) == 2)
    assert all(attempts == 2 and 1.0 < wait <= 2.0 for attempts, wait in second_wait())


def test_a_rejected_receipt_deletes_the_message_and_counts_its_readings(
    running: Runner
) -> None:
    agent, client, _ = online(running)
    zone, truck = client.readings()
    client.receipt([client.seq(zone)], {"out_of_range": [client.seq(truck)]})
    wait_until(lambda: agent.stats.queued == 0)
    assert (agent.stats.published, agent.stats.rejected, agent.outbox.rejected) == (1, 4, 4)


def test_a_full_receipt_window_sends_nothing_new_until_receipts_come(
    running: Runner, tmp_path: Path
) -> None:
    agent, client, _ = running(agent_config(
        tmp_path / "outbox.db", max_pack=1, extra="[mqtt]\nreceipt_window = 3\n"))
    client.connect()
    wait_until(lambda: len(client.readings()) == 3)
    for s in client.readings():
        client.ack(s.mid)
    time.sleep(0.1)
    assert len(client.readings()) == 3 and agent.stats.queued == 5  # two wait on the gateway
    client.receipt([client.seq(s) for s in client.readings()])
    wait_until(lambda: len(client.readings()) == 5)


def test_a_malformed_receipt_is_counted_and_ignored(running: Runner) -> None:
    agent, client, _ = online(running)
    assert client.on_message is not None
    client.on_message(client, None, type("M", (), {
        "topic": "idleshare/v1/acme/agents/gw-test/receipts", "payload": b"[1, 2]"})())
    wait_until(lambda: agent._publisher is not None and agent._publisher.bad_receipts == 1)
    assert agent.stats.queued == 5


SLOW = """
[[assets]]
id = "slow-1"
kind = "warehouse_zone"
capacity = 400
source = "command"
interval_s = 60
[assets.command]
argv = ["sh", "-c", "sleep 3; echo 5"]
timeout_s = 10
"""


def test_a_slow_command_source_delays_neither_the_other_assets_nor_receipts(
    running: Runner, tmp_path: Path
) -> None:
    # Zone and truck are out; slow-1 is still running.
    agent, client, clock = online(running, agent_config(tmp_path / "outbox.db", extra=SLOW))
    started = time.monotonic()
    client.receipt([client.seq(s) for s in client.readings()])
    clock.t += 60
    wait_until(lambda: len(client.readings()) == 4, timeout=2.0)
    wait_until(lambda: agent.stats.published == 5, timeout=2.0)
    assert time.monotonic() - started < 2.0  # well inside the command's 3 s
    assert not any("slow-1" in s.topic for s in client.readings())
    wait_until(lambda: any("slow-1" in s.topic for s in client.readings()), timeout=10.0)


def test_a_repeating_failure_logs_one_traceback_then_a_line_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from edge_agent.agent import Throttled

    throttled = Throttled("publishing", every_s=0.2)
    with caplog.at_level("ERROR", logger="edge_agent.agent"):
        for _ in range(50):
            throttled.failed(OSError("disk I/O error"))
        time.sleep(0.25)
        throttled.failed(OSError("disk I/O error"))
    # Only the agent's own lines: a thread another test left running may log meanwhile.
    records = [r for r in caplog.records if r.name == "edge_agent.agent"]
    assert len(records) == 2
    assert records[0].exc_info is not None
    assert "failed 50 times" in records[1].getMessage()
