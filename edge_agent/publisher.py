"""Moves packed messages from the outbox to the broker, and forgets them once receipted.

With receipts (``mqtt.receipts``, the default) a PUBACK only marks a message sent; the storage
receipt ingest publishes on the agent's receipts topic after the durable write deletes it, and
a sent message without receipt goes again after ``receipt_timeout_s`` (doubling per attempt),
with the same seq and content. Without receipts the PUBACK deletes it, as plain MQTT would.

paho calls back on its own network thread while holding its internal locks, so the callbacks
only queue what happened; :meth:`Publisher.pump`, called from the publisher's thread, does the
work. That also means an acknowledgement can never be handled before the publisher has
recorded which sequence number the message id belongs to.

Messages handed to paho stay there across reconnects (paho resends unacknowledged QoS 1/2
messages when the connection comes back); on every new connection and after a restart, every
unreceipted message is due again (receipts published while the agent was away are lost).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from edge_agent.config import MqttSection
from edge_agent.mqtt import (
    NO_CONN,
    SUCCESS,
    Backoff,
    MqttClient,
    describe_connect_error,
    describe_refusal,
    is_failure,
)
from edge_agent.outbox import Outbox
from idleshare import wire
from idleshare.errors import WireError

log = logging.getLogger(__name__)


class Publisher:
    def __init__(
        self,
        outbox: Outbox,
        client: MqttClient,
        tenant: str,
        agent_id: str,
        status: Callable[[], bytes],
        qos: int = 1,
        max_pack: int = 50,
        window: int = 100,
        wake: threading.Event | None = None,
        mqtt: MqttSection | None = None,
    ) -> None:
        self.outbox, self.client = outbox, client
        self.tenant, self.agent_id = tenant, agent_id
        #: The ``online`` status message (birth), with queue depth and dropped count.
        self.status = status
        self.qos, self.max_pack, self.window = qos, max_pack, window
        self.mqtt = mqtt or MqttSection()
        self.backoff = Backoff(self.mqtt.reconnect_min_s, self.mqtt.reconnect_max_s)
        self.status_topic = wire.status_topic(tenant, agent_id)
        self.receipts_topic = wire.receipts_topic(tenant, agent_id)
        self.receipts = self.mqtt.receipts
        self._wake = wake or threading.Event()
        self._acks: queue.SimpleQueue[tuple[int, bool]] = queue.SimpleQueue()
        self._receipts: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._inflight: dict[int, int] = {}  # paho message id -> sequence number
        # Highest seq handed over; messages go in order, so all below it went at least once.
        self._cursor = outbox.last_handed()
        self._new_connection = False
        self.connected = False
        self._closing = False
        self._refused = False
        #: Readings (and messages) that left: receipted as stored, or PUBACKed without
        #: receipts; wall time of the last one. Readings ingest rejected for good.
        self.published = 0
        self.messages = 0
        self.rejected = 0
        self.last_publish_time: float | None = None
        self.errors = 0
        self.bad_receipts = 0
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    def pump(self) -> None:
        """Handle acknowledgements and receipts, then hand due and waiting messages to the
        client while it is up."""
        self._handle_acks()
        self._handle_receipts()
        room = self.window - len(self._inflight)
        if not self.connected or room <= 0:
            return
        if self._new_connection:
            self._new_connection = False
            self.outbox.resend_all()
        now = time.time()
        waiting = self.outbox.due(now, room, exclude=list(self._inflight.values()))
        fresh = min(room - len(waiting), self.mqtt.receipt_window - self.outbox.unreceipted)
        if fresh > 0:
            new = self.outbox.messages(fresh, after=self._cursor)
            if len(new) < fresh:
                # Packing only here means a backlog built while offline leaves in full packs;
                # a bounded batch keeps memory flat however long the backlog.
                self.outbox.pack(self.max_pack, max_rows=fresh * self.max_pack)
                new = self.outbox.messages(fresh, after=self._cursor)
            waiting += new
        handed = []
        for msg in waiting:
            payload = wire.encode_pack(self.tenant, msg.asset, self.agent_id, msg.seq,
                                       msg.measurements)
            info = self.client.publish(wire.readings_topic(self.tenant, msg.asset), payload,
                                       qos=self.qos)
            # paho keeps a QoS 1/2 message published while offline and sends it on reconnect.
            if info.rc == SUCCESS or (info.rc == NO_CONN and self.qos > 0):
                self._inflight[info.mid] = msg.seq
                handed.append(msg.seq)
                self._cursor = max(self._cursor, msg.seq)
            else:
                self.errors += 1
                log.warning("publish of seq %d refused by the client (rc=%s)", msg.seq, info.rc)
                break
        if handed:
            self.outbox.handed(handed, now, self.mqtt.receipt_timeout_s)

    def publish_status(self) -> bool:
        """Refresh the retained ``online`` status; False while disconnected."""
        if not self.connected:
            return False
        self.client.publish(self.status_topic, self.status(), qos=1, retain=True)
        return True

    def close(self, timeout: float = 1.0) -> None:
        """Say goodbye (a clean disconnect does not trigger the last will) and disconnect."""
        if self.connected:
            payload = wire.encode_status(self.agent_id, "offline", time.time())
            info = self.client.publish(self.status_topic, payload, qos=1, retain=True)
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError) as err:  # paho: not queued / connection lost
                log.info("offline status not confirmed: %s", err)
        self._closing = True
        self.client.disconnect()
        self.client.loop_stop()
        self.connected = False

    # -- paho callbacks (network thread): record and wake, nothing more ----------------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any,
                    properties: Any = None) -> None:
        if is_failure(reason_code):
            self._refused = True
            log.error("%s; retrying in %.1f s", describe_refusal(reason_code), self._retry_later())
            return
        log.info("connected to the broker at %s:%d", self.mqtt.host, self.mqtt.port)
        self.backoff.reset()
        if self.receipts:  # before the birth that announces it, so no receipt is missed
            client.subscribe(self.receipts_topic, qos=1)
        client.publish(self.status_topic, self.status(), qos=1, retain=True)  # birth first
        self._new_connection = True
        self.connected = True
        self._wake.set()

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        err = getattr(client, "connect_error", None)
        log.error("%s; retrying in %.1f s", describe_connect_error(err, self.mqtt),
                  self._retry_later())

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any = None) -> None:
        if self._closing:
            return
        if self._refused:  # already said why, and when the next attempt is
            self._refused = False
        elif self.connected:
            log.warning("disconnected from the broker: %s; reconnecting in %.1f s",
                        reason_code, self._retry_later())
        else:  # the link broke before the broker answered (a TLS or protocol mismatch)
            log.error("%s (%s); retrying in %.1f s", describe_connect_error(None, self.mqtt),
                      reason_code, self._retry_later())
        self.connected = False

    def _retry_later(self) -> float:
        """Set paho's next reconnect wait from the jittered backoff; returns it."""
        delay = self.backoff.next()
        self.client.reconnect_delay_set(delay, delay)
        return delay

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason_code: Any = 0,
                    properties: Any = None) -> None:
        self._acks.put((mid, is_failure(reason_code)))
        self._wake.set()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        if msg.topic == self.receipts_topic:
            self._receipts.put(bytes(msg.payload))
            self._wake.set()

    def _handle_acks(self) -> None:
        acked: list[int] = []
        while True:
            try:
                mid, failed = self._acks.get_nowait()
            except queue.Empty:
                break
            seq = self._inflight.pop(mid, None)
            if seq is None:  # a status message, not a pack
                continue
            if failed:  # MQTT 5 broker refused it: leave the rows, send the message again
                self.errors += 1
                log.warning("broker refused seq %d; will retry", seq)
                continue
            acked.append(seq)
        if not acked:
            return
        if self.receipts:
            self.outbox.acked(acked, time.time(), self.mqtt.receipt_timeout_s,
                              self.mqtt.receipt_timeout_max_s)
        else:
            self._left(self.outbox.settle([(s, s, "") for s in acked]), len(acked))

    def _handle_receipts(self) -> None:
        while True:
            try:
                payload = self._receipts.get_nowait()
            except queue.Empty:
                return
            try:
                receipt = wire.decode_receipt(payload)
            except WireError as err:
                self.bad_receipts += 1
                log.warning("ignored a malformed receipt: %s", err)
                continue
            ranges = list(receipt.seqs())
            self._left(self.outbox.settle(ranges), sum(b - a + 1 for a, b, _ in ranges))

    def _left(self, counts: tuple[int, int], messages: int) -> None:
        stored, rejected = counts
        self.published += stored
        self.rejected += rejected
        if rejected:
            log.warning("ingest rejected %d readings for good (see the dead-letter topic)",
                        rejected)
        if stored:
            self.messages += messages
            self.last_publish_time = time.time()
