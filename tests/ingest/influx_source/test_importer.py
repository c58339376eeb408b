"""The pass loop against a scripted source: windows halved while the server truncates, and a
batch the store refuses written one by one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from idleshare.errors import StoreError, StoreRefused
from ingest.influx_source.cursor import FileCursor
from ingest.influx_source.importer import Importer
from ingest.influx_source.mapping import Row
from ingest.influx_source.queries import TooManyRows
from storage.catalog import Catalog
from storage.readings import Reading
from storage.sqlite import SqliteReadingStore
from tests.ingest.influx_source.conftest import Clock, S, modbus_map

PRESS = {"name": "press", "slave_id": "1"}


class ScriptedSource:
    """Rows at every whole minute; answers "truncated" to windows longer than ``max_s``."""

    identity = "scripted modbus"

    def __init__(self, max_s: float = float("inf")) -> None:
        self.max_s = max_s
        self.windows: list[tuple[int, int]] = []

    def rows(self, start_ns: int, end_ns: int) -> list[Row]:
        if end_ns - start_ns > self.max_s * S:
            raise TooManyRows("truncated")
        self.windows.append((start_ns, end_ns))
        first = -(-start_ns // (60 * S)) * 60 * S
        return [Row(t, PRESS, {"run_state": 1}) for t in range(first, end_ns, 60 * S)]

    def close(self) -> None:
        pass


def importer(source: ScriptedSource, store: object, catalog: Catalog, tmp_path: Path,
             **options: float) -> Importer:
    return Importer(source, modbus_map("acme"), store, catalog,  # type: ignore[arg-type]
                    FileCursor(tmp_path / "cursor.json", source.identity),
                    clock=Clock(7200.0), **options)


def test_a_truncated_answer_halves_the_window_and_nothing_is_skipped(
    sqlite_store: SqliteReadingStore, sqlite_catalog: Catalog, tmp_path: Path,
) -> None:
    source = ScriptedSource(max_s=1000)
    report = importer(source, sqlite_store, sqlite_catalog, tmp_path, since_s=7200,
                      window_s=3600).run_pass()
    assert {end - start for start, end in source.windows[:-1]} == {900 * S}
    assert source.windows[0][0] == 0 and source.windows[-1][1] == 7200 * S
    assert all(a[1] == b[0] for a, b in zip(source.windows, source.windows[1:], strict=False))
    assert report.written == sqlite_store.count("acme") == 120


def test_a_source_that_truncates_even_a_second_stops_the_pass(
    sqlite_store: SqliteReadingStore, sqlite_catalog: Catalog, tmp_path: Path,
) -> None:
    with pytest.raises(StoreError, match="max-row-limit"):
        importer(ScriptedSource(max_s=0.5), sqlite_store, sqlite_catalog, tmp_path).run_pass()


class PickyStore(SqliteReadingStore):
    """Refuses, for good, any batch holding a reading at 6900 s."""

    def write(self, readings: Sequence[Reading]) -> None:
        if any(r.time == 6900.0 for r in readings):
            raise StoreRefused("not at 6900 s")
        super().write(readings)


def test_readings_the_store_refuses_are_counted_and_the_others_stored(
    sqlite_catalog: Catalog, tmp_path: Path,
) -> None:
    store = PickyStore(tmp_path / "readings.db")
    report = importer(ScriptedSource(), store, sqlite_catalog, tmp_path, since_s=600).run_pass()
    assert dict(report.rejected) == {"store_refused": 1}
    assert report.written == store.count("acme") == 9
    store.close()
