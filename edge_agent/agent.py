"""The edge agent: samples every asset on the clock, stores readings, publishes them.

Sampler threads take each asset every ``interval_s`` of clock time into the durable outbox: one
for all quick sources, and one per asset whose source may block (``command``, ``file``), so a
slow program delays only its own asset. A publisher thread lets the :class:`Publisher` move
packs to the broker and handle acknowledgements and receipts, whatever the sources do; paho
runs its own network thread. Read failures are logged and counted, never fatal; a failing pass
(a broken outbox) logs one line a minute, not a traceback per tick. A fast simulated clock is
caught up by sampling every due time, so the series has no holes.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from dataclasses import dataclass

import idleshare
from edge_agent.clock import Clock, make_clock
from edge_agent.config import AgentConfig, AssetConfig
from edge_agent.mqtt import ClientFactory, configure, paho_client
from edge_agent.outbox import Outbox
from edge_agent.policy import Reporter
from edge_agent.publisher import Publisher
from edge_agent.sources import SOURCES, Source
from idleshare import wire
from idleshare.errors import ConfigError
from idleshare.wire import Measurement

log = logging.getLogger(__name__)

#: Samples per asset taken in one pass while catching up, so the loop stays responsive.
MAX_CATCH_UP = 500
#: Seconds between two writes of the agent's state for ``idleshare agent status``.
STATE_EVERY_S = 5.0
#: A new dropped count is published at most this often (seconds).
DROPPED_EVERY_S = 5.0
#: A failure repeating in a loop is logged at most this often (seconds).
LOG_EVERY_S = 60.0


class Throttled:
    """Logs a repeating failure once with its traceback, then a line per ``every_s`` with how
    often it happened since: an SD card's journal must not fill with ten tracebacks a second."""

    def __init__(self, what: str, every_s: float = LOG_EVERY_S) -> None:
        self.what, self.every_s = what, every_s
        self._last = -float("inf")
        self._count = 0
        self._lock = threading.Lock()

    def failed(self, err: BaseException) -> None:
        with self._lock:
            self._count += 1
            now = time.monotonic()
            if now - self._last < self.every_s:
                return
            first, count = self._last == -float("inf"), self._count
            self._last, self._count = now, 0
        if first:
            log.error("%s failed; retrying", self.what, exc_info=err)
        else:
            log.error("%s failed %d times in the last %.0f s; retrying: %s", self.what, count,
                      self.every_s, err)


@dataclass(frozen=True)
class AgentStats:
    #: Measurements stored and not yet receipted (queued or sent).
    queued: int
    #: Measurements (and messages) receipted as stored since start (PUBACKed, without
    #: receipts).
    published: int
    messages: int
    #: Wall time of the last receipt (or acknowledgement).
    last_publish_time: float | None
    connected: bool
    #: Measurements taken since start, and failed reads.
    sampled: int
    read_errors: int
    #: Measurements ever dropped to stay within the disk budget.
    dropped: int = 0
    #: Measurements ingest rejected for good since start (receipted with a reason).
    rejected: int = 0


