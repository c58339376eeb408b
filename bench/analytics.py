"""``python -m bench analytics``: forecasts and offers for a big synthetic fleet.

Each asset is a storage zone with a daily and weekly occupancy pattern of its own (phase,
amplitude, weekend level) plus noise, read every ``step_s`` seconds for ``days`` days. The
benchmark times the work of an analytics pass after the readings are in memory: hourly
aggregation, one fleet forecaster (fit and predict) and the offers of every asset.

The fleet is streamed in chunks of ``chunk`` assets, generated, analysed and dropped one
after the other, so memory stays that of one chunk: 100,000 assets x 30 days of 5-minute
readings are 6.9 GB of free quantities alone. Each chunk goes through
:func:`analytics.fleet.fleet_offers`, as a worker's share of a pass does in production
(:mod:`analytics.workers` runs :func:`analytics.runner.run_once` over the assets of the
buckets it claimed, which fits that share's forecaster and makes its offers).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from analytics.fleet import FleetAsset, fleet_offers
from analytics.policy import SharingPolicy

NOW = 1_700_006_400.0  # a UTC midnight
#: Assets generated and analysed at a time (a worker's share of a pass in production).
DEFAULT_CHUNK = 10_000
#: The scale target: 10,000 assets x 30 days of 5-minute history within this many seconds.
LIMIT_S = 300.0


@dataclass(frozen=True)
class BenchResult:
    assets: int
    readings: int
    offers: int
    chunks: int
    generate_s: float
    forecast_and_offers_s: float
    #: Peak resident memory of this process so far (``getrusage``), MB.
    peak_rss_mb: float
    #: 1-minute load average when the run started and when it ended.
    load_before: float
    load_after: float

    @property
    def assets_per_s(self) -> float:
        return self.assets / self.forecast_and_offers_s


def synthetic_fleet(assets: int, days: int, step_s: float, now: float,
                    seed: int = 0) -> list[FleetAsset]:
    """Free quantity of ``assets`` zones of capacity 100 over the ``days`` before ``now``."""
    rng = np.random.default_rng(seed)
    times = now - days * 86400.0 + step_s * np.arange(int(days * 86400 / step_s))
    hour = times / 3600.0 % 24
    weekend = (times // 86400 + 3) % 7 >= 5
    policy = SharingPolicy.from_dict({})
    fleet = []
    for _ in range(assets):
        phase, amp, low = rng.uniform(0, 24), rng.uniform(20, 45), rng.uniform(0.3, 1.0)
        used = 50 + amp * np.sin((hour - phase) / 24 * 2 * np.pi)
        used = np.where(weekend, used * low, used) + rng.normal(0, 5, times.size)
        fleet.append(FleetAsset(times, np.clip(100 - used, 0, 100), 100.0, policy))
    return fleet


def peak_rss_mb() -> float:
    """Peak resident memory of this process, MB (Linux reports ``ru_maxrss`` in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(assets: int = 10_000, days: int = 30, step_s: float = 300.0, seed: int = 0,
        chunk: int = DEFAULT_CHUNK) -> BenchResult:
    """Generate and analyse ``assets`` zones, ``chunk`` at a time (chunk ``k`` from seed
    ``seed + k``); only the analysis is timed as forecasts and offers."""
    if assets < 1 or chunk < 1:
        raise ValueError(f"assets and chunk must be >= 1: got {assets}, {chunk}")
    load_before = os.getloadavg()[0]
    generate_s = analyse_s = 0.0
    readings = offers = chunks = 0
    for k, start in enumerate(range(0, assets, chunk)):
        began = time.perf_counter()
        fleet = synthetic_fleet(min(chunk, assets - start), days, step_s, NOW, seed + k)
        generated = time.perf_counter()
        chunk_offers = fleet_offers(fleet, NOW, lookback_s=days * 86400.0)
        analyse_s += time.perf_counter() - generated
        generate_s += generated - began
        readings += sum(a.times.size for a in fleet)
        offers += sum(len(o) for o in chunk_offers)
        chunks += 1
        del fleet, chunk_offers  # before the next chunk is generated: one chunk in memory
    return BenchResult(assets=assets, readings=readings, offers=offers, chunks=chunks,
                       generate_s=generate_s, forecast_and_offers_s=analyse_s,
                       peak_rss_mb=peak_rss_mb(), load_before=load_before,
                       load_after=os.getloadavg()[0])


def run_sizes(sizes: Iterable[int], days: int = 30, step_s: float = 300.0,
              chunk: int = DEFAULT_CHUNK) -> list[BenchResult]:
    """:func:`run` for each fleet size, smallest first (the peak RSS is the process's)."""
    return [run(n, days, step_s, chunk=chunk) for n in sorted(sizes)]


def report(result: BenchResult) -> str:
    r = result
    per = r.forecast_and_offers_s / max(r.assets, 1) * 1000
    return (f"analytics bench: {r.assets} assets, {r.readings} readings in {r.chunks} "
            f"chunk(s) (generated in {r.generate_s:.1f} s, not counted)\n"
            f"  forecasts and offers: {r.forecast_and_offers_s:.1f} s "
            f"({per:.2f} ms per asset, {r.assets_per_s:.0f} assets/s), {r.offers} offers\n"
            f"  peak RSS {r.peak_rss_mb:.0f} MB (process so far); load average "
            f"{r.load_before:.2f} -> {r.load_after:.2f} (1 min, {os.cpu_count()} cores)\n"
            f"  limit: {LIMIT_S:.0f} s for 10,000 assets x 30 days of 5-minute history")


def report_sizes(results: Iterable[BenchResult]) -> str:
    return "\n".join(report(r) for r in results)
