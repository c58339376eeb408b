"""A tenant's ISO 22400-style KPIs over a period: per asset and rolled up per kind.

The definitions are :mod:`analytics.kpis`' (written once there and in docs/analytics.md); this
module only chooses which assets (the caller's own, optionally of one kind) and reads their
readings from the store.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from analytics.kpis import KPI_SOURCES_BY_KIND, AssetKpis, KindKpis, aggregate, asset_kpis
from analytics.series import MAX_GAP_S
from storage.catalog import Catalog
from storage.readings import ReadingStore

#: Longest period one request may cover: a quarter, so a request reads a bounded history.
MAX_PERIOD_S = 92 * 86400.0


@dataclass(frozen=True)
class TenantKpis:
    assets: list[AssetKpis]
    kinds: dict[str, KindKpis]


def of_tenant(catalog: Catalog, store: ReadingStore, tenant: str, start: float, end: float,
              kind: str | None = None, asset: str | None = None,
              assets: Collection[str] | None = None) -> TenantKpis:
    """KPIs of ``tenant``'s assets over ``[start, end)`` (only ``assets``, if given: a site's);
    another tenant's asset is never read."""
    items = []
    for row in catalog.assets(tenant):
        if (kind is not None and row.kind != kind) or (asset is not None and row.id != asset):
            continue
        if assets is not None and row.id not in assets:
            continue
        source = KPI_SOURCES_BY_KIND[row.kind]
        # One gap either side: the reading before start holds at start, and a reading holds
        # only until the next one, so the first reading after end closes the last step.
        series = {m: store.query(tenant, row.id, m, start - MAX_GAP_S, end + MAX_GAP_S)
                  for m in source.metrics}
        items.append(asset_kpis(row, series, start, end))
    return TenantKpis(assets=items, kinds=aggregate(items))
