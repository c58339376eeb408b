"""The ingest service: MQTT messages in, validated readings durably stored, then acknowledged.

Delivery is at least once end to end: the subscription is QoS 1 in a persistent session, and a
readings message is acknowledged only after ``store.write`` returned for its readings, so a
crash or a failing store makes the broker deliver it again; storage is idempotent per key, and
repeats are dropped by (agent, seq) before they cost a write. A message that fails validation
is counted, sent to the dead-letter topic and acknowledged: it must never block the consumer;
so is a message whose readings the store refuses outright (reason ``store_refused``).

Storage receipts: to an agent whose birth announced ``receipts``, ingest publishes after each
durable write one receipt per agent on ``.../agents/{agent}/receipts`` (QoS 1) listing the seq
ranges it stored (repeats of stored messages included) and those it rejected, by reason; the
agent keeps each message until then. Other agents get PUBACKs only, as plain MQTT.

Every message, whatever becomes of it, passes through the writer's queue in arrival order and
is acknowledged from there, so PUBACKs leave in the order the messages came (MQTT 3.1.1 §4.6).

Scale-out: with ``share_group`` set, readings are taken through the shared subscription
``$share/<group>/...``, so each message goes to one of the workers in the group. Status
messages stay a plain subscription: every worker must learn every announced asset.

Threads: paho's network thread validates and queues; the writer thread writes, receipts and
acknowledges; catalog writes of status messages and messages the catalog could not serve run
on the "later" thread (retried with backoff), never on paho's.
"""

from __future__ import annotations

