"""Drills against a real Mosquitto: outages, SIGKILL, a full disk budget, bad credentials, TLS.

Each checks what the issue promises: every reading arrives, none is stored twice, losses are
counted and reported, and the agent never dies of a network or broker problem.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from edge_agent.agent import Agent
from edge_agent.config import parse
from idleshare import wire
from tests.edge_agent.drills import (
    MIXED,
    agent_toml,
    arrivals,
    assert_none_twice,
    outbox_keys,
    zones,
)
from tests.edge_agent.test_agent_mqtt import Subscriber, assert_complete_series, wait_until
from tests.servers import MosquittoServer, free_port, start_mosquitto, wait_for_port

pytestmark = pytest.mark.servers
Subscribe = Callable[[int, str, str], Subscriber]


def test_broker_down_for_60_s_every_reading_arrives_once(
    own_mosquitto: MosquittoServer, tmp_path: Path, subscribe: Subscribe
) -> None:
    sub = subscribe(own_mosquitto.port, "idleshare/v1/drill60/+/readings", "drill60-sub")
    # A clock 20x faster than real time: ~100 readings a second pile up during the outage.
    cfg = parse(agent_toml(own_mosquitto.url, "drill60", tmp_path / "o.db", MIXED,
                           clock='[clock]\nstart = "-3h"\nspeed = 20\n'))
    agent = Agent(cfg)
    agent.start()
    try:
        wait_until(lambda: agent.stats.published > 100, 15, "readings to flow")
        own_mosquitto.stop()
        wait_until(lambda: not agent.stats.connected, 10, "the agent to notice the outage")
        time.sleep(60)
        assert agent.stats.queued > 5000
        own_mosquitto.start()
        wait_until(lambda: agent.stats.connected and agent.stats.queued < 200, 60,
                   "the backlog to drain")
    finally:
        agent.stop(drain_s=10)
    assert agent.stats.queued == 0
    sampled = agent.stats.sampled
    wait_until(lambda: len(arrivals(sub)) >= sampled, 30, "every reading at the subscriber")
    seen = arrivals(sub)
    assert len(seen) == sampled
    assert_none_twice(seen)
    assert assert_complete_series(sub.packs(), 1) == sampled  # no holes in any series


def _run_agent(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "edge_agent", "run", "--config", str(config)],
                            stderr=subprocess.PIPE, text=True)


def test_agent_killed_mid_outage_loses_nothing_after_restart(
    own_mosquitto: MosquittoServer, tmp_path: Path, subscribe: Subscribe
) -> None:
    sub = subscribe(own_mosquitto.port, "idleshare/v1/drillkill/+/readings", "drillkill-sub")
    outbox = tmp_path / "o.db"
    config = tmp_path / "agent.toml"
    config.write_text(agent_toml(own_mosquitto.url, "drillkill", outbox, zones(10)))
    proc = _run_agent(config)
    try:
        wait_until(lambda: len(arrivals(sub)) >= 20, 15, "readings to flow")
        own_mosquitto.stop()
        time.sleep(4)  # ~40 readings wait in the outbox
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=5)
        stranded = outbox_keys(outbox)
        assert len(stranded) >= 30
        proc = _run_agent(config)  # restarted while the broker is still down
        time.sleep(2)
        own_mosquitto.start()
        wait_until(lambda: stranded <= set(arrivals(sub)), 30, "the stranded readings")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    seen = arrivals(sub)
    assert_none_twice(seen)
    last_before_kill = max(t for _, _, t in stranded)
    for i in range(10):  # every second sampled before the kill arrived, holes none
        times = sorted(t for a, _, t in seen if a == f"zone-{i:02d}" and t <= last_before_kill)
        assert times == [times[0] + k for k in range(len(times))], f"zone-{i:02d}"


def test_over_the_disk_budget_oldest_go_the_count_is_reported_and_the_agent_recovers(
    own_mosquitto: MosquittoServer, tmp_path: Path, subscribe: Subscribe
) -> None:
    own_mosquitto.stop()  # the agent starts offline: everything piles up
    cfg = parse(agent_toml(own_mosquitto.url, "drilldisk", tmp_path / "o.db", MIXED,
                           extra_mqtt="status_interval_s = 1\n", buffer="max_mb = 0.25\n",
                           clock='[clock]\nstart = "-2h"\nspeed = 600\n'))
    agent = Agent(cfg)
    agent.start()
    try:
        wait_until(lambda: agent.stats.dropped > 1000, 30, "the budget to overflow")
        assert agent.outbox.used_bytes() <= cfg.buffer.max_bytes
        own_mosquitto.start()
        status = subscribe(own_mosquitto.port, wire.status_topic("drilldisk", "gw-drilldisk"),
                           "drilldisk-status")
        readings = subscribe(own_mosquitto.port, "idleshare/v1/drilldisk/+/readings",
                             "drilldisk-sub")
        wait_until(lambda: agent.clock.caught_up() and agent.stats.queued == 0, 60,  # type: ignore[attr-defined]
                   "the agent to catch up and drain")
        dropped = agent.stats.dropped

        def reported() -> int:
            return max((json.loads(m.payload).get("dropped", 0) for m in status.messages),
                       default=0)

        wait_until(lambda: reported() == dropped, 15, "the dropped count in the status")
        assert agent._thread is not None and agent._thread.is_alive()
    finally:
        agent.stop()
    seen = arrivals(readings)
    assert_none_twice(seen)
    # The newest readings survived: the series is unbroken from the first kept one to the end.
    kept = sorted(t for a, n, t in seen if (a, n) == ("zone-a", "occupied"))
    assert kept == [kept[0] + k for k in range(len(kept))]
    assert kept[0] > agent.clock.start + 60  # the oldest were the ones dropped


def _passwords(tmp_path: Path) -> str:
    path = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(path), "gw-drillauth", "right"],
                   check=True, capture_output=True)
    path.chmod(0o600)
    return f"password_file {path}\n"


def _retries(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in r.getMessage() and "retrying in" in r.getMessage() for r in caplog.records)


def test_wrong_credentials_are_logged_clearly_and_retried_without_a_crash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = start_mosquitto(tmp_path / "broker",
                             extra="allow_anonymous false\n" + _passwords(tmp_path))
    try:
        def agent(password: str, name: str) -> Agent:
            auth = f'username = "gw-drillauth"\npassword = "{password}"\n'
            return Agent(parse(agent_toml(broker.url, "drillauth", tmp_path / name, zones(1),
                                          extra_mqtt=auth)))

        wrong = agent("wrong", "wrong.db")
        with caplog.at_level(logging.INFO, logger="edge_agent"):
            wrong.start()
            refused = "the broker refused the connection: Not authorized; check mqtt.username"
            wait_until(lambda: _retries(caplog, refused) >= 3, 15, "three refused attempts")
            assert wrong._thread is not None and wrong._thread.is_alive()
            assert not wrong.stats.connected and wrong.stats.queued > 0  # still storing
            wrong.stop(drain_s=0)
            right = agent("right", "right.db")  # the same broker takes the right password
            right.start()
            wait_until(lambda: right.stats.published > 0, 10, "the right password to work")
            right.stop()
    finally:
        broker.stop()


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_certs(folder: Path) -> dict[str, Path]:
    """A CA and a server certificate for 127.0.0.1, plus an unrelated CA."""
    folder.mkdir()
    p = {name: folder / name for name in ("ca.key", "ca.crt", "other.key", "other.crt",
                                         "server.key", "server.csr", "server.crt", "san.ext")}
    for ca in ("ca", "other"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", f"/CN=idleshare test {ca}", "-keyout", str(p[f"{ca}.key"]),
                 "-out", str(p[f"{ca}.crt"]))
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", str(p["server.key"]), "-out", str(p["server.csr"]))
    p["san.ext"].write_text("subjectAltName = IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", str(p["server.csr"]), "-CA", str(p["ca.crt"]),
             "-CAkey", str(p["ca.key"]), "-CAcreateserial", "-days", "2",
             "-extfile", str(p["san.ext"]), "-out", str(p["server.crt"]))
    return p


def test_tls_errors_are_logged_clearly_and_retried_and_the_right_ca_connects(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    certs = make_certs(tmp_path / "certs")
    tls_port = free_port()
    broker = start_mosquitto(tmp_path / "broker", extra=(
        f"listener {tls_port} 127.0.0.1\ncafile {certs['ca.crt']}\n"
        f"certfile {certs['server.crt']}\nkeyfile {certs['server.key']}\n"))
    wait_for_port(tls_port)
    url = f"mqtts://127.0.0.1:{tls_port}"

    def agent(ca: str, name: str, url: str = url) -> Agent:
        return Agent(parse(agent_toml(url, "drilltls", tmp_path / name, zones(1),
                                      extra_mqtt=f'ca_file = "{certs[ca]}"\n')))

    try:
        with caplog.at_level(logging.INFO, logger="edge_agent"):
            untrusted = agent("other.crt", "untrusted.db")
            untrusted.start()
            text = f"TLS: the certificate of 127.0.0.1:{tls_port} is not trusted"
            wait_until(lambda: _retries(caplog, text) >= 3, 15, "three untrusted attempts")
            assert untrusted._thread is not None and untrusted._thread.is_alive()
            untrusted.stop(drain_s=0)

            plain = agent("ca.crt", "plain.db", url=f"mqtts://127.0.0.1:{broker.port}")
            plain.start()  # TLS to a plain listener
            text = f"TLS handshake with 127.0.0.1:{broker.port} failed"
            wait_until(lambda: _retries(caplog, text) >= 2, 15, "two failed handshakes")
            plain.stop(drain_s=0)

            trusted = agent("ca.crt", "trusted.db")
            trusted.start()
            wait_until(lambda: trusted.stats.published > 0, 10, "a publish over TLS")
            trusted.stop()
    finally:
        broker.stop()
