"""Run the analytics over every asset in the catalog, once or on a timer."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from analytics.byproduct_offers import publish_container
from analytics.fleet import FORECAST_LOOKBACK_S, FleetAsset, fleet_offers, long_enough
from analytics.fleet import METHOD as FORECAST_METHOD
from analytics.forecast import TooLittleHistory
from analytics.kpis import KPI_SOURCES_BY_KIND, AssetKpis, KindKpis, aggregate, asset_kpis
from analytics.leg_offers import publish_vehicle
from analytics.metrics import AnalyticsMetrics
from analytics.pipeline import Analysis, analyse
from analytics.policy import SharingPolicy, with_site_timezone
from analytics.publish import PublishCounts, publish
from analytics.series import free_quantity
from idleshare.assets import kind as asset_kind
from idleshare.errors import ConfigError
from idleshare.materials import MATERIAL_KINDS
from storage.catalog import AssetRow, Catalog
from storage.catalog.sites import site_timezones
from storage.readings import ReadingStore

log = logging.getLogger(__name__)

DEFAULT_LOOKBACK_S = 7 * 86400.0

#: Kinds with offers of their own, made after the pass's idle-window offers: a vehicle's
#: capacity on its recurring legs, a container's material to collect.
KIND_OFFERS: dict[str, Callable[[Catalog, ReadingStore, AssetRow, SharingPolicy, float],
                                PublishCounts]] = {
    "vehicle": publish_vehicle,
    "container": publish_container,
}


@dataclass(frozen=True)
class RunReport:
    """What one pass over the catalog did."""

    #: Assets analysed and stored without error.
    assets: int
    #: Idle windows stored.
    windows: int
    offers_created: int
    offers_withdrawn: int
    seconds: float
    #: Assets whose analysis failed (logged; their catalog rows are left as they were).
    errors: int = 0
    #: Fleet KPIs per kind over the lookback (:func:`analytics.kpis.aggregate`).
    kpis: dict[str, KindKpis] = field(default_factory=dict)
    #: Offers kept for the same window with a new quantity, confidence or listing.
    offers_updated: int = 0


def run_once(
    catalog: Catalog,
    store: ReadingStore,
    now: float | None = None,
    lookback_s: float = DEFAULT_LOOKBACK_S,
    assets: Sequence[AssetRow] | None = None,
    metrics: AnalyticsMetrics | None = None,
) -> RunReport:
    """Analyse every asset (or only ``assets``: a worker's share, :mod:`analytics.workers`)
    over ``[now - lookback_s, now)`` and store windows and offers; count them in ``metrics``.

    One asset's failure is logged and counted, and the others still run; each asset is written
    in its own transaction, so a failure leaves that asset's rows as they were.
    """
    began = time.perf_counter()
    now = time.time() if now is None else now
    if not lookback_s > 0:
        raise ValueError(f"lookback_s must be > 0: got {lookback_s}")
    rows = catalog.assets() if assets is None else assets
    zones = site_timezones(catalog)
    analysed = windows = created = updated = withdrawn = errors = 0
    # Assets with weeks of history wait for one forecaster per kind, fitted on all of them.
    waiting: dict[str, list[tuple[AssetRow, SharingPolicy, Analysis, FleetAsset]]] = {}
    done: list[PublishCounts] = []
    kpis: list[AssetKpis] = []
    for row in rows:
        try:
            zone = zones.get((row.tenant_id, row.id))
            policy, analysis, history = _analyse_asset(store, row, zone, now, lookback_s, kpis)
            if history is None or row.kind in MATERIAL_KINDS:
                done.append(_publish(catalog, row, policy, analysis, now))
            else:
                waiting.setdefault(row.kind, []).append((row, policy, analysis, history))
        except Exception:
            # Any fault stays with its asset: log it with the traceback and carry on.
            log.exception("analytics failed for asset %s/%s", row.tenant_id, row.id)
            errors += 1
    for group in waiting.values():
        try:
            offers = fleet_offers([h for *_, h in group], now)
        except Exception as err:
            if isinstance(err, TooLittleHistory):  # young assets: expected, not a fault
                log.info("%s; seasonal-naive offers instead", err)
            else:
                log.exception("forecaster failed; seasonal-naive offers instead")
            offers = [a.offers for _, _, a, _ in group]
            methods = [a.method for _, _, a, _ in group]
        else:
            methods = [FORECAST_METHOD] * len(group)
        for (row, policy, analysis, _), o, m in zip(group, offers, methods, strict=True):
            try:
                done.append(_publish(catalog, row, policy,
                                     replace(analysis, offers=o, method=m), now))
            except Exception:
                log.exception("analytics failed for asset %s/%s", row.tenant_id, row.id)
                errors += 1
    kind_offers = []
    for row in rows:
        publish_kind = KIND_OFFERS.get(row.kind)
        if publish_kind is not None:
            try:
                policy = SharingPolicy.from_dict(
                    with_site_timezone(row.policy, zones.get((row.tenant_id, row.id))))
                kind_offers.append(publish_kind(catalog, store, row, policy, now))
            except Exception:
                log.exception("%s offers failed for asset %s/%s", row.kind, row.tenant_id,
                              row.id)
                errors += 1
    analysed = len(done)  # leg and by-product offers are more offers of assets counted
    for counts in done + kind_offers:
        windows += counts.windows
        created += counts.created
        updated += counts.updated
        withdrawn += counts.withdrawn
    report = RunReport(assets=analysed, windows=windows, offers_created=created,
                       offers_withdrawn=withdrawn, seconds=time.perf_counter() - began,
                       errors=errors, kpis=aggregate(kpis), offers_updated=updated)
    if metrics is not None:
        metrics.analysed(report)
    return report


def _analyse_asset(store: ReadingStore, row: AssetRow, site_timezone: str | None, now: float,
                   lookback_s: float, kpis: list[AssetKpis]
                   ) -> tuple[SharingPolicy, Analysis, FleetAsset | None]:
    """Idle windows and seasonal-naive offers; the history too if it is long enough for the
    forecaster. Appends the asset's KPIs over the lookback to ``kpis``. Blackout hours are in
    the asset's site's zone unless its policy names one."""
    policy = SharingPolicy.from_dict(with_site_timezone(row.policy, site_timezone))
    metric = asset_kind(row.kind).primary_metric
    since = now - max(lookback_s, FORECAST_LOOKBACK_S)
    readings = np.asarray(store.query(row.tenant_id, row.id, metric, since, now),
                          dtype=float).reshape(-1, 2)
    recent = readings[readings[:, 0] >= now - lookback_s]
    analysis = analyse(recent, row.kind, row.capacity, policy, now, lookback_s)
    try:
        # The other metrics the kind's KPIs read (machine power, vehicle load).
        series = {metric: recent} | {
            m: store.query(row.tenant_id, row.id, m, now - lookback_s, now)
            for m in KPI_SOURCES_BY_KIND[row.kind].metrics if m != metric}
        kpis.append(asset_kpis(row, series, now - lookback_s, now))
    except Exception:
        # KPIs are a report: their failure must not hold back the asset's offers.
        log.exception("KPIs failed for asset %s/%s", row.tenant_id, row.id)
    if not long_enough(readings[:, 0], now):
        return policy, analysis, None
    free = free_quantity(row.kind, readings[:, 1], row.capacity)
    return policy, analysis, FleetAsset(readings[:, 0], free, row.capacity, policy)


def _publish(catalog: Catalog, row: AssetRow, policy: SharingPolicy, analysis: Analysis,
             now: float) -> PublishCounts:
    with catalog.session() as session:
        return publish(session, row, policy, analysis, now)


def run_forever(
    catalog: Catalog,
    store: ReadingStore,
    interval_s: float,
    stop: threading.Event,
    lookback_s: float = DEFAULT_LOOKBACK_S,
    metrics: AnalyticsMetrics | None = None,
) -> int:
    """Call :func:`run_once` every ``interval_s`` seconds until ``stop`` is set, counting each
    pass in ``metrics``.

    Never dies on an error: failed assets and failed passes are logged and counted.

    Returns
    -------
    int
        Errors counted (failed assets plus failed passes) before ``stop`` was set.

    Raises
    ------
    ConfigError
        If ``interval_s`` is not positive (checked before the first pass).
    """
    if not interval_s > 0:
        raise ConfigError(f"analytics_interval_s must be > 0: got {interval_s}")
    errors = 0
    while not stop.is_set():
        try:
            report = run_once(catalog, store, lookback_s=lookback_s, metrics=metrics)
        except Exception:
            log.exception("analytics pass failed")
            errors += 1
            if metrics is not None:
                metrics.pass_failed()
        else:
            errors += report.errors
            if metrics is not None:
                metrics.pass_done(report.seconds)
            log.info("analytics pass: %s", replace(report, kpis={}))
            for k in report.kpis.values():
                log.info("fleet KPIs %s: %s", k.kind, k)
        stop.wait(interval_s)
    return errors