import json
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
from ingest.mqtt import ClientFactory, ack_many, connect, paho_client, wait_settled
from ingest.status import Status, StatusRecorder, parse_status
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
        self._statuses = StatusRecorder(catalog, self.metrics)
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
        # Agents whose latest birth announced receipts; and per agent the number of its latest
        # status, so a catalog write retried late never overwrites a newer one.
        self._receipt_agents: set[tuple[str, str]] = set()
        self._status_gen: dict[tuple[str, str], int] = {}
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
            wait_settled(self._client)  # else the last PUBACKs may be lost with the socket
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
        self._subscribe(client)

    def _subscribe(self, client: mqtt.Client) -> None:
        """Subscribe on each connection; ready once the broker granted ``_readings_sub``."""
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

    def _topic_of(self, msg: mqtt.MQTTMessage, now: float, connection: int) -> str | None:
        """The message's topic, or None once a topic that is not UTF-8 was rejected."""
        try:
            return msg.topic
        except UnicodeDecodeError:
            self._reject(msg, repr(msg._topic), WireError("bad_topic", "not UTF-8"), now,
                         connection)
            return None

    def _handle(self, msg: mqtt.MQTTMessage, connection: int, attempt: int) -> None:
        now = time.time()
        if (topic := self._topic_of(msg, now, connection)) is None:
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
            key = (status.tenant, status.agent)
            if status.online:
                # Known to validation at once, though the catalog write waits for its thread:
                # the readings right behind the birth must not be refused.
                for asset in status.assets:
                    self.assets.put(asset)
                if status.receipts:
                    self._receipt_agents.add(key)
                else:
                    self._receipt_agents.discard(key)
                if not msg.retain:  # a live birth: the agent may have restarted its numbering
                    with self._lock:
                        self._dedup.restart(key)
            gen = self._status_gen[key] = self._status_gen.get(key, 0) + 1
            self._later.call(0.0, lambda: self._apply_status(status, gen, 0))
        self._after_pending(Entry(msg.mid, msg.qos, connection))

    def _apply_status(self, status: Status, gen: int, attempt: int) -> None:
        """Catalog write of a status, on the later thread; a newer status of the agent wins.
        Acknowledged already: a lost write is redone from the retained status after a restart."""
        if not self._accepting or self._status_gen.get((status.tenant, status.agent)) != gen:
            return
        try:
            self._statuses.apply(status)
            self.metrics.status()
        except StoreError as err:
            self.metrics.store_error()
            delay = min(0.5 * 2 ** attempt, 30.0)
            log.warning("cannot record the status of %s/%s now, retrying in %.1f s: %s",
                        status.tenant, status.agent, delay, err,
                        extra={"event": "catalog_error"})
            self._later.call(delay, lambda: self._apply_status(status, gen, attempt + 1))

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
        # Stored, or its first copy is still being written: acknowledged and receipted in
        # order, after that copy.
        self._after_pending(Entry(msg.mid, msg.qos, connection, key=key, seq=seq, repeat=True))

    def _after_pending(self, entry: Entry) -> None:
        """Settle a message that needs no write now if nothing before it is pending, else
        queue it behind them: PUBACKs keep the order the messages came in. One due a receipt
        always waits for the writer's next batch: one receipt per agent per batch, not one per
        message when a reconnect redelivers thousands of repeats."""
        if self._writer.pending == 0 and entry.key not in self._receipt_agents:
            self._settle([entry])
        else:
            self._writer.add(entry)

    def _reject(self, msg: mqtt.MQTTMessage, topic: str, err: WireError, now: float,
                connection: int) -> None:
        self._dead_letter(err, topic, msg.payload, now)
        key, seq = None, -1
        if err.reason != "bad_topic" and not topic.endswith(wire.STATUS):
            sender = _sender(topic, msg.payload)
            if sender is not None:
                key, seq = sender
        self._after_pending(Entry(msg.mid, msg.qos, connection, key=key, seq=seq,
                                  reason=err.reason))

    def _dead_letter(self, err: WireError, topic: str, payload: bytes | bytearray,
                     now: float) -> None:
        self.metrics.rejected(err.reason)
        # Debug only: every one is counted and dead-lettered, and a flood must not flood logs.
        log.debug("rejected a message on %s: %s", topic[:200], err,
                  extra={"event": "rejected", "reason": err.reason, "topic": topic[:200]})
        assert self._client is not None
        letter = deadletter.encode(err.reason, err.detail, topic, payload, now)
        self._publish(deadletter.TOPIC, letter, "deadletter")

    def _publish(self, topic: str, payload: bytes, kind: str) -> None:
        """QoS 1 publish whose result is checked: paho queues it while disconnected (and sends
        it on reconnect, the session being persistent); any other refusal is counted."""
        assert self._client is not None
        info = self._client.publish(topic, payload, qos=1)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            self.metrics.publish_failed(kind)
            log.warning("could not publish to %s: %s", topic[:200], mqtt.error_string(info.rc),
                        extra={"event": "publish_failed", "topic": topic[:200]})

    # writer thread

    def _written(self, batch: list[Entry], seconds: float) -> None:
        self._settle(batch)
        now = time.time()
        written = [e for e in batch if e.readings and not e.reason]
        # One lag per message (its newest reading) keeps the histogram off the hot path.
        lags = [now - e.readings[-1].time for e in written]
        self.metrics.written(len(lags), sum(len(e.readings) for e in written), seconds, lags)

    def _refused(self, entry: Entry, err: StoreRefused) -> None:
        """The store refused this message's readings for good: dead-letter it, do not block;
        it is receipted as rejected and acknowledged with its batch."""
        log.warning("the store refused a message on %s: %s", entry.topic[:200], err,
                    extra={"event": "store_refused", "topic": entry.topic[:200]})
        self._dead_letter(WireError("store_refused", str(err)), entry.topic, entry.payload,
                          time.time())

    def _settle(self, entries: list[Entry]) -> None:
        """Mark the messages done, receipt them to the agents that asked, acknowledge them."""
        assert self._client is not None
        receipts: dict[tuple[str, str], tuple[list[int], dict[str, list[int]]]] = {}
        with self._lock:
            stored = self._dedup.stored
            for entry in entries:
                if entry.key is None:
                    continue
                if entry.readings and not entry.repeat:
                    stored(entry.key, entry.seq)  # a refused one too: a repeat is refused again
                if entry.key in self._receipt_agents:
                    done, rejected = receipts.setdefault(entry.key, ([], {}))
                    if entry.reason:
                        rejected.setdefault(entry.reason, []).append(entry.seq)
                    else:
                        done.append(entry.seq)
        # Receipts before PUBACKs: a PUBACK lost with its connection only brings a repeat, which
        # is receipted again.
        for (tenant, agent), (done, rejected) in receipts.items():
            self._publish(wire.receipts_topic(tenant, agent),
                          wire.encode_receipt(done, rejected), "receipts")
        if receipts:
            self.metrics.receipted(len(receipts), sum(
                len(d) + sum(len(r) for r in rj.values()) for d, rj in receipts.values()))
        with self._lock:
            # Those delivered on a lost connection are left out: the broker sends them again,
            # and that copy, now a known repeat, is acknowledged instead.
            current = self._connection
            ack_many(self._client, [(e.mid, e.qos) for e in entries if e.connection == current])


def _sender(topic: str, payload: bytes | bytearray) -> tuple[tuple[str, str], int] | None:
    """(tenant, agent) and seq of a rejected readings message, if they can be read: so the
    agent learns of the rejection and stops resending. Rare path: plain json."""
    try:
        first = json.loads(payload)[0]
        agent, seq = first["agent"], first["seq"]
        tenant = wire.parse_topic(topic).tenant
    except (ValueError, TypeError, KeyError, IndexError, WireError):
        return None
    if type(seq) is not int or seq < 0 or not isinstance(agent, str):
        return None
    try:
        return (tenant, check_id("agent", agent)), seq
    except ConfigError:
        return None
