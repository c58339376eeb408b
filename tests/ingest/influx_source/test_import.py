"""Import from a real InfluxDB 1.x that a Telegraf-shaped writer fills: incremental, idempotent,
resumable, and bad rows counted while good rows go in."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from sqlalchemy import select

from analytics.runner import run_once
from idleshare.errors import StoreError
from idleshare.materials import Material
from ingest.influx_source.importer import Importer
from market.assets import declare_material
from storage.catalog import Catalog, OfferRow
from storage.readings import Reading, ReadingStore
from storage.sqlite import SqliteReadingStore
from tests.ingest.influx_source.conftest import Clock, S, TelegrafWriter, modbus_map

MIN = 60 * S
MakeImporter = Callable[..., Importer]


@pytest.fixture
def now_ns() -> int:
    return int(time.time()) * S


def presses(telegraf: TelegrafWriter, times: Sequence[int], running: int = 1) -> int:
    """Both presses report at each time, as Telegraf's modbus input polls them; returns the
    number of readings that makes (two metrics per press)."""
    telegraf.write(*(telegraf.modbus(t, "press", slave, run_state=running, power_w=1500 * slave)
                     for t in times for slave in (1, 2)))
    return 4 * len(times)


def test_a_pass_stores_the_mapped_readings_and_a_second_pass_nothing_new(
    telegraf: TelegrafWriter, make_importer: MakeImporter, target: ReadingStore,
    sqlite_catalog: Catalog, tenant: str, now_ns: int,
) -> None:
    expected = presses(telegraf, [now_ns - k * MIN for k in range(1, 31)])
    telegraf.write(telegraf.modbus(now_ns - MIN, "silo", 7, level_pct=40.0))
    expected += 1
    importer = make_importer(modbus_map(tenant), target, Clock(now_ns / S), since_s=3600)

    first = importer.run_pass()
    assert (first.rows, first.written, dict(first.rejected)) == (61, expected, {})
    assert target.count(tenant) == expected
    t = (now_ns - MIN) / S
    assert target.query(tenant, "press-2", "power", t, t + 1) == [(t, 3.0)]
    assert target.query(tenant, "silo-1", "fill", t, t + 1) == [(t, 12.0)]
    assert {row.id for row in sqlite_catalog.assets(tenant)} == {"press-1", "press-2", "silo-1"}

    second = importer.run_pass()
    assert second.written > 0  # the overlap was read again ...
    assert target.count(tenant) == expected  # ... onto the same keys
    assert target.query(tenant, "press-2", "power", t, t + 1) == [(t, 3.0)]


def test_new_points_are_picked_up_incrementally_and_late_ones_within_the_overlap(
    telegraf: TelegrafWriter, make_importer: MakeImporter, sqlite_store: SqliteReadingStore,
    tenant: str, now_ns: int,
) -> None:
    clock = Clock(now_ns / S)
    importer = make_importer(modbus_map(tenant), sqlite_store, clock, since_s=3600,
                             overlap_s=600)
    before = presses(telegraf, [now_ns - 2 * MIN])
    importer.run_pass()
    assert sqlite_store.count(tenant) == before

    # Telegraf's next flush, a point 5 minutes late (inside the 10-minute overlap) and one an
    # hour late (outside it: never read, the documented limit of the overlap).
    new = presses(telegraf, [now_ns + MIN, now_ns + 2 * MIN])
    late = presses(telegraf, [now_ns - 5 * MIN])
    presses(telegraf, [now_ns - 60 * MIN])
    clock.now += 180
    report = importer.run_pass()
    assert report.read_from_ns == now_ns - 10 * MIN
    assert report.read_until_ns == now_ns + 3 * MIN
    assert sqlite_store.count(tenant) == before + new + late
    assert sqlite_store.query(tenant, "press-1", "running", (now_ns - 61 * MIN) / S,
                              (now_ns - 59 * MIN) / S) == []


def test_a_restart_resumes_from_the_persisted_cursor(
    telegraf: TelegrafWriter, make_importer: MakeImporter, sqlite_store: SqliteReadingStore,
    tenant: str, now_ns: int, tmp_path: Path,
) -> None:
    mapping = modbus_map(tenant)
    stored = presses(telegraf, [now_ns - MIN])
    make_importer(mapping, sqlite_store, Clock(now_ns / S), since_s=3600).run_pass()
    assert f'"read_until_ns": {now_ns}' in (tmp_path / "cursor.json").read_text()

    # A point older than the first pass's start: a restart that read from since_s again
    # would store it; one resuming from the cursor does not.
    presses(telegraf, [now_ns - 5 * 3600 * S])
    stored += presses(telegraf, [now_ns + 30 * S])
    restarted = make_importer(mapping, sqlite_store, Clock(now_ns / S + 60), since_s=30 * 86400,
                              overlap_s=120)
    report = restarted.run_pass()
    assert report.read_from_ns == now_ns - 2 * MIN
    assert sqlite_store.count(tenant) == stored


class FailingStore:
    """A readings store that is down."""

    def write(self, readings: Sequence[Reading]) -> None:
        raise StoreError("readings store down")


def test_the_cursor_advances_only_after_the_readings_are_stored(
    telegraf: TelegrafWriter, make_importer: MakeImporter, sqlite_store: SqliteReadingStore,
    tenant: str, now_ns: int, tmp_path: Path,
) -> None:
    mapping = modbus_map(tenant)
    stored = presses(telegraf, [now_ns - MIN])
    down = make_importer(mapping, FailingStore(), Clock(now_ns / S), since_s=3600)
    with pytest.raises(StoreError, match="store down"):
        down.run_pass()
    assert not (tmp_path / "cursor.json").exists()

    make_importer(mapping, sqlite_store, Clock(now_ns / S), since_s=3600).run_pass()
    assert sqlite_store.count(tenant) == stored


def test_bad_rows_are_counted_by_reason_and_good_rows_still_go_in(
    telegraf: TelegrafWriter, make_importer: MakeImporter, sqlite_store: SqliteReadingStore,
    tenant: str, now_ns: int,
) -> None:
    t = now_ns - MIN
    good = presses(telegraf, [t, t - MIN])
    telegraf.write(
        telegraf.modbus(t, "silo", 7, level_pct="ERR"),  # a register read as text
        telegraf.modbus(t, "press", 9, run_state=1),  # a device nobody mapped
        telegraf.point("modbus", t, {"name": "press"}, {"run_state": 1}),  # no slave_id tag
        telegraf.modbus(t - MIN, "press", 1, run_state=3),  # not a state
    )
    report = make_importer(modbus_map(tenant), sqlite_store, Clock(now_ns / S),
                           since_s=3600).run_pass()
    assert dict(report.rejected) == {"non_numeric": 1, "unmapped_asset": 1, "missing_tag": 1,
                                     "out_of_range": 1}
    assert "slave_id=9" in report.examples["unmapped_asset"]
    # The out-of-range point overwrote press-1's good running reading at t - MIN: that one
    # value is rejected, the point's other value and every other row are stored.
    assert report.written == good - 1
    assert sqlite_store.count(tenant) == good - 1
    assert "rejected" in str(report) and "non_numeric=1" in str(report)


def test_analytics_finds_imported_assets_and_offers_the_silo_s_material(
    telegraf: TelegrafWriter, make_importer: MakeImporter, sqlite_store: SqliteReadingStore,
    sqlite_catalog: Catalog, tenant: str, now_ns: int,
) -> None:
    # A day and a bit of 10-minute polls: both presses standing still, the silo 80 % full.
    times = [now_ns - k * 10 * MIN for k in range(1, 160)]
    presses(telegraf, times, running=0)
    telegraf.write(*(telegraf.modbus(t, "silo", 7, level_pct=80.0) for t in times))
    make_importer(modbus_map(tenant), sqlite_store, Clock(now_ns / S),
                  since_s=2 * 86400).run_pass()
    # A container's material is offered once its owner has declared what it holds.
    declare_material(sqlite_catalog, tenant, "silo-1", Material("03 01 05", "sawdust"))
    report = run_once(sqlite_catalog, sqlite_store, now=now_ns / S)
    assert (report.errors, report.assets) == (0, 3)
    assert report.windows == 3  # each asset idle all along
    # 24 m3 of material is worth offering; a one-machine press keeps 10 % back by default,
    # and 0.9 machine is below the default minimum quantity of 1.
    assert report.offers_created >= 1
    with sqlite_catalog.session() as s:
        silo = s.scalars(select(OfferRow).where(OfferRow.asset_id == "silo-1")).one()
    assert silo.eural == "030105" and silo.quantity > 0
    assert report.kpis["machine"].idle_share == 1.0
