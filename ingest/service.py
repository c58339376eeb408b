"""The ingest service: MQTT messages in, validated readings durably stored, then acknowledged.

Delivery is at least once end to end: the subscription is QoS 1 in a persistent session, and a
readings message is acknowledged only after ``store.write`` returned for its readings, so a
crash or a failing store makes the broker deliver it again; storage is idempotent per key, and
repeats are dropped by (agent, seq) before they cost a write. A message that fails validation
is counted, sent to the dead-letter topic and acknowledged: it must never block the consumer.

Threads: paho's network thread validates and queues; the writer thread writes and acknowledges.
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
from idleshare.errors import ConfigError, StoreError, WireError
from idleshare.settings import Settings
from ingest import deadletter
from ingest.assets import AssetCache
from ingest.dedup import Dedup
from ingest.metrics import IngestMetrics, Stats
from ingest.mqtt import ClientFactory, MqttUrl, connect, paho_client
from ingest.status import parse_status
from ingest.validate import Validator
from ingest.writer import BatchWriter, Entry
from storage.catalog import Catalog
from storage.factory import open_reading_store
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
        protocol: int = mqtt.MQTTv311,
        max_inflight: int = 1000,
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
        self.filters = (f"{wire.ROOT}/{tenant_filter}/agents/+/{wire.STATUS}",
                        f"{wire.ROOT}/{tenant_filter}/+/{wire.READINGS}")
        self.protocol = protocol
        self.max_inflight = max_inflight  # MQTT 5 only; with 3.1.1 the broker's limit applies
        self.stop_timeout_s = stop_timeout_s
        self.metrics = IngestMetrics(registry)
        self.registry = self.metrics.registry
        self.assets = AssetCache(catalog)
        self.validator = Validator(self.assets.lookup, max_age_s=max_age_s,
                                   max_future_s=max_future_s)
        self._factory = client_factory or paho_client
        self._client: mqtt.Client | None = None
        self._writer = BatchWriter(store, self._written, lambda err: self.metrics.store_error(),
                                   batch_size=batch_size, flush_interval_s=flush_interval_s,
                                   idle_flush_s=idle_flush_s, retry_max_s=retry_max_s)
        self._dedup = Dedup()
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

    def _on_message(self, client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if not self._accepting:
            return  # not acknowledged: the broker delivers it to the next session
        self.metrics.received()
        now = time.time()
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            self._reject(msg, repr(msg._topic), WireError("bad_topic", "not UTF-8"), now)
            return
        try:
            where = wire.Topic.parse(topic)
            if where.channel == wire.STATUS:
                self._on_status(msg, where)
            else:
                self._on_readings(msg, topic, now)
        except WireError as err:
            self._reject(msg, topic, err, now)
        except StoreError as err:
            # The catalog failed: leave the message unacknowledged for a later delivery.
            self.metrics.store_error()
            log.warning("cannot handle a message on %s now: %s", topic, err)
        except Exception as err:
            # A bug must not stop the consumer: keep the message where it can be replayed.
            log.exception("unexpected error handling a message on %s", topic)
            self._reject(msg, topic, WireError("internal_error", repr(err)[:300]), now)

    def _on_status(self, msg: mqtt.MQTTMessage, where: wire.Topic) -> None:
        if msg.payload:  # an empty payload only clears the retained status
            status = parse_status(where, msg.payload)
            if status.online:
                for asset in status.assets:
                    self.catalog.upsert_asset(asset, agent=status.agent, online=True,
                                              at=status.time)
                    self.assets.put(asset)
                if not msg.retain:  # a live birth: the agent may have restarted its numbering
                    with self._lock:
                        self._dedup.restart((status.tenant, status.agent))
            else:
                self.catalog.set_agent_online(status.tenant, status.agent, False, status.time)
            self.metrics.status()
        self._ack(msg)

    def _on_readings(self, msg: mqtt.MQTTMessage, topic: str, now: float) -> None:
        checked = self.validator.check(topic, msg.payload, now)
        key, seq = (checked.pack.tenant, checked.pack.agent), checked.pack.seq
        with self._lock:
            state = self._dedup.state(key, seq)
            if state == "new":
                self._dedup.pending(key, seq)
            connection = self._connection
        if state == "new":
            self._writer.add(Entry(msg.mid, msg.qos, connection, tuple(checked.readings), key,
                                   seq))
            return
        self.metrics.duplicate()
        if state == "stored":
            self._ack(msg)
        else:  # its first copy is still being written: acknowledge this one after it
            self._writer.add(Entry(msg.mid, msg.qos, connection))

    def _reject(self, msg: mqtt.MQTTMessage, topic: str, err: WireError, now: float) -> None:
        self.metrics.rejected(err.reason)
        log.info("rejected a message on %s: %s", topic[:200], err)
        assert self._client is not None
        letter = deadletter.encode(err.reason, err.detail, topic, msg.payload, now)
        self._client.publish(deadletter.TOPIC, letter, qos=1)
        self._ack(msg)

    def _ack(self, msg: mqtt.MQTTMessage) -> None:
        assert self._client is not None
        self._client.ack(msg.mid, msg.qos)

    # writer thread

    def _written(self, batch: list[Entry]) -> None:
        assert self._client is not None
        with self._lock:
            for entry in batch:
                if entry.key is not None:
                    self._dedup.stored(entry.key, entry.seq)
                if entry.connection == self._connection:
                    self._client.ack(entry.mid, entry.qos)
                # else: delivered on a lost connection; the broker sends it again, and that
                # copy, now a known repeat, is acknowledged instead.
        self.metrics.stored(sum(len(e.readings) for e in batch))


def run(settings: Settings, stop: threading.Event) -> bool:
    """Run ingest with these settings until ``stop`` is set; returns whether every message
    received was written (those that were not are delivered again to the next run)."""
    if not settings.mqtt_url:
        raise ConfigError("mqtt_url (IDLESHARE_MQTT_URL) must name the broker to subscribe to")
    store = open_reading_store(settings)
    catalog = Catalog(settings.catalog)
    try:
        ingest = Ingest(store, catalog, settings.mqtt_url, client_id=settings.mqtt_client_id)
        ingest.start()
        stop.wait()
        done = ingest.stop()
        log.info("stopped: %s", ingest.stats)
        return done
    finally:
        store.close()
        catalog.close()
