"""Fixtures for ingest against the real broker: a publishing agent, a dead-letter listener,
and Ingest instances whose persistent sessions are removed afterwards."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from idleshare import wire
from idleshare.assets import Asset
from ingest import deadletter
from ingest.service import Ingest
from storage.catalog import Catalog
from storage.readings import ReadingStore
from storage.sqlite import SqliteReadingStore
from tests.ingest.fakes import FakeClient, GatedStore
from tests.servers import MosquittoServer


def wait_for(condition: Callable[[], bool], state: Callable[[], object] = lambda: "",
             timeout_s: float = 15.0) -> None:
    """Poll ``condition``; on timeout fail showing ``state()``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout_s} s: {state()}")
        time.sleep(0.02)


def connected(server: MosquittoServer, client_id: str, **kwargs: Any) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, **kwargs)
    client.connect("127.0.0.1", server.port)
    client.loop_start()
    return client


class Agent:
    """Publishes like an edge agent: QoS 1, waiting until the broker has each message."""

    def __init__(self, server: MosquittoServer, tenant: str, agent_id: str = "agent-1") -> None:
        self.tenant, self.id = tenant, agent_id
        self.client = connected(server, f"agent-{uuid.uuid4().hex[:8]}")

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(10)
        assert info.is_published()

    def birth(self, *assets: Asset) -> None:
        self.publish(wire.status_topic(self.tenant, self.id),
                     wire.encode_status(self.id, "online", time.time(), "test",
                                        [a.to_dict() for a in assets]))

    def pack(self, asset: str, seq: int, *measurements: wire.Measurement) -> bytes:
        payload = wire.encode_pack(self.tenant, asset, self.id, seq, measurements)
        self.publish(wire.readings_topic(self.tenant, asset), payload)
        return payload

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class DeadLetters:
    """Every dead letter about one tenant's topics."""

    def __init__(self, server: MosquittoServer, tenant: str) -> None:
        self.tenant = tenant
        self.letters: list[dict[str, Any]] = []
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"dl-{tenant}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", server.port)
        self.client.subscribe(deadletter.TOPIC, qos=1)
        self.client.loop_start()
        assert subscribed.wait(10)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        letter = json.loads(msg.payload)
        if f"/{self.tenant}/" in letter["topic"]:
            self.letters.append(letter)

    def reasons(self) -> list[str]:
        return sorted(letter["reason"] for letter in list(self.letters))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def tenant() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def agent(mosquitto: MosquittoServer, tenant: str) -> Iterator[Agent]:
    a = Agent(mosquitto, tenant)
    yield a
    a.close()


@pytest.fixture
def deadletters(mosquitto: MosquittoServer, tenant: str) -> Iterator[DeadLetters]:
    d = DeadLetters(mosquitto, tenant)
    yield d
    d.close()


#: Ingest as ``idleshare ingest`` runs it (MQTT 5), flushing and retrying quickly: the drills'.
DRILL_INGEST: dict[str, Any] = {"protocol": mqtt.MQTTv5, "flush_interval_s": 0.2,
                                "retry_max_s": 1.0}


def ingests(catalog: Catalog, url: str, **defaults: Any) -> Iterator[Callable[..., Ingest]]:
    """For ``yield from`` in a fixture: ``make(store, **kwargs)`` starts an Ingest on ``url``
    with ``defaults`` overridden by ``kwargs`` and waits until it subscribed; each is stopped
    when the fixture ends."""
    made: list[Ingest] = []

    def make(store: ReadingStore, **kwargs: Any) -> Ingest:
        ingest = Ingest(store, catalog, url, **{**defaults, **kwargs}).start()
        made.append(ingest)
        assert ingest.wait_ready(10), "ingest did not subscribe"
        return ingest

    yield make
    for ingest in made:
        ingest.stop()


@pytest.fixture
def make_ingest(mosquitto: MosquittoServer, catalog: Catalog, tenant: str,
                sqlite_store: SqliteReadingStore) -> Iterator[Callable[..., Ingest]]:
    """``make_ingest(store, **kwargs)``: a started, subscribed Ingest of this test's tenant
    only (other tests share the broker) with its own client id; stopped afterwards, and its
    persistent session removed. It depends on ``sqlite_store`` so that it stops first."""
    yield from ingests(catalog, mosquitto.url, client_id=f"ingest-{tenant}", tenant_filter=tenant,
                       flush_interval_s=0.2, retry_max_s=0.5)
    # A clean connection with the same client id ends the session the broker kept for it.
    clean = connected(mosquitto, f"ingest-{tenant}", clean_session=True)
    clean.disconnect()
    clean.loop_stop()


#: ``fake_ingest(store, catalog, **kwargs)``: an Ingest on a FakeClient, and that client.
FakeStart = Callable[..., tuple[Ingest, FakeClient]]


@pytest.fixture
def fake_ingest(sqlite_store: SqliteReadingStore) -> Iterator[FakeStart]:
    """Starts Ingests whose MQTT client is a FakeClient (the test plays the broker); each is
    stopped at the end. It depends on ``sqlite_store`` so that it stops first."""
    made: list[Ingest] = []

    def start_one(store: ReadingStore, catalog: Catalog, **kwargs: Any
                  ) -> tuple[Ingest, FakeClient]:
        clients: list[FakeClient] = []

        def factory(client_id: str, protocol: int) -> FakeClient:
            clients.append(FakeClient(client_id, protocol))
            return clients[-1]

        ingest = Ingest(store, catalog, "mqtt://broker", client_factory=factory,  # type: ignore[arg-type]
                        flush_interval_s=0.05, idle_flush_s=0.01, **kwargs).start()
        made.append(ingest)
        return ingest, clients[0]

    yield start_one
    for ingest in made:
        ingest.stop()


@pytest.fixture
def gated_store(tmp_path: Path) -> GatedStore:
    return GatedStore(tmp_path / "gated.db")


class Process:
    """A drill's child process (ingest or an agent), started by ``spawn``: killed outright
    and started again as a crash and a restart would, and asked to stop at the end."""

    def __init__(self, spawn: Callable[[], subprocess.Popen[bytes]]) -> None:
        self.spawn, self.proc = spawn, spawn()

    def crash_and_restart(self, between: Callable[[], Any] = lambda: None) -> Any:
        """SIGKILL (nothing flushed, nothing said goodbye), ``between()``, a new process; what
        ``between`` returned."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        seen = between()
        self.proc = self.spawn()
        return seen

    def stop_cleanly(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(20) == 0, "the process did not stop cleanly on SIGTERM"

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.proc.kill()
