"""Several processes or workers opening and writing the catalog at once (two ingest workers,
ingest and the API starting together) must neither fail nor lose a registration."""

from __future__ import annotations

import threading
from pathlib import Path

from idleshare.assets import Asset
from storage.catalog import Catalog


def test_concurrent_starts_and_registrations_of_the_same_assets_all_succeed(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            catalog = Catalog(url)
            for n in range(25):
                catalog.upsert_asset(Asset(f"a{n}", f"t{n % 5}", "machine", 1, "machine"))
            catalog.close()
        except BaseException as err:  # collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(Catalog(url).assets()) == 25
