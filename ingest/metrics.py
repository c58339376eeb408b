"""What ingest counts: plain numbers for tests and the CLI, Prometheus counters for scraping."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from prometheus_client import CollectorRegistry, Counter


@dataclass(frozen=True)
class Stats:
    received: int = 0  # messages
    stored: int = 0  # readings durably written
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> messages
    duplicates: int = 0  # messages
    statuses: int = 0  # birth and last-will messages applied
    store_errors: int = 0  # failed write attempts (each is retried)


class IngestMetrics:
    """Counts once, in both forms. Each instance has its own registry so several can coexist."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._lock = threading.Lock()
        self._stats = Stats()

        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(f"idleshare_ingest_{name}", doc, labels, registry=self.registry)

        self._received = counter("messages_received", "MQTT messages received")
        self._stored = counter("readings_stored", "Readings durably written to the store")
        self._rejected = counter("messages_rejected", "Messages rejected, by reason", ("reason",))
        self._duplicates = counter("messages_duplicate", "Repeated messages dropped")
        self._statuses = counter("statuses_applied", "Agent birth/last-will messages applied")
        self._store_errors = counter("store_errors", "Failed write attempts")

    @property
    def stats(self) -> Stats:
        with self._lock:
            return self._stats  # immutable: each change makes a new one

    def _add(self, **changes: int) -> None:
        with self._lock:
            s = self._stats
            self._stats = replace(s, **{k: getattr(s, k) + v for k, v in changes.items()})

    def received(self) -> None:
        self._received.inc()
        self._add(received=1)

    def stored(self, n: int) -> None:
        self._stored.inc(n)
        self._add(stored=n)

    def duplicate(self) -> None:
        self._duplicates.inc()
        self._add(duplicates=1)

    def status(self) -> None:
        self._statuses.inc()
        self._add(statuses=1)

    def store_error(self) -> None:
        self._store_errors.inc()
        self._add(store_errors=1)

    def rejected(self, reason: str) -> None:
        self._rejected.labels(reason=reason).inc()
        with self._lock:
            s = self._stats
            self._stats = replace(s, rejected={**s.rejected, reason: s.rejected.get(reason, 0) + 1})
