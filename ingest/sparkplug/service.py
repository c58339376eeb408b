"""Sparkplug B in: edge nodes' births, data and deaths become idleshare readings and assets.

A Sparkplug host application beside ingest, with ingest's guarantees because it *is* ingest's
machinery: it subclasses :class:`ingest.service.Ingest` and replaces only what a message means.
The same persistent MQTT session and manual acknowledgement, the same batch writer (a message
is acknowledged only after its readings are durably written, in arrival order), the same
dedup (by edge node and the message's position, ``session.py``), the same dead letters with
reasons and the same metrics; catalog writes run on the same "later" thread with retries.

Per message, on ``spBv1.0/{group}/{verb}/{edge node}[/{device}]``:

- NBIRTH starts the node's session (bdSeq, metrics and aliases); DBIRTH declares a device's.
  Births register their mapped asset online in the catalog, like an agent's birth, and their
  values are stored like data.
- NDATA / DDATA: values of mapped metrics become readings (booleans 1/0, times ``scale``),
  checked against the asset's kind like a SenML reading; each keeps its own timestamp, so
  historical (``is_historical``, store-and-forward) values land where they belong in time.
- DDEATH marks the device's asset offline; NDEATH (matched to the session by bdSeq) every
  asset of the node.
- A ``seq`` gap not filled within ``reorder_timeout_s``, data from a node or device without a
  live birth, or an alias no birth declared: the service publishes a rebirth request (NCMD
  ``Node Control/Rebirth`` = true; at most one per node per ``rebirth_hold_s``).

Edge nodes, devices and metrics not in the mapping are skipped and counted, not dead-lettered:
a plant's broker carries much that is none of idleshare's business (``Node Control/*``,
diagnostics). Bad payloads of mapped nodes are dead-lettered with their reason: bad_topic,
oversize, bad_protobuf, bad_seq, bad_birth, bad_metric, no_birth, unknown_alias, not_in_birth,
bad_type, not_finite and the checks SenML readings get (out_of_range, too_old, in_future).

Sparkplug publishes DATA at QoS 0 by default; then the broker keeps nothing for a stopped
service, and only a publisher using QoS 1 gets delivery after the durable write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from prometheus_client import Counter

from idleshare import wire
from idleshare.errors import StoreError, WireError
from ingest.service import Ingest
from ingest.sparkplug import payload as spb
from ingest.sparkplug.mapping import MappedAsset, Mapping
from ingest.sparkplug.session import Births, Node, NodeSession, Observed, Sessions
from ingest.writer import Entry
from storage.catalog import Catalog
from storage.readings import Reading, ReadingStore

log = logging.getLogger(__name__)

#: Reasons that mean the service's picture of the node is out of date: ask for its births.
_STALE_PICTURE = frozenset({"no_birth", "unknown_alias", "not_in_birth"})


class SparkplugIngest(Ingest):
    def __init__(self, store: ReadingStore, catalog: Catalog, mqtt_url: str, mapping: Mapping,
                 client_id: str = "idleshare-sparkplug", *, reorder_timeout_s: float = 2.0,
                 rebirth_hold_s: float = 5.0, **kwargs: Any) -> None:
        super().__init__(store, catalog, mqtt_url, client_id, **kwargs)
        self.mapping = mapping
        self.reorder_timeout_s = reorder_timeout_s
        self.rebirth_hold_s = rebirth_hold_s
        self.sessions = Sessions()  # guarded by self._lock, like the dedup
        self._rebirth_at: dict[Node, float] = {}
        self._catalog_gen: dict[tuple[str, str], int] = {}
        self._tally_lock = threading.Lock()
        #: Values not stored because nothing maps them, by reason (unmapped_node, ...).
        self.skipped: Tally[str] = Tally()
        self.rebirth_requests = 0
        self._skipped_total = Counter("idleshare_sparkplug_skipped", "Sparkplug messages or "
                                      "metrics skipped as not mapped (or null), by reason",
                                      ("reason",), registry=self.registry)
        self._rebirths_total = Counter("idleshare_sparkplug_rebirth_requests", "Rebirth "
                                       "requests (NCMD Node Control/Rebirth) published",
                                       registry=self.registry)

    # paho's network thread

    def _subscribe(self, client: mqtt.Client) -> None:
        _, self._readings_sub = client.subscribe(spb.FILTER, qos=1)

    def _handle(self, msg: mqtt.MQTTMessage, connection: int, attempt: int) -> None:
        now = time.time()
        if (topic := self._topic_of(msg, now, connection)) is None:
            return
        try:
            self._on_sparkplug(msg, topic, now, connection)
        except WireError as err:
            self._reject(msg, topic, err, now, connection)
        except Exception as err:  # a bug must not stop the consumer
            log.exception("unexpected error handling a message on %s", topic)
            self._reject(msg, topic, WireError("internal_error", repr(err)[:300]), now,
                         connection)

    def _on_sparkplug(self, msg: mqtt.MQTTMessage, topic: str, now: float,
                      connection: int) -> None:
        where = spb.parse_topic(topic)
        settle = Entry(msg.mid, msg.qos, connection)
        if where is None or where.verb in ("NCMD", "DCMD"):
            self._after_pending(settle)  # host STATE and commands (ours too) carry no data
            return
        if not self.mapping.node_assets(*where.node):
            self._skip("unmapped_node")
            self._after_pending(settle)
            return
        if len(msg.payload) > wire.MAX_PAYLOAD_BYTES:
            raise WireError("oversize", f"{len(msg.payload)} bytes > {wire.MAX_PAYLOAD_BYTES}")
        payload = spb.decode(msg.payload)
        if where.verb == "NDEATH":
            self._on_ndeath(where, payload, now)
            self._after_pending(settle)
            return
        try:
            position, readings = self._apply(where, payload, now)
        except WireError as err:
            if err.reason in _STALE_PICTURE:
                self._request_rebirth(where.node, err.reason)
            raise
        if readings:
            self._store(msg, where, position, readings, connection)
        else:
            self._after_pending(settle)

    def _apply(self, where: spb.Topic, payload: spb.Payload, now: float
               ) -> tuple[int, list[Reading]]:
        """Update the node's session with a birth, data or DDEATH message; its position and
        the readings it carries."""
        seq = spb.require_seq(payload, where.verb)
        if where.verb == "NBIRTH":
            with self._lock:
                born = self.sessions.birth(where.node, spb.bd_seq(payload), seq, payload.metrics)
                self._rebirth_at.pop(where.node, None)  # answered
            node_asset = self.mapping.asset(*where.node)
            self._set_online(node_asset, True, now)
            return born.position, self._readings(node_asset, born.births, payload, now)
        births = Births(payload.metrics) if where.verb == "DBIRTH" else None
        with self._lock:
            session = self.sessions.get(where.node)
            if session is None:
                raise WireError("no_birth", f"{where.verb} of {where.group}/{where.edge_node}, "
                                "whose NBIRTH was not received")
            if births is not None:
                session.devices[where.device] = births
            else:
                births = session.births_of(where.device)
            observed = session.observe(seq)
            if where.verb == "DDEATH":
                session.devices.pop(where.device, None)
        self._after_gap(where.node, session, observed)
        mapped = self.mapping.asset(*where.node, where.device)
        if where.verb == "DDEATH":
            self._set_online(mapped, False, now)
            return observed.position, []
        if mapped is None:
            return observed.position, self._readings(None, births, payload, now)
        if births is None:
            raise WireError("no_birth", f"{where.verb} of device {where.device!r}, whose DBIRTH "
                            "was not received")
        if where.verb == "DBIRTH":
            self._set_online(mapped, True, now)
        return observed.position, self._readings(mapped, births, payload, now)

    def _on_ndeath(self, where: spb.Topic, payload: spb.Payload, now: float) -> None:
        with self._lock:
            current = self.sessions.death(where.node, spb.bd_seq(payload))
        if not current:
            self._skip("stale_death")  # the will of an older connection
            return
        for mapped in self.mapping.node_assets(*where.node):
            self._set_online(mapped, False, now)

    def _readings(self, mapped: MappedAsset | None, births: Births | None,
                  payload: spb.Payload, now: float) -> list[Reading]:
        """The message's values of mapped metrics, checked like SenML readings; the message
        is accepted or rejected whole. Nothing for a device or node the mapping leaves out."""
        if mapped is None or births is None:
            self._skip("unmapped_device")
            return []
        readings = []
        for metric in payload.metrics:
            declared = births.resolve(metric)
            target = mapped.metrics.get(declared.name)
            if target is None:
                self._skip("unmapped_metric")
                continue
            datatype = metric.datatype if metric.datatype else declared.datatype
            try:
                value = spb.value(metric, datatype)
            except WireError as err:
                raise WireError(err.reason, f"{declared.name}: {err.detail}") from err
            if value is None:
                self._skip("null_value")
                continue
            at = spb.timestamp(metric, payload, now)
            readings.append(self.validator._reading(mapped.asset, target.metric,
                                                    value * target.scale, at, "", now))
        return readings

    def _store(self, msg: mqtt.MQTTMessage, where: spb.Topic, position: int,
               readings: list[Reading], connection: int) -> None:
        with self._lock:
            state = self._dedup.claim(where.node, position)
        if state == "new":
            self._writer.add(Entry(msg.mid, msg.qos, connection, readings, where.node,
                                   position, msg.topic, msg.payload))
            return
        self.metrics.duplicate()  # settled in order, after its first copy
        self._after_pending(Entry(msg.mid, msg.qos, connection, key=where.node, seq=position,
                                  repeat=True))

    # gaps and rebirths

    def _after_gap(self, node: Node, session: NodeSession, observed: Observed) -> None:
        if not observed.skipped:
            return
        check = lambda: self._check_gap(node, session, observed.skipped)  # noqa: E731
        if self.reorder_timeout_s > 0:
            self._later.call(self.reorder_timeout_s, check)
        else:
            check()

    def _check_gap(self, node: Node, session: NodeSession, skipped: tuple[int, ...]) -> None:
        with self._lock:
            lost = self.sessions.get(node) is session and session.still_missing(skipped)
        if lost:
            self._request_rebirth(node, "seq_gap")

    def _request_rebirth(self, node: Node, why: str) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._rebirth_at.get(node)
            if last is not None and now - last < self.rebirth_hold_s:
                return
            self._rebirth_at[node] = now
        group, edge_node = node
        log.info("asking %s/%s for a rebirth (%s)", group, edge_node, why,
                 extra={"event": "rebirth_request", "reason": why})
        assert self._client is not None
        # QoS 0, not retained: Sparkplug's rule for commands.
        self._client.publish(spb.ncmd_topic(group, edge_node), spb.rebirth_request(), qos=0)
        with self._tally_lock:
            self.rebirth_requests += 1
        self._rebirths_total.inc()

    # catalog, on the later thread

    def _set_online(self, mapped: MappedAsset | None, online: bool, at: float) -> None:
        """Register the asset online (as an agent's birth does) or mark it offline; a newer
        change of the same asset wins over an older one still being retried."""
        if mapped is None:
            return
        asset = mapped.asset
        key = (asset.tenant, asset.id)
        gen = self._catalog_gen[key] = self._catalog_gen.get(key, 0) + 1
        write = lambda: self.catalog.upsert_asset(asset, agent=mapped.agent,  # noqa: E731
                                                  online=online, at=at)
        self._later.call(0.0, lambda: self._record(key, gen, write, 0))

    def _record(self, key: tuple[str, str], gen: int, write: Callable[[], None],
                attempt: int) -> None:
        if not self._accepting or self._catalog_gen.get(key) != gen:
            return
        try:
            write()
            self.metrics.status()
        except StoreError as err:
            self.metrics.store_error()
            delay = min(0.5 * 2 ** attempt, 30.0)
            log.warning("cannot record the status of %s/%s now, retrying in %.1f s: %s",
                        *key, delay, err, extra={"event": "catalog_error"})
            self._later.call(delay, lambda: self._record(key, gen, write, attempt + 1))

    def _skip(self, reason: str) -> None:
        with self._tally_lock:
            self.skipped[reason] += 1
        self._skipped_total.labels(reason=reason).inc()
