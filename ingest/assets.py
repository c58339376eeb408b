"""The asset lookup validation needs, cached in front of the catalog.

Assets announced in a birth message are put in directly; an asset the catalog does not know
is remembered as unknown for a short while only, so one registered another way (API, fleet
file) is found soon after.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from idleshare.assets import Asset
from idleshare.errors import ConfigError
from storage.catalog import Catalog

MAX_MISSING = 10_000


class AssetCache:
    def __init__(self, catalog: Catalog, miss_ttl_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.catalog = catalog
        self.miss_ttl_s = miss_ttl_s
        self.clock = clock
        self._known: dict[tuple[str, str], Asset] = {}
        self._missing: dict[tuple[str, str], float] = {}  # key -> when the catalog said no
        self._lock = threading.Lock()

    def lookup(self, tenant: str, asset_id: str) -> Asset | None:
        """The asset, or None; raises StoreError when the catalog cannot answer."""
        key = (tenant, asset_id)
        with self._lock:
            if key in self._known:
                return self._known[key]
            missed = self._missing.get(key)
            if missed is not None and self.clock() - missed < self.miss_ttl_s:
                return None
        row = self.catalog.asset(tenant, asset_id)
        try:
            asset = row.to_asset() if row is not None else None
        except ConfigError:
            asset = None  # a row no longer valid (e.g. a kind since removed) is no asset
        with self._lock:
            if asset is None:
                if len(self._missing) >= MAX_MISSING:
                    self._missing.clear()  # bounded: made-up ids must not grow it for ever
                self._missing[key] = self.clock()
            else:
                self._known[key] = asset
                self._missing.pop(key, None)
        return asset

    def put(self, asset: Asset) -> None:
        with self._lock:
            self._known[(asset.tenant, asset.id)] = asset
            self._missing.pop((asset.tenant, asset.id), None)
