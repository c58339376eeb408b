"""``python -m bench analytics-workers``: one analytics pass over a big fleet with 1 worker and
with 2 worker processes, in the same run, on a throw-away PostgreSQL catalog.

Each pass is the real one (:func:`analytics.workers.run_pass`: leases, per-asset analysis and
KPIs, the fleet forecaster per worker's share, publishing offers in a transaction per asset
with its row locks). Readings come from an in-process synthetic store (each zone's daily and
weekly occupancy pattern plus noise, computed on query from its seed), so the figure measures
analytics and the catalog, not a readings database. Each worker count gets a fresh database
with the same assets, so both passes create the same offers.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from storage.readings import Reading

INTERVAL_S = 1_000_000.0  # one pass per run: the pass never ends mid-benchmark
LEASE_S = 60.0


class SyntheticStore:
    """The ReadingStore port over synthetic zone occupancy (capacity 100), read-only."""

    def __init__(self, step_s: float = 300.0) -> None:
        self.step_s = step_s

    def query(self, tenant: str, asset: str, metric: str, start: float,
              end: float) -> list[tuple[float, float]] | np.ndarray:
        if metric != "occupied":
            return []
        rng = np.random.default_rng(zlib.crc32(f"{tenant}/{asset}".encode()))
        phase, amp, low = rng.uniform(0, 24), rng.uniform(20, 45), rng.uniform(0.3, 1.0)
        times = np.arange(np.ceil(start / self.step_s) * self.step_s, end, self.step_s)
        hour = times / 3600.0 % 24
        weekend = (times // 86400 + 3) % 7 >= 5
        used = 50 + amp * np.sin((hour - phase) / 24 * 2 * np.pi)
        used = np.where(weekend, used * low, used) + rng.normal(0, 5, times.size)
        return np.column_stack([times, np.clip(used, 0, 100)])

    def write(self, readings: Sequence[Reading]) -> None:
        raise NotImplementedError("read-only")

    def count(self, tenant: str | None = None) -> int:
        return 0

    def close(self) -> None:
        pass


def _worker(url: str, worker_id: str, base: float, start: object, out: object) -> None:
    from analytics.workers import run_pass
    from storage.catalog import Catalog

    catalog = Catalog(url)
    origin = time.time()
    start.wait()  # type: ignore[attr-defined]
    began = time.perf_counter()
    # An array, not a list of pairs: the runner takes either (np.asarray), and building a
    # list of 8,640 tuples per asset would time Python, not analytics.
    report = run_pass(catalog, SyntheticStore(), worker_id, INTERVAL_S, LEASE_S,  # type: ignore[arg-type]
                      lookback_s=7 * 86400.0, clock=lambda: base + time.time() - origin)
    out.put((worker_id, report.assets, len(report.buckets),  # type: ignore[attr-defined]
             time.perf_counter() - began))
    catalog.close()


@dataclass(frozen=True)
class PassFigures:
    workers: int
    seconds: float
    #: (worker id, assets, buckets, seconds) per worker.
    per_worker: list[tuple[str, int, int, float]]


def _fleet(url: str, assets: int) -> None:
    from storage.catalog import AssetRow, Catalog, Tenant

    catalog = Catalog(url)
    with catalog.session() as s:
        s.add_all(Tenant(id=f"t{n}", name=f"t{n}") for n in range(50))
        s.flush()
        s.add_all(AssetRow(tenant_id=f"t{n % 50}", id=f"zone-{n}", kind="warehouse_zone",
                           name="", capacity=100.0, unit="pallet", metrics=["occupied"],
                           policy={}, online=True) for n in range(assets))
    catalog.close()


def one_pass(url: str, workers: int) -> PassFigures:
    from storage.catalog import Catalog
    from storage.catalog import leases as L

    base = 1_700_006_400.0  # a UTC midnight, inside one pass
    catalog = Catalog(url)
    with catalog.session() as s:  # all declared live first, so each claims a fair share
        for i in range(workers):
            L.heartbeat(s, f"w{i}", base, INTERVAL_S)
    catalog.close()
    spawn = multiprocessing.get_context("spawn")
    start, out = spawn.Barrier(workers + 1), spawn.Queue()
    procs = [spawn.Process(target=_worker, args=(url, f"w{i}", base, start, out))
             for i in range(workers)]
    # The forecaster's gradient boosting runs OpenMP threads, one per core by default: with
    # several workers on one host, share the cores out or they oversubscribe them.
    threads = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    try:
        for p in procs:
            p.start()
    finally:
        if threads is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = threads
    start.wait()
    began = time.perf_counter()
    per = sorted(out.get(timeout=1800) for _ in procs)
    seconds = time.perf_counter() - began
    for p in procs:
        p.join()
    return PassFigures(workers, seconds, per)


def run(assets: int = 10_000) -> list[PassFigures]:
    from shell.localpostgres import start_postgres

    server = start_postgres()
    try:
        figures = []
        for workers in (1, 2):
            url = server.create_database(f"bench_{workers}")
            _fleet(url, assets)
            figures.append(one_pass(url, workers))
        return figures
    finally:
        server.remove()


def report(figures: list[PassFigures], assets: int) -> str:
    lines = [f"analytics workers bench: {assets} zones x 30 days of 5-minute readings "
             "(synthetic, in process), PostgreSQL catalog, one pass each"]
    for f in figures:
        parts = ", ".join(f"{w}: {a} assets in {b} buckets, {s:.1f} s" for w, a, b, s in
                          f.per_worker)
        lines.append(f"  {f.workers} worker(s): {f.seconds:.1f} s "
                     f"({assets / f.seconds:.0f} assets/s) [{parts}]")
    if len(figures) == 2:
        lines.append(f"  speed-up 2 vs 1: {figures[0].seconds / figures[1].seconds:.2f}x")
    return "\n".join(lines)
