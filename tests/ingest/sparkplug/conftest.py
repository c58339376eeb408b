"""Fixtures for Sparkplug B against the real broker: an edge node publishing protobuf payloads,
a listener for the commands the service sends, and a started service with its mapping."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ingest.sparkplug import mapping
from ingest.sparkplug.payload import NAMESPACE
from ingest.sparkplug.service import SparkplugIngest
from ingest.sparkplug.sparkplug_payload_pb2 import Payload
from storage.catalog import Catalog
from storage.readings import ReadingStore
from storage.sqlite import SqliteReadingStore
from tests.ingest.conftest import DeadLetters, connected
from tests.ingest.sparkplug.payloads import ndeath
from tests.servers import MosquittoServer

EDGE_NODE = "Line 3"
DEVICE = "Press 7"

MAPPING = """
tenant = "{tenant}"

[[asset]]
group = "{group}"
edge_node = "Line 3"
device = "Press 7"
id = "press-7"
kind = "machine"
capacity = 1
metrics = {{ "Status/Running" = "running", "Power" = {{ metric = "power", scale = 0.001 }} }}

[[asset]]
group = "{group}"
edge_node = "Line 3"
id = "bay-1"
kind = "warehouse_zone"
capacity = 40
metrics = {{ "Bay/Occupied" = "occupied" }}
"""


class EdgeNode:
    """Publishes like a Sparkplug edge node (its NDEATH as the will), at QoS 1 so that the
    broker holds each message for the service until acknowledged."""

    def __init__(self, server: MosquittoServer, group: str, bd_seq: int = 0) -> None:
        self.group = group
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"edge-{uuid.uuid4().hex[:8]}")
        self.client.will_set(self.topic("NDEATH"), ndeath(bd_seq).SerializeToString(), qos=1)
        self.client.connect("127.0.0.1", server.port)
        self.client.loop_start()

    def topic(self, verb: str, device: str = "") -> str:
        return f"{NAMESPACE}/{self.group}/{verb}/{EDGE_NODE}" + (f"/{device}" if device else "")

    def send(self, verb: str, payload: Payload | bytes, device: str = "") -> None:
        raw = payload if isinstance(payload, bytes) else payload.SerializeToString()
        info = self.client.publish(self.topic(verb, device), raw, qos=1)
        info.wait_for_publish(10)
        assert info.is_published()

    def drop_connection(self) -> None:
        """Lose the connection without DISCONNECT: the broker publishes the will."""
        self.client.loop_stop()
        sock = self.client.socket()
        assert isinstance(sock, socket.socket)
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Commands:
    """Every NCMD sent to the group's edge nodes, decoded."""

    def __init__(self, server: MosquittoServer, group: str) -> None:
        self.received: list[Payload] = []
        subscribed = threading.Event()
        self.client = connected(server, f"cmd-{uuid.uuid4().hex[:8]}")
        self.client.on_message = lambda _c, _u, msg: self.received.append(
            Payload.FromString(msg.payload))
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.subscribe(f"{NAMESPACE}/{group}/NCMD/{EDGE_NODE}", qos=1)
        assert subscribed.wait(10)

    def rebirths(self) -> int:
        return sum(1 for p in list(self.received) for m in p.metrics
                   if m.name == "Node Control/Rebirth" and m.boolean_value)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def group() -> str:
    """The test's own Sparkplug group (other tests share the broker); ``tenant`` is ingest's."""
    return f"Plant {uuid.uuid4().hex[:8]}"


@pytest.fixture
def plant_mapping(group: str, tenant: str) -> mapping.Mapping:
    return mapping.parse(MAPPING.format(group=group, tenant=tenant))


@pytest.fixture
def edge(mosquitto: MosquittoServer, group: str) -> Iterator[EdgeNode]:
    node = EdgeNode(mosquitto, group)
    yield node
    node.close()


@pytest.fixture
def commands(mosquitto: MosquittoServer, group: str) -> Iterator[Commands]:
    listener = Commands(mosquitto, group)
    yield listener
    listener.close()


@pytest.fixture
def deadletters(mosquitto: MosquittoServer, group: str) -> Iterator[DeadLetters]:
    letters = DeadLetters(mosquitto, group)  # letters whose topic has "/{group}/"
    yield letters
    letters.close()


@pytest.fixture
def make_service(mosquitto: MosquittoServer, sqlite_catalog: Catalog, group: str,
                 sqlite_store: SqliteReadingStore) -> Iterator[Callable[..., SparkplugIngest]]:
    """``make_service(mapping, store=sqlite_store, **kwargs)``: started and subscribed, with
    the same client id (so the same persistent session) each time in a test; stopped
    afterwards and the session removed."""
    client_id = f"spb-{uuid.uuid4().hex[:8]}"
    made: list[SparkplugIngest] = []

    def make(plant: mapping.Mapping, store: ReadingStore = sqlite_store,
             **kwargs: Any) -> SparkplugIngest:
        defaults: dict[str, Any] = dict(client_id=client_id, flush_interval_s=0.2,
                                        retry_max_s=0.5, reorder_timeout_s=0.3)
        service = SparkplugIngest(store, sqlite_catalog, mosquitto.url, plant,
                                  **{**defaults, **kwargs}).start()
        made.append(service)
        assert service.wait_ready(10), "the service did not subscribe"
        return service

    yield make
    for service in made:
        service.stop()
    clean = connected(mosquitto, client_id, clean_session=True)
    clean.disconnect()
    clean.loop_stop()
