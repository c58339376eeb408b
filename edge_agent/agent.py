"""The edge agent: samples every asset on the clock, stores readings, publishes them.

One worker thread samples each asset every ``interval_s`` of clock time into the durable outbox
and lets the :class:`Publisher` move packs to the broker; paho runs its own network thread.
Read failures are logged and counted, never fatal. A fast simulated clock is caught up by
sampling every due time, so the series has no holes.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

import idleshare
from edge_agent.clock import Clock, make_clock
from edge_agent.config import AgentConfig, AssetConfig
from edge_agent.mqtt import ClientFactory, configure, paho_client
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher
from edge_agent.sources import SOURCES, Source
from idleshare import wire
from idleshare.errors import ConfigError
from idleshare.wire import Measurement

log = logging.getLogger(__name__)

#: Samples per asset taken in one pass while catching up, so the loop stays responsive.
MAX_CATCH_UP = 500


@dataclass(frozen=True)
class AgentStats:
    #: Measurements stored but not yet acknowledged by the broker.
    queued: int
    #: Measurements (and messages) the broker acknowledged since start.
    published: int
    messages: int
    #: Wall time of the last acknowledgement.
    last_publish_time: float | None
    connected: bool
    #: Measurements taken since start, and failed reads.
    sampled: int
    read_errors: int


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
        self.outbox = Outbox(config.buffer.path, config.agent.id)
        self._next_due: dict[str, float] = {}
        self._sampled = 0
        self._read_errors = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
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
            self.outbox, client, cfg.agent.tenant, cfg.agent.id, self._birth,
            qos=cfg.mqtt.qos, max_pack=cfg.buffer.max_pack, wake=self._wake)
        will = wire.encode_status(cfg.agent.id, "offline", time.time(), idleshare.__version__)
        configure(client, cfg.mqtt, self._publisher.status_topic, will)
        self._thread = threading.Thread(target=self._run, name=f"agent-{cfg.agent.id}",
                                        daemon=True)
        self._thread.start()

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
        pub = self._publisher
        deadline = time.monotonic() + drain_s
        while self.outbox.count() and pub.connected and time.monotonic() < deadline:
            pub.pump()
            self._wake.wait(0.05)
            self._wake.clear()
        pub.pump()  # record the last acknowledgements
        pub.close(timeout=1.0)
        self._final_stats = self.stats
        self.outbox.close()
        self._thread = None

    def run_forever(self) -> None:
        """Run until interrupted (Ctrl-C, or SIGTERM turned into KeyboardInterrupt)."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(1.0)
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
        )

    # -- worker -------------------------------------------------------------------------------

    def _run(self) -> None:
        assert self._publisher is not None
        while not self._stop.is_set():
            try:
                self._sample_due()
                self._publisher.pump()
            except Exception:  # outbox (StoreError) or a bug: log, and try again next tick
                log.exception("agent pass failed; retrying")
            self._wake.wait(self.tick_s)
            self._wake.clear()

    def _sample_due(self) -> None:
        now = self.clock.now()
        for asset in self.config.assets:
            due = self._next_due.get(asset.id)
            if due is None:  # first sample on the interval grid at or before now
                due = math.floor(now / asset.interval_s) * asset.interval_s
            for _ in range(MAX_CATCH_UP):
                if due > now:
                    break
                self._store(asset, self._read(asset, due))
                due += asset.interval_s
            self._next_due[asset.id] = due

    def _read(self, asset: AssetConfig, t: float) -> list[Measurement]:
        try:
            readings = self.sources[asset.id].read(t)
        except Exception:  # a plug-in's failure must not stop the agent
            self._read_errors += 1
            log.exception("reading %s at %s failed", asset.id, t)
            return []
        good = [m for m in readings if math.isfinite(m.value) and math.isfinite(m.time)]
        self._read_errors += len(readings) - len(good)
        return good

    def _store(self, asset: AssetConfig, readings: list[Measurement]) -> None:
        if readings:
            self._sampled += self.outbox.add(asset.id, readings)

    def _birth(self) -> bytes:
        tenant = self.config.agent.tenant
        return wire.encode_status(
            self.config.agent.id, "online", time.time(), idleshare.__version__,
            [a.to_asset(tenant).to_dict() for a in self.config.assets])
