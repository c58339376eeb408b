"""Analytics metrics after real passes: one process, a worker, and the command's port."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import generate_latest

from analytics.metrics import AnalyticsMetrics
from analytics.runner import run_forever, run_once
from analytics.workers import run_pass
from idleshare.assets import Asset
from idleshare.errors import StoreError
from storage.catalog import Catalog
from storage.readings import Reading, ReadingStore
from storage.sqlite import SqliteReadingStore
from tests.observability.helpers import (
    Command,
    listen_addresses,
    samples,
    scrape,
    value,
    wait_until,
)
from tests.servers import free_port

H = 3600.0
T0 = 1_700_006_400.0  # a UTC midnight
TENANT, BAY = "acme", "bay-1"
P = "idleshare_analytics_"


@pytest.fixture
def catalog(sqlite_catalog: Catalog) -> Catalog:
    sqlite_catalog.upsert_asset(Asset(id=BAY, tenant=TENANT, kind="warehouse_zone",
                                      capacity=100.0, unit="pallet"))
    return sqlite_catalog


@pytest.fixture
def store(sqlite_store: SqliteReadingStore) -> SqliteReadingStore:
    return sqlite_store


def occupancy(store: ReadingStore, start_h: float, end_h: float, occupied: float) -> None:
    hours = np.arange(start_h, end_h, 0.5)
    store.write([Reading(TENANT, BAY, "occupied", T0 + h * H, occupied) for h in hours])


def counted(metrics: AnalyticsMetrics) -> list[tuple[str, dict[str, str], float]]:
    return samples(generate_latest(metrics.registry).decode())


class FailingFor:
    """Queries for one asset fail (its analysis is an error; the others run)."""

    def __init__(self, inner: ReadingStore, asset: str) -> None:
        self.inner, self.asset = inner, asset

    def query(self, tenant: str, asset: str, metric: str, start: float,
              end: float) -> list[tuple[float, float]]:
        if asset == self.asset:
            raise StoreError("readings backend is down")
        return self.inner.query(tenant, asset, metric, start, end)


def test_offers_created_updated_and_withdrawn_and_failed_assets_are_counted(
    catalog: Catalog, store: SqliteReadingStore
) -> None:
    metrics = AnalyticsMetrics()
    catalog.upsert_asset(Asset(id="broken", tenant=TENANT, kind="machine", capacity=1.0,
                               unit="machine"))
    failing = FailingFor(store, "broken")
    occupancy(store, 0, 8, 90.0)
    occupancy(store, 8, 10, 20.0)  # idle from 08:00: an ongoing window, one offer
    first = run_once(catalog, failing, now=T0 + 9.75 * H, metrics=metrics)  # type: ignore[arg-type]
    occupancy(store, 10, 10.5, 20.0)
    occupancy(store, 10.5, 11, 90.0)  # busy again at 10:30: the same offer, shorter
    second = run_once(catalog, failing, now=T0 + 10.75 * H, metrics=metrics)  # type: ignore[arg-type]
    occupancy(store, 8, 11, 95.0)  # rewritten: the slot was busy after all
    third = run_once(catalog, failing, now=T0 + 11 * H, metrics=metrics)  # type: ignore[arg-type]

    assert (first.offers_created, second.offers_updated, third.offers_withdrawn) == (1, 1, 1)
    found = counted(metrics)
    assert value(found, P + "offers_created_total") == 1
    assert value(found, P + "offers_updated_total") == 1
    assert value(found, P + "offers_withdrawn_total") == 1
    assert value(found, P + "assets_analysed_total") == 3
    assert value(found, P + "asset_errors_total") == 3


def test_run_forever_counts_its_passes_and_their_duration(
    catalog: Catalog, store: SqliteReadingStore
) -> None:
    stop = threading.Event()

    class StopAfterTwoPasses(AnalyticsMetrics):
        def pass_done(self, seconds: float) -> None:
            super().pass_done(seconds)
            if value(counted(self), P + "passes_total") == 2:
                stop.set()

    metrics = StopAfterTwoPasses()
    run_forever(catalog, store, 0.01, stop, metrics=metrics)
    found = counted(metrics)
    assert value(found, P + "passes_total") == 2
    assert value(found, P + "pass_seconds_count") == 2
    assert value(found, P + "last_pass_timestamp_seconds") > T0


def test_a_worker_counts_its_pass(catalog: Catalog, store: SqliteReadingStore) -> None:
    metrics = AnalyticsMetrics()
    occupancy(store, 0, 8, 90.0)
    report = run_pass(catalog, store, "w1", 60.0, 10.0, metrics=metrics)

    assert report.assets == 1
    found = counted(metrics)
    assert value(found, P + "assets_analysed_total") == 1
    assert value(found, P + "passes_total") == value(found, P + "pass_seconds_count") == 1


def test_the_command_serves_its_metrics_on_loopback(tmp_path: Path) -> None:
    port = free_port()
    command = Command(["analytics", "--metrics-port", str(port)], tmp_path,
                      IDLESHARE_ANALYTICS_INTERVAL_S="0.5")
    try:
        found = wait_until(
            lambda: (f := scrape(port)) and value(f, P + "passes_total") >= 1 and f,
            "an analytics pass on the metrics port")
        assert value(found, P + "pass_failures_total") == 0
        assert listen_addresses(port) == ["127.0.0.1"]
    finally:
        _out, err = command.stop()
    assert command.proc.returncode == 0, err
