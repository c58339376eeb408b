"""Stand-ins for ingest's logic without a broker: paho's client, and a store that waits."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import paho.mqtt.client as mqtt

from storage.readings import Reading
from storage.sqlite import SqliteReadingStore


class FakeClient:
    """Records subscriptions, publications and acknowledgements; ``deliver`` plays the broker."""

    def __init__(self, client_id: str, protocol: int = mqtt.MQTTv311) -> None:
        self.client_id = client_id
        self.protocol = protocol
        self.subscriptions: list[str] = []
        self.published: list[tuple[str, bytes]] = []
        self.acks: list[int] = []
        self.publish_rc = 0  # what publish answers (paho: MQTT_ERR_SUCCESS)
        self.lock = threading.Lock()
        self.on_connect: Any = None
        self.on_disconnect: Any = None
        self.on_subscribe: Any = None
        self.on_message: Any = None
        self._mid = 0

    # what ingest calls
    def manual_ack_set(self, on: bool) -> None:
        assert on

    def reconnect_delay_set(self, min_delay: int, max_delay: int) -> None:
        pass

    def connect_async(self, *args: Any, **kwargs: Any) -> None:
        pass

    def loop_start(self) -> None:
        self.connect()

    def loop_stop(self) -> None:
        pass

    def disconnect(self) -> None:
        pass

    def subscribe(self, topic: str, qos: int = 0) -> tuple[int, int]:
        self._mid += 1
        self.subscriptions.append(topic)
        self.on_subscribe(self, None, self._mid, [SimpleNamespace(is_failure=False)], None)
        return 0, self._mid

    def publish(self, topic: str, payload: bytes, qos: int = 0) -> SimpleNamespace:
        with self.lock:
            self.published.append((topic, payload))
        return SimpleNamespace(rc=self.publish_rc, mid=len(self.published))

    def ack(self, mid: int, qos: int) -> None:
        with self.lock:
            self.acks.append(mid)

    # what the test calls
    def connect(self) -> None:
        self.on_connect(self, None, SimpleNamespace(session_present=False),
                        SimpleNamespace(is_failure=False), None)

    def drop(self) -> None:
        self.on_disconnect(self, None, None, "lost", None)

    def deliver(self, topic: str, payload: bytes, mid: int, retain: bool = False) -> None:
        msg = mqtt.MQTTMessage(mid, topic.encode())
        msg.payload, msg.qos, msg.retain = payload, 1, retain
        self.on_message(self, None, msg)


class GatedStore(SqliteReadingStore):
    """Writes only once the test opens the gate."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = threading.Event()

    def write(self, readings: Sequence[Reading]) -> None:
        self.gate.wait(10)
        super().write(readings)
