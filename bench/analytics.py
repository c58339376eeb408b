"""``python -m bench analytics``: forecasts and offers for a big synthetic fleet.

Each asset is a storage zone with a daily and weekly occupancy pattern of its own (phase,
amplitude, weekend level) plus noise, read every ``step_s`` seconds for ``days`` days. The
benchmark times the work of an analytics pass after the readings are in memory: hourly
aggregation, one fleet forecaster (fit and predict) and the offers of every asset.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from analytics.fleet import FleetAsset, fleet_offers
from analytics.policy import SharingPolicy


@dataclass(frozen=True)
class BenchResult:
    assets: int
    readings: int
    offers: int
    generate_s: float
    forecast_and_offers_s: float


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


def run(assets: int = 10_000, days: int = 30, step_s: float = 300.0,
        seed: int = 0) -> BenchResult:
    now = 1_700_006_400.0  # a UTC midnight
    began = time.perf_counter()
    fleet = synthetic_fleet(assets, days, step_s, now, seed)
    generated = time.perf_counter()
    offers = fleet_offers(fleet, now, lookback_s=days * 86400.0)
    done = time.perf_counter()
    return BenchResult(assets=assets, readings=sum(a.times.size for a in fleet),
                       offers=sum(len(o) for o in offers), generate_s=generated - began,
                       forecast_and_offers_s=done - generated)


def report(result: BenchResult) -> str:
    r = result
    per = r.forecast_and_offers_s / max(r.assets, 1) * 1000
    return (f"analytics bench: {r.assets} assets, {r.readings} readings "
            f"(generated in {r.generate_s:.1f} s)\n"
            f"  forecasts and offers: {r.forecast_and_offers_s:.1f} s "
            f"({per:.2f} ms per asset), {r.offers} offers\n"
            f"  limit: 300 s for 10,000 assets x 30 days of 5-minute history")
