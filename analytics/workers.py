"""Analytics on several workers: each pass split among the live ones through leases in the
catalog (:mod:`storage.catalog.leases`).

Pass ``k`` covers the interval ``[k·interval_s, (k+1)·interval_s)``. A worker claims a fair
share of the buckets of assets for the pass, analyses them (:func:`analytics.runner.run_once`
over those assets) while a thread renews its claims, marks them done, and claims again until
every bucket is done. When nothing is left to claim but other workers' buckets are unfinished,
it waits and watches: a claim that lapses (its worker died) is taken over, so a dead worker's
assets are analysed within the pass as long as ``lease_s`` is well under ``interval_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from analytics.metrics import AnalyticsMetrics
from analytics.runner import DEFAULT_LOOKBACK_S, run_once
from idleshare.errors import ConfigError
from storage.catalog import AssetRow, Catalog
from storage.catalog import leases as L
from storage.readings import ReadingStore

log = logging.getLogger(__name__)


@dataclass
class PassReport:
    """What one worker did in one pass."""

    pass_no: int
    #: Buckets this worker analysed and finished, and the assets in them.
    buckets: list[int] = field(default_factory=list)
    assets: int = 0
    errors: int = 0
    #: Buckets finished by this worker after its claim had lapsed and been taken over.
    lost: int = 0


class _Renewer:
    """Keeps this worker's claims alive while it analyses them (its own sessions)."""

    def __init__(self, catalog: Catalog, worker_id: str, pass_no: int, buckets: Sequence[int],
                 lease_s: float, clock: Callable[[], float]) -> None:
        self.args = (catalog, worker_id, pass_no, list(buckets), lease_s, clock)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        catalog, worker_id, pass_no, buckets, lease_s, clock = self.args
        while not self.stop.wait(lease_s / 3):
            try:
                with catalog.session() as s:
                    L.renew(s, worker_id, pass_no, buckets, clock(), lease_s)
            except Exception:  # the next renewal may work; a lapse only means shared work
                log.exception("cannot renew analytics leases of %s", worker_id)

    def __enter__(self) -> _Renewer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join()


def run_pass(catalog: Catalog, store: ReadingStore, worker_id: str, interval_s: float,
             lease_s: float, stop: threading.Event | None = None,
             lookback_s: float = DEFAULT_LOOKBACK_S,
             clock: Callable[[], float] = time.time,
             metrics: AnalyticsMetrics | None = None) -> PassReport:
    """Take part in the current pass until all its buckets are done (or the pass is over, or
    ``stop`` is set); returns what this worker did, and counts it in ``metrics``."""
    stop = stop or threading.Event()
    began = clock()
    pass_no = int(began // interval_s)
    end = (pass_no + 1) * interval_s
    report = PassReport(pass_no)
    with catalog.session() as s:
        L.heartbeat(s, worker_id, began, interval_s + lease_s)
        L.ensure_buckets(s)
    while not stop.is_set():
        now = clock()
        with catalog.session() as s:
            mine = L.claim(s, worker_id, pass_no, now, lease_s)
        if mine:
            report.buckets += _analyse(catalog, store, worker_id, pass_no, mine, lease_s,
                                       lookback_s, clock, report, metrics)
            continue
        with catalog.session() as s:
            done, _ = L.pass_state(s, pass_no, now)
        if done >= L.BUCKETS or now >= end:
            break
        stop.wait(lease_s / 4)  # others' claims unfinished: watch for one that lapses
    if metrics is not None:
        metrics.pass_done(clock() - began)
    return report


def _analyse(catalog: Catalog, store: ReadingStore, worker_id: str, pass_no: int,
             buckets: list[int], lease_s: float, lookback_s: float,
             clock: Callable[[], float], report: PassReport,
             metrics: AnalyticsMetrics | None) -> list[int]:
    wanted = set(buckets)
    share: list[AssetRow] = [a for a in catalog.assets()
                             if L.bucket_of(a.tenant_id, a.id) in wanted]
    with _Renewer(catalog, worker_id, pass_no, buckets, lease_s, clock):
        result = run_once(catalog, store, now=clock(), lookback_s=lookback_s, assets=share,
                          metrics=metrics)
    with catalog.session() as s:
        kept = L.finish(s, worker_id, pass_no, buckets)
    report.assets += result.assets
    report.errors += result.errors
    report.lost += len(buckets) - len(kept)
    if len(kept) < len(buckets):
        log.warning("analytics worker %s: buckets %s were taken over before it finished them",
                    worker_id, sorted(wanted - set(kept)))
    return kept


def run_worker(catalog: Catalog, store: ReadingStore, worker_id: str, interval_s: float,
               lease_s: float, stop: threading.Event,
               lookback_s: float = DEFAULT_LOOKBACK_S,
               metrics: AnalyticsMetrics | None = None) -> int:
    """Take part in every pass until ``stop``, counting each in ``metrics``; leaves the live
    set on the way out. Returns the errors counted (failed assets plus failed passes)."""
    if not interval_s > 0:
        raise ConfigError(f"analytics_interval_s must be > 0: got {interval_s}")
    if not 0 < lease_s < interval_s:
        raise ConfigError(f"analytics_lease_s must be > 0 and below analytics_interval_s "
                          f"({interval_s}): got {lease_s}")
    errors = 0
    try:
        while not stop.is_set():
            try:
                report = run_pass(catalog, store, worker_id, interval_s, lease_s, stop,
                                  lookback_s, metrics=metrics)
            except Exception:
                log.exception("analytics pass failed on worker %s", worker_id)
                errors += 1
                if metrics is not None:
                    metrics.pass_failed()
                pass_no = int(time.time() // interval_s)
            else:
                errors += report.errors
                pass_no = report.pass_no
                log.info("analytics worker %s: %s", worker_id, report)
            stop.wait(max((pass_no + 1) * interval_s - time.time(), 0.0))
    finally:
        try:
            with catalog.session() as s:
                L.leave(s, worker_id)
        except Exception:
            log.exception("analytics worker %s could not leave cleanly", worker_id)
    return errors
