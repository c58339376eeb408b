"""The ingest service: MQTT messages in, validated readings durably stored, then acknowledged.

Delivery is at least once end to end: the subscription is QoS 1 in a persistent session, and a
readings message is acknowledged only after ``store.write`` returned for its readings, so a
crash or a failing store makes the broker deliver it again; storage is idempotent per key, and
repeats are dropped by (agent, seq) before they cost a write. A message that fails validation
is counted, sent to the dead-letter topic and acknowledged: it must never block the consumer;
so is a message whose readings the store refuses outright (reason ``store_refused``).

Scale-out: with ``share_group`` set, readings are taken through the shared subscription
``$share/<group>/...``, so each message goes to one of the workers in the group. Status
messages stay a plain subscription: every worker must learn every announced asset.

Threads: paho's network thread validates and queues; the writer thread writes and acknowledges;
a message the catalog could not serve waits on the "later" thread and is handled again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from prometheus_client import CollectorRegistry

from idleshare import wire
from idleshare.assets import check_id
from idleshare.errors import ConfigError, StoreError, StoreRefused, WireError
from idleshare.urls import MqttUrl
from ingest import deadletter
from ingest.assets import AssetCache
from ingest.dedup import Dedup
from ingest.later import Later
from ingest.metrics import IngestMetrics, Stats
from ingest.mqtt import ClientFactory, ack_many, connect, paho_client
from ingest.status import parse_status
from ingest.validate import Validator
from ingest.writer import BatchWriter, Entry
from storage.catalog import Catalog
from storage.readings import ReadingStore

log = logging.getLogger(__name__)


class Ingest:
    def __init__(
        self,
        store: ReadingStore,
        catalog: Catalog,
        mqtt_url: str,
        client_id: str = "idleshare-ingest",
        batch_size: int = 5000,
        flush_interval_s: float = 1.0,
        client_factory: ClientFactory | None = None,
        *,
        tenant_filter: str = "+",
        share_group: str = "",
        protocol: int = mqtt.MQTTv311,
        max_inflight: int = 10_000,
        max_age_s: float = 7 * 86400.0,
        max_future_s: float = 300.0,
        idle_flush_s: float = 0.02,
        retry_max_s: float = 30.0,
        stop_timeout_s: float = 10.0,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.url = MqttUrl.parse(mqtt_url)  # ConfigError now, not at the first reconnect
        self.store = store
        self.catalog = catalog
        self.client_id = client_id
        # "+" takes every tenant; one tenant's id gives an ingest of its own (or a test's).
        if tenant_filter != "+":
            check_id("tenant_filter", tenant_filter)
        shared = f"$share/{check_id('share_group', share_group)}/" if share_group else ""
        self.filters = (f"{wire.ROOT}/{tenant_filter}/agents/+/{wire.STATUS}",
                        f"{shared}{wire.ROOT}/{tenant_filter}/+/{wire.READINGS}")
        self.protocol = protocol
        # MQTT 5 Receive Maximum: how many unacknowledged messages the broker may send. It must
        # be well above batch_size, or batches stay small; it also bounds ingest's memory while
        # the store is down. With 3.1.1 the broker's max_inflight_messages applies instead.
        if not 0 < max_inflight <= 65535:
            raise ConfigError(f"max_inflight must be 1..65535: got {max_inflight}")
        self.max_inflight = max_inflight
        self.stop_timeout_s = stop_timeout_s
        self.metrics = IngestMetrics(registry)
        self.registry = self.metrics.registry
        self.assets = AssetCache(catalog)
        self.validator = Validator(self.assets.lookup, max_age_s=max_age_s,
                                   max_future_s=max_future_s)
        self._factory = client_factory or paho_client
        self._client: mqtt.Client | None = None
        self._writer = BatchWriter(store, self._written, lambda err: self.metrics.store_error(),
                                   self._refused, batch_size=batch_size,
                                   flush_interval_s=flush_interval_s, idle_flush_s=idle_flush_s,
                                   retry_max_s=retry_max_s)
        self._dedup = Dedup()
        self._later = Later()
        self.metrics.pending_messages.set_function(lambda: self._writer.pending)
        self.metrics.pending_readings.set_function(lambda: self._writer.pending_readings)
        # Guards the dedup and the connection number; acks are sent holding it, so none can
        # slip onto a new connection where its packet id would mean another message.
        self._lock = threading.Lock()
        self._connection = 0
        self._readings_sub: int | None = None
        self._ready = threading.Event()
        self._accepting = False

    @property
    def stats(self) -> Stats:
        return self.metrics.stats

    @property
    def pending(self) -> int:
        """Messages received but not yet written and acknowledged."""
        return self._writer.pending

    def start(self) -> Ingest:
        client = self._factory(self.client_id, self.protocol)
        client.manual_ack_set(True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self._client = client
        self._accepting = True
        self._writer.start()
        connect(client, self.url, receive_maximum=self.max_inflight)
        client.loop_start()
        return self

    def wait_ready(self, timeout_s: float = 10.0) -> bool:
        """True once connected and subscribed."""
        return self._ready.wait(timeout_s)

    def stop(self) -> bool:
        """Stop taking messages, write and acknowledge those taken, disconnect. False if some
        stayed unwritten (the store kept failing): the broker delivers them again later."""
        self._accepting = False
        self._later.stop()  # unacknowledged: the broker delivers them to the next session
        done = self._writer.stop(self.stop_timeout_s)
        if self._client is not None:
            self._client.disconnect()  # after the queued acknowledgements, in order
            self._client.loop_stop()
        return done

    # paho callbacks, on its network thread

    def _on_connect(self, client: mqtt.Client, _userdata: Any, flags: Any, reason: Any,
                    _props: Any) -> None:
        if reason.is_failure:
            log.error("MQTT broker %s:%d refused the connection: %s", self.url.host,
                      self.url.port, reason)
            return
        with self._lock:
            self._connection += 1
        log.info("connected to %s:%d (session present: %s)", self.url.host, self.url.port,
                 flags.session_present)
        # Status first: on a new subscription, retained births then come before readings.
        client.subscribe(self.filters[0], qos=1)
        _, self._readings_sub = client.subscribe(self.filters[1], qos=1)

    def _on_subscribe(self, _client: mqtt.Client, _userdata: Any, mid: int, reasons: list[Any],
                      _props: Any) -> None:
        if any(r.is_failure for r in reasons):
            log.error("the broker refused a subscription: %s", reasons)
        elif mid == self._readings_sub:
            self._ready.set()

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any,
                       _props: Any) -> None:
        with self._lock:
            self._connection += 1
        self._ready.clear()
        if self._accepting:
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if not self._accepting:
            return  # not acknowledged: the broker delivers it to the next session
        self.metrics.received()
        self._handle(msg, self._connection, 0)

    def _handle(self, msg: mqtt.MQTTMessage, connection: int, attempt: int) -> None:
        now = time.time()
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            self._reject(msg, repr(msg._topic), WireError("bad_topic", "not UTF-8"), now,
                         connection)
            return
        try:
            where = wire.parse_topic(topic)
            if where.channel == wire.STATUS:
                self._on_status(msg, where, connection)
            else:
                self._on_readings(msg, topic, where, now, connection)
        except WireError as err:
            self._reject(msg, topic, err, now, connection)
        except StoreError as err:
            # The catalog failed: try again shortly, still unacknowledged (so a restart or a
            # lost connection makes the broker deliver it again instead).
            self.metrics.store_error()
            delay = min(0.5 * 2 ** attempt, 30.0)
            log.warning("cannot handle a message on %s now, retrying in %.1f s: %s", topic, delay,
                        err, extra={"event": "catalog_error", "topic": topic})
            self._later.call(delay, lambda: self._retry(msg, connection, attempt + 1))
        except Exception as err:
            # A bug must not stop the consumer: keep the message where it can be replayed.
            log.exception("unexpected error handling a message on %s", topic)
            self._reject(msg, topic, WireError("internal_error", repr(err)[:300]), now,
                         connection)

    def _retry(self, msg: mqtt.MQTTMessage, connection: int, attempt: int) -> None:
        if self._accepting and connection == self._connection:
            self._handle(msg, connection, attempt)
        # else: its connection is gone and the broker delivers it again

    def _on_status(self, msg: mqtt.MQTTMessage, where: wire.Topic, connection: int) -> None:
        if msg.payload:  # an empty payload only clears the retained status
            status = parse_status(where, msg.payload)
            if status.online:
                # Known to validation at once, even if the catalog write below fails and waits
                # for a retry: the readings right behind the birth must not be refused.
                for asset in status.assets:
                    self.assets.put(asset)
                for asset in status.assets:
                    self.catalog.upsert_asset(asset, agent=status.agent, online=True,
                                              at=status.time)
                if not msg.retain:  # a live birth: the agent may have restarted its numbering
                    with self._lock:
                        self._dedup.restart((status.tenant, status.agent))
            else:
                self.catalog.set_agent_online(status.tenant, status.agent, False, status.time)
            self.metrics.status()
        self._ack(msg, connection)

    def _on_readings(self, msg: mqtt.MQTTMessage, topic: str, where: wire.Topic, now: float,
                     connection: int) -> None:
        checked = self.validator.check(topic, msg.payload, now, where)
        key, seq = (checked.tenant, checked.agent), checked.seq
        with self._lock:
            state = self._dedup.claim(key, seq)
        if state == "new":
            self._writer.add(Entry(msg.mid, msg.qos, connection, checked.readings, key,
                                   seq, topic, msg.payload))
            return
        self.metrics.duplicate()
        if state == "stored":
            self._ack(msg, connection)
        else:  # its first copy is still being written: acknowledge this one after it
            self._writer.add(Entry(msg.mid, msg.qos, connection))

    def _reject(self, msg: mqtt.MQTTMessage, topic: str, err: WireError, now: float,
                connection: int) -> None:
        self._dead_letter(err, topic, msg.payload, now)
        self._ack(msg, connection)

    def _dead_letter(self, err: WireError, topic: str, payload: bytes | bytearray,
                     now: float) -> None:
        self.metrics.rejected(err.reason)
        # Debug only: every one is counted and dead-lettered, and a flood must not flood logs.
        log.debug("rejected a message on %s: %s", topic[:200], err,
                  extra={"event": "rejected", "reason": err.reason, "topic": topic[:200]})
        assert self._client is not None
        letter = deadletter.encode(err.reason, err.detail, topic, payload, now)
        self._client.publish(deadletter.TOPIC, letter, qos=1)

    def _ack(self, msg: mqtt.MQTTMessage, connection: int) -> None:
        """Acknowledge on the connection that delivered it: a packet id means nothing on
        another, and the broker sends a message of a lost connection again anyway."""
        assert self._client is not None
        with self._lock:
            if connection == self._connection:
                self._client.ack(msg.mid, msg.qos)

    # writer thread

    def _written(self, batch: list[Entry], seconds: float) -> None:
        self._settle(batch)
        now = time.time()
        # One lag per message (its newest reading) keeps the histogram off the hot path.
        lags = [now - e.readings[-1].time for e in batch if e.readings]
        self.metrics.written(len(lags), sum(len(e.readings) for e in batch), seconds, lags)

    def _refused(self, entry: Entry, err: StoreRefused) -> None:
        """The store refused this message's readings for good: dead-letter it, do not block."""
        log.warning("the store refused a message on %s: %s", entry.topic[:200], err,
                    extra={"event": "store_refused", "topic": entry.topic[:200]})
        self._dead_letter(WireError("store_refused", str(err)), entry.topic, entry.payload,
                          time.time())
        self._settle([entry])

    def _settle(self, entries: list[Entry]) -> None:
        """Mark the messages done and acknowledge them."""
        assert self._client is not None
        with self._lock:
            stored = self._dedup.stored
            for entry in entries:
                if entry.key is not None:
                    stored(entry.key, entry.seq)
            # Those delivered on a lost connection are left out: the broker sends them again,
            # and that copy, now a known repeat, is acknowledged instead.
            current = self._connection
            ack_many(self._client, [(e.mid, e.qos) for e in entries if e.connection == current])
