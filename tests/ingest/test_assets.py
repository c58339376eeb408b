"""The asset lookup in front of the catalog."""

from __future__ import annotations

from idleshare.assets import Asset
from ingest.assets import AssetCache
from storage.catalog import Catalog

ZONE = Asset(id="zone-1", tenant="acme", kind="warehouse_zone", capacity=10, unit="pallet")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_asset_in_the_catalog_is_found(catalog: Catalog) -> None:
    catalog.upsert_asset(ZONE)
    assert AssetCache(catalog).lookup("acme", "zone-1") == ZONE


def test_a_miss_is_remembered_only_for_a_while(catalog: Catalog) -> None:
    clock = Clock()
    cache = AssetCache(catalog, miss_ttl_s=30, clock=clock)
    assert cache.lookup("acme", "zone-1") is None
    catalog.upsert_asset(ZONE)  # registered another way, e.g. through the API
    clock.now = 29
    assert cache.lookup("acme", "zone-1") is None
    clock.now = 31
    assert cache.lookup("acme", "zone-1") == ZONE


def test_an_announced_asset_replaces_a_remembered_miss_at_once(catalog: Catalog) -> None:
    cache = AssetCache(catalog, miss_ttl_s=3600, clock=Clock())
    assert cache.lookup("acme", "zone-1") is None
    cache.put(ZONE)
    assert cache.lookup("acme", "zone-1") == ZONE


def test_a_re_announced_asset_replaces_the_cached_one(catalog: Catalog) -> None:
    catalog.upsert_asset(ZONE)
    cache = AssetCache(catalog)
    cache.lookup("acme", "zone-1")
    bigger = Asset(id="zone-1", tenant="acme", kind="warehouse_zone", capacity=20, unit="pallet")
    cache.put(bigger)
    assert cache.lookup("acme", "zone-1") == bigger
