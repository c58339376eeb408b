"""What ingest counts: plain numbers for tests and the CLI, Prometheus metrics for scraping.

Metric names (all prefixed ``idleshare_ingest_``; docs/ingest.md lists them):
messages_received_total, readings_stored_total, messages_stored_total,
messages_rejected_total{reason}, messages_duplicate_total, statuses_applied_total,
store_errors_total, receipts_sent_total, receipted_messages_total,
publish_failures_total{topic}, births_partial_total{reason}, batch_write_seconds (histogram),
reading_lag_seconds (histogram: reading time to durable write), pending_messages,
pending_readings, agent_queued_readings{tenant,agent}, agent_dropped_readings{tenant,agent}
(gauges: the latest birth or refresh of each agent).
"""

from __future__ import annotations

import threading
from collections import Counter as Tally
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

PREFIX = "idleshare_ingest_"
WRITE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0,
               3600.0, 86400.0)


@dataclass(frozen=True)
class Stats:
    received: int = 0  # messages
    stored: int = 0  # readings durably written
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> messages
    duplicates: int = 0  # messages
    statuses: int = 0  # birth and last-will messages applied
    store_errors: int = 0  # failed write attempts (each is retried)
    batches: int = 0  # successful store writes
    receipts: int = 0  # receipt messages published to agents
    receipted: int = 0  # messages those receipts covered
    publish_failures: int = 0  # receipts or dead letters the client refused to queue
    partial: dict[str, int] = field(default_factory=dict)  # reason -> births applied in part


class IngestMetrics:
    """Counts once, in both forms. Each instance has its own registry so several can coexist."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._lock = threading.Lock()
        self._n: Tally[str] = Tally()  # Stats fields -> counts
        self._reasons: Tally[str] = Tally()
        self._partial: Tally[str] = Tally()
        reg = self.registry

        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(PREFIX + name, doc, labels, registry=reg)

        # Received is counted on the hot path by one thread only (paho's network thread): a
        # plain integer there, read by Stats and by a collector, instead of two locks a message.
        self._received_n = 0
        reg.register(_ReceivedCollector(self))
        self._stored = counter("readings_stored", "Readings durably written to the store")
        self._stored_msgs = counter("messages_stored", "Messages whose readings were written")
        self._rejected = counter("messages_rejected", "Messages rejected, by reason", ("reason",))
        self._duplicates = counter("messages_duplicate", "Repeated messages dropped")
        self._statuses = counter("statuses_applied", "Agent birth/last-will messages applied")
        self._store_errors = counter("store_errors", "Failed write attempts (retried)")
        self._receipts = counter("receipts_sent", "Receipt messages published to agents")
        self._receipted = counter("receipted_messages", "Messages covered by receipts")
        self._publish_failures = counter("publish_failures", "Receipts or dead letters the "
                                         "MQTT client refused to queue", ("topic",))
        self._births_partial = counter("births_partial", "Births applied in part, by reason "
                                       "(unknown_site: a site the tenant does not have)",
                                       ("reason",))
        self._write_s = Histogram(PREFIX + "batch_write_seconds", "Duration of a successful "
                                  "batch write", buckets=WRITE_BUCKETS, registry=reg)
        self._lag_s = Histogram(PREFIX + "reading_lag_seconds", "From a reading's own time to "
                                "its durable write", buckets=LAG_BUCKETS, registry=reg)
        self.pending_messages = Gauge(PREFIX + "pending_messages", "Messages received and not "
                                      "yet written and acknowledged", registry=reg)
        self.pending_readings = Gauge(PREFIX + "pending_readings", "Readings waiting in the "
                                      "batch", registry=reg)
        self._agent_queued = Gauge(PREFIX + "agent_queued_readings", "Readings waiting in an "
                                   "agent's outbox, as its latest status says",
                                   ("tenant", "agent"), registry=reg)
        self._agent_dropped = Gauge(PREFIX + "agent_dropped_readings", "Readings an agent ever "
                                    "dropped to stay within its disk budget, as its latest "
                                    "status says", ("tenant", "agent"), registry=reg)

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        """Expose the metrics over HTTP (``/metrics``) on ``port``."""
        start_http_server(port, addr=addr, registry=self.registry)

    @property
    def stats(self) -> Stats:
        with self._lock:
            return Stats(received=self._received_n, rejected=dict(self._reasons),
                         partial=dict(self._partial), **self._n)

    def _add(self, **changes: int) -> None:
        with self._lock:
            self._n.update(changes)

    def received(self) -> None:
        """A message arrived; call from one thread only (paho's network thread)."""
        self._received_n += 1

    def written(self, messages: int, readings: int, seconds: float,
                lags: list[float]) -> None:
        """A batch was durably written in ``seconds``; ``lags`` sample reading-to-write delays."""
        self._stored.inc(readings)
        self._stored_msgs.inc(messages)
        self._write_s.observe(seconds)
        for lag in lags:
            self._lag_s.observe(lag)
        self._add(stored=readings, batches=1)

    def duplicate(self) -> None:
        self._duplicates.inc()
        self._add(duplicates=1)

    def status(self) -> None:
        self._statuses.inc()
        self._add(statuses=1)

    def store_error(self) -> None:
        self._store_errors.inc()
        self._add(store_errors=1)

    def receipted(self, receipts: int, messages: int) -> None:
        self._receipts.inc(receipts)
        self._receipted.inc(messages)
        self._add(receipts=receipts, receipted=messages)

    def publish_failed(self, kind: str) -> None:
        """``kind``: ``receipts`` or ``deadletter``."""
        self._publish_failures.labels(topic=kind).inc()
        self._add(publish_failures=1)

    def agent_counts(self, tenant: str, agent: str, queued: int, dropped: int) -> None:
        self._agent_queued.labels(tenant=tenant, agent=agent).set(queued)
        self._agent_dropped.labels(tenant=tenant, agent=agent).set(dropped)

    def birth_partial(self, reason: str) -> None:
        self._births_partial.labels(reason=reason).inc()
        with self._lock:
            self._partial[reason] += 1

    def rejected(self, reason: str) -> None:
        self._rejected.labels(reason=reason).inc()
        with self._lock:
            self._reasons[reason] += 1


class _ReceivedCollector(Collector):
    """``messages_received_total`` read from :class:`IngestMetrics`' plain counter."""

    def __init__(self, metrics: IngestMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(PREFIX + "messages_received", "MQTT messages received",
                                  value=self.metrics._received_n)