def make_sources(config: AgentConfig, start: float) -> dict[str, Source]:
    """One source per asset; errors name the asset's source section."""
    sources: dict[str, Source] = {}
    for i, asset in enumerate(config.assets):
        try:
            source = SOURCES[asset.source](asset.settings, asset.to_asset(config.agent.tenant),
                                           start)
        except ConfigError as err:
            raise ConfigError(f"assets[{i}].{asset.source}.{err}") from None
        sources[asset.id] = source
    return sources


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        client_factory: ClientFactory | None = None,
        clock: Clock | None = None,
        tick_s: float = 0.1,
    ) -> None:
        self.config = config
        self.clock = clock or make_clock(config.clock.start, config.clock.speed)
        self.client_factory = client_factory or paho_client
        self.tick_s = tick_s
        self.sources = make_sources(config, self.clock.start)
        self.outbox = Outbox(config.buffer.path, config.agent.id, config.buffer.max_bytes)
        self._reporters = {a.id: Reporter(a.metrics) for a in config.assets}
        # Resume after the last stored sample: a restart never samples the same time twice.
        last = self.outbox.last_sampled()
        self._resume = {a.id: last[a.id] for a in config.assets if a.id in last}
        self._next_due: dict[str, float] = {}
        self._status_at = 0.0  # monotonic time of the last status refresh
        self._state_at = 0.0
        self._reported_dropped = -1
        self._was_connected = False
        self._sampled = 0
        self._read_errors = 0
        self._count_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None  # the publisher thread
        self._samplers: list[threading.Thread] = []
        self._sample_failures = Throttled("sampling")
        self._publish_failures = Throttled("publishing")
        self._publisher: Publisher | None = None
        self._final_stats: AgentStats | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background and start sampling."""
        if self._thread is not None:
            raise RuntimeError("agent already started")
        cfg = self.config
        client = self.client_factory(cfg.agent.id)
        self._publisher = Publisher(
            self.outbox, client, cfg.agent.tenant, cfg.agent.id, self._online_status,
            qos=cfg.mqtt.qos, max_pack=cfg.buffer.max_pack, wake=self._wake, mqtt=cfg.mqtt)
        will = wire.encode_status(cfg.agent.id, "offline", time.time(), idleshare.__version__)
        configure(client, cfg.mqtt, self._publisher.status_topic, will)
        quick = [a for a in cfg.assets if not self._blocking(a)]
        groups = ([quick] if quick else []) + [[a] for a in cfg.assets if self._blocking(a)]
        self._samplers = [threading.Thread(target=self._sample_loop, args=(group,),
                                           name=f"sample-{group[0].id}", daemon=True)
                          for group in groups]
        self._thread = threading.Thread(target=self._run, name=f"agent-{cfg.agent.id}",
                                        daemon=True)
        for thread in (*self._samplers, self._thread):
            thread.start()

    def _blocking(self, asset: AssetConfig) -> bool:
        return bool(getattr(self.sources[asset.id], "blocking", False))

    def stop(self, drain_s: float = 2.0) -> None:
        """Stop sampling, give queued readings ``drain_s`` to leave, then disconnect.

        Whatever is still unacknowledged stays in the outbox for the next run.
        """
        if self._thread is None or self._publisher is None:
            self.outbox.close()
            return
        self._stop.set()
        self._wake.set()
        self._thread.join()
        for sampler in self._samplers:
            # A blocking read ends within its own timeout; do not wait longer than that here.
            sampler.join(timeout=5.0)
        pub = self._publisher
        deadline = time.monotonic() + drain_s
        while self.outbox.count() and pub.connected and time.monotonic() < deadline:
            pub.pump()
            self._wake.wait(0.05)
            self._wake.clear()
        pub.pump()  # record the last acknowledgements
        pub.close(timeout=1.0)
        self._final_stats = self.stats
        self._write_state(force=True)
        self.outbox.close()
        self._thread = None

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Run until ``stop`` is set (the CLI sets it on SIGTERM and SIGINT) or Ctrl-C."""
        stop = stop or threading.Event()
        self.start()
        try:
            while not stop.is_set() and self._thread is not None and self._thread.is_alive():
                stop.wait(1.0)
        except KeyboardInterrupt:
            log.info("stopping")
        finally:
            self.stop()

    @property
    def stats(self) -> AgentStats:
        if self._final_stats is not None:  # stopped: the outbox is closed
            return self._final_stats
        pub = self._publisher
        return AgentStats(
            queued=self.outbox.count(),
            published=pub.published if pub else 0,
            messages=pub.messages if pub else 0,
            last_publish_time=pub.last_publish_time if pub else None,
            connected=pub.connected if pub else False,
            sampled=self._sampled,
            read_errors=self._read_errors,
            dropped=self.outbox.dropped,
            rejected=pub.rejected if pub else 0,
        )

    # -- worker -------------------------------------------------------------------------------

    def _run(self) -> None:
        """The publisher thread: acknowledgements, receipts, packs and status."""
        assert self._publisher is not None
        while not self._stop.is_set():
            try:
                self._publisher.pump()
                self._refresh_status()
                self._write_state()
            except Exception as err:  # outbox (StoreError) or a bug: try again next tick
                self._publish_failures.failed(err)
            self._wake.wait(self.tick_s)
            self._wake.clear()

    def _sample_loop(self, assets: list[AssetConfig]) -> None:
        while not self._stop.is_set():
            try:
                if self._sample_due(assets):
                    self._wake.set()  # new rows: the publisher looks at once
            except Exception as err:  # outbox (StoreError) or a bug: try again next tick
                self._sample_failures.failed(err)
            self._stop.wait(self.tick_s)

    def _sample_due(self, assets: list[AssetConfig]) -> bool:
        """Sample what is due; True if anything was stored."""
        now = self.clock.now()
        stored = False
        for asset in assets:
            due = self._next_due.get(asset.id)
            if due is None:  # first sample on the interval grid at or before now
                due = math.floor(now / asset.interval_s) * asset.interval_s
                if asset.id in self._resume:  # ... but after the last one stored
                    after = math.floor(self._resume[asset.id] / asset.interval_s) + 1
                    due = max(due, after * asset.interval_s)
            for _ in range(MAX_CATCH_UP):
                if due > now:
                    break
                readings = self._reporters[asset.id].filter(self._read(asset, due))
                stored = self._store(asset, readings, due) or stored
                due += asset.interval_s
            self._next_due[asset.id] = due
        return stored

    def _read(self, asset: AssetConfig, t: float) -> list[Measurement]:
        try:
            readings = self.sources[asset.id].read(t)
        except Exception:  # a plug-in's failure must not stop the agent
            with self._count_lock:
                self._read_errors += 1
            log.exception("reading %s at %s failed", asset.id, t)
            return []
        good = [m for m in readings if math.isfinite(m.value) and math.isfinite(m.time)]
        with self._count_lock:
            self._read_errors += len(readings) - len(good)
        return good

    def _store(self, asset: AssetConfig, readings: list[Measurement], due: float) -> bool:
        if not readings:
            return False
        kept = self.outbox.add(asset.id, readings, sampled_at=due)
        with self._count_lock:
            self._sampled += kept
        return True

    # -- status ---------------------------------------------------------------------------------

    def _online_status(self) -> bytes:
        """Birth and its refreshes: version, assets, queue depth and dropped count."""
        tenant = self.config.agent.tenant
        self._reported_dropped = dropped = self.outbox.dropped
        self._status_at = time.monotonic()
        return wire.encode_status(
            self.config.agent.id, "online", time.time(), idleshare.__version__,
            [a.announced(tenant) for a in self.config.assets],
            queued=self.outbox.count(), dropped=dropped, receipts=self.config.mqtt.receipts)

    def _refresh_status(self) -> None:
        """Republish the retained status every ``status_interval_s``, sooner on new drops."""
        assert self._publisher is not None
        since = time.monotonic() - self._status_at
        if since >= self.config.mqtt.status_interval_s or (
                since >= DROPPED_EVERY_S and self.outbox.dropped != self._reported_dropped):
            self._publisher.publish_status()

    def _write_state(self, force: bool = False) -> None:
        """What ``idleshare agent status`` shows, recorded in the outbox file."""
        pub = self._publisher
        connected = bool(pub and pub.connected and not force)
        now = time.monotonic()
        if not force and now - self._state_at < STATE_EVERY_S and connected == self._was_connected:
            return
        self._state_at, self._was_connected = now, connected
        state: dict[str, object] = dict(connected=connected, running=not force, pid=os.getpid(),
                                        updated=time.time())
        if pub and pub.last_publish_time is not None:  # else keep the previous run's
            state["last_publish"] = pub.last_publish_time
        self.outbox.set_state(**state)
