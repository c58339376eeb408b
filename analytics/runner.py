"""Run the analytics over every asset in the catalog, once or on a timer."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from analytics.pipeline import analyse
from analytics.policy import SharingPolicy
from analytics.publish import PublishCounts, publish
from idleshare.assets import kind as asset_kind
from idleshare.errors import ConfigError
from storage.catalog import AssetRow, Catalog
from storage.readings import ReadingStore

log = logging.getLogger(__name__)

DEFAULT_LOOKBACK_S = 7 * 86400.0


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


def run_once(
    catalog: Catalog,
    store: ReadingStore,
    now: float | None = None,
    lookback_s: float = DEFAULT_LOOKBACK_S,
) -> RunReport:
    """Analyse every asset over ``[now - lookback_s, now)`` and store windows and offers.

    One asset's failure is logged and counted, and the others still run; each asset is written
    in its own transaction, so a failure leaves that asset's rows as they were.
    """
    began = time.perf_counter()
    now = time.time() if now is None else now
    if not lookback_s > 0:
        raise ValueError(f"lookback_s must be > 0: got {lookback_s}")
    assets = windows = created = withdrawn = errors = 0
    for row in catalog.assets():
        try:
            counts = _run_asset(catalog, store, row, now, lookback_s)
        except Exception:
            # Any fault stays with its asset: log it with the traceback and carry on.
            log.exception("analytics failed for asset %s/%s", row.tenant_id, row.id)
            errors += 1
            continue
        assets += 1
        windows += counts.windows
        created += counts.created
        withdrawn += counts.withdrawn
    return RunReport(assets=assets, windows=windows, offers_created=created,
                     offers_withdrawn=withdrawn, seconds=time.perf_counter() - began,
                     errors=errors)


def _run_asset(catalog: Catalog, store: ReadingStore, row: AssetRow, now: float,
               lookback_s: float) -> PublishCounts:
    policy = SharingPolicy.from_dict(row.sharing_policy())
    metric = asset_kind(row.kind).primary_metric
    readings = store.query(row.tenant_id, row.id, metric, now - lookback_s, now)
    analysis = analyse(readings, row.kind, row.capacity, policy, now, lookback_s)
    with catalog.session() as session:
        return publish(session, row, policy, analysis, now)


def run_forever(
    catalog: Catalog,
    store: ReadingStore,
    interval_s: float,
    stop: threading.Event,
    lookback_s: float = DEFAULT_LOOKBACK_S,
) -> int:
    """Call :func:`run_once` every ``interval_s`` seconds until ``stop`` is set.

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
            report = run_once(catalog, store, lookback_s=lookback_s)
        except Exception:
            log.exception("analytics pass failed")
            errors += 1
        else:
            errors += report.errors
            log.info("analytics pass: %s", report)
        stop.wait(interval_s)
    return errors
