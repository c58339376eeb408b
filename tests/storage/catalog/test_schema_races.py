"""Several processes or workers opening and writing the catalog at once (two ingest workers,
ingest and the API starting together) must neither fail nor lose a registration; on SQLite
(its write lock) and on PostgreSQL (an advisory lock around the migration)."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable

from idleshare.assets import Asset
from storage.catalog import Catalog
from tests.storage.catalog.test_schema import (
    HEAD,
    OLD_KEY,
    api_key_columns,
    make_pre_migration_database,
    revision_of,
)


def in_four_threads_at_once(url: str, work: Callable[[Catalog], None]) -> list[BaseException]:
    """Four threads open ``Catalog(url)`` at the same moment and run ``work`` on it; returns
    what they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            catalog = Catalog(url)
            work(catalog)
            catalog.close()
        except BaseException as err:  # collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_starts_and_registrations_of_the_same_assets_all_succeed(
    catalog_url: str,
) -> None:
    url = catalog_url

    def register(catalog: Catalog) -> None:
        for n in range(25):
            catalog.upsert_asset(Asset(f"a{n}", f"t{n % 5}", "machine", 1, "machine"))

    assert in_four_threads_at_once(url, register) == []
    assert len(Catalog(url).assets()) == 25


def test_concurrent_starts_on_a_catalog_made_before_migrations_upgrade_it_once(
    catalog_url: str,
) -> None:
    url = catalog_url
    make_pre_migration_database(url)

    def check_old_key(catalog: Catalog) -> None:
        assert catalog.key_owner(OLD_KEY) is not None

    assert in_four_threads_at_once(url, check_old_key) == []
    assert revision_of(url) == HEAD
    assert api_key_columns(url).count("last_used_at") == 1
    assert [a.id for a in Catalog(url).assets()] == ["zone-1"]


def open_catalog_in_a_process(url: str, start: multiprocessing.synchronize.Barrier) -> None:
    start.wait()
    catalog = Catalog(url)
    assert catalog.key_owner(OLD_KEY) is not None
    catalog.close()


def test_concurrent_processes_starting_on_a_catalog_made_before_migrations_upgrade_it_once(
    catalog_url: str,
) -> None:
    """Threads of one process also share a lock around Alembic; processes rely on the
    database's own lock alone (SQLite's write lock, PostgreSQL's advisory lock)."""
    url = catalog_url
    make_pre_migration_database(url)
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(4)
    processes = [spawn.Process(target=open_catalog_in_a_process, args=(url, start))
                 for _ in range(4)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    assert revision_of(url) == HEAD
    assert api_key_columns(url).count("last_used_at") == 1
