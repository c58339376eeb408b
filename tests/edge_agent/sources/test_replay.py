"""Replay of recorded CSV files: real data quirks, column mapping and time alignment."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge_agent.fleet import PARKING_CSV, STEEL_CSV, shared_data_dir
from edge_agent.sources.replay import ReplaySettings, ReplaySource
from idleshare.assets import Asset
from idleshare.errors import ConfigError

START = datetime(2030, 6, 3, tzinfo=UTC).timestamp()


def _utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _asset(kind: str = "warehouse_zone", capacity: float = 100.0) -> Asset:
    return Asset(id="a-1", tenant="acme", kind=kind, capacity=capacity, unit="space")


def _data(name: str) -> Path:
    path = shared_data_dir() / name
    assert path.is_file(), f"shared data set {name} is missing: set IDLESHARE_SHARED_DATA"
    return path


def _parking(code: str, capacity: float, **extra: object) -> ReplaySource:
    settings = ReplaySettings(
        file=str(_data(PARKING_CSV)), time_column="LastUpdated", timezone="Europe/London",
        values={"occupied": "Occupancy"}, filter_column="SystemCodeNumber", filter_value=code,
        **extra)  # type: ignore[arg-type]
    return ReplaySource(settings, _asset(capacity=capacity), START)


def _steel(**extra: object) -> ReplaySource:
    settings = ReplaySettings(
        file=str(_data(STEEL_CSV)), time_column="date", time_format="%d/%m/%Y %H:%M",
        midnight_ends_day=True, values={"power": "Usage_kWh"}, scale={"power": 4.0},
        state_metric="running", state_from="power", state_threshold=40.0,
        **extra)  # type: ignore[arg-type]
    return ReplaySource(settings, _asset("machine", 1.0), START)


def test_birmingham_car_park_replays_its_own_rows_once_in_local_time() -> None:
    source = _parking("BHMBCCMKT01", 577)
    # 1,062 rows in the file for this car park, 5 of them repeats of an earlier row.
    assert source.remaining == 1057
    rows = source.read(float("inf"))
    assert len(rows) == 1057 and source.remaining == 0
    first = rows[0]
    # 2016-10-04 07:59:42 British Summer Time is 06:59:42 UTC.
    assert (first.name, first.value, first.time, first.unit) == (
        "occupied", 61.0, _utc("2016-10-04T06:59:42"), "space")
    repeated = [m for m in rows if m.time == _utc("2016-10-28T07:16:41")]
    assert [m.value for m in repeated] == [57.0]
    # After the clock change (2016-10-30) local time is UTC again.
    assert rows[-1].time == _utc("2016-12-05T16:29:05") and rows[-1].value == 95.0
    assert [m.time for m in rows] == sorted({m.time for m in rows})


def test_birmingham_values_outside_the_car_park_are_clamped_to_its_capacity() -> None:
    full = _parking("BHMBCCTHL01", 387).read(float("inf"))
    assert max(m.value for m in full) == 387.0
    negative = _parking("NIA North", 480).read(float("inf"))
    assert min(m.value for m in negative) == 0.0
    raw = _parking("NIA North", 480, clamp=False).read(float("inf"))
    assert min(m.value for m in raw) == -8.0


def test_steel_plant_midnight_rows_close_their_day_on_a_regular_grid() -> None:
    source = _steel()
    power = [m for m in source.read(float("inf")) if m.name == "power"]
    assert len(power) == 35040
    assert power[0].time == _utc("2018-01-01T00:15:00") and power[0].value == pytest.approx(12.68)
    assert power[-1].time == _utc("2019-01-01T00:00:00")
    assert {b.time - a.time for a, b in itertools.pairwise(power)} == {900.0}
    # "01/01/2018 00:00,3.42,..." is the midnight that ends 1 January.
    midnight = next(m for m in power if m.time == _utc("2018-01-02T00:00:00"))
    assert midnight.value == pytest.approx(13.68) and midnight.unit == "kW"


def test_steel_plant_running_state_follows_the_power_threshold() -> None:
    by_time: dict[float, dict[str, float]] = {}
    for m in _steel().read(float("inf")):
        by_time.setdefault(m.time, {})[m.name] = m.value
    busy = by_time[_utc("2018-03-15T10:15:00")]  # 100.73 kWh in 15 min
    assert busy == {"power": pytest.approx(402.92), "running": 1.0}
    quiet = by_time[_utc("2018-01-01T00:30:00")]  # 4 kWh
    assert quiet == {"power": pytest.approx(16.0), "running": 0.0}


def test_clock_start_alignment_puts_the_first_row_at_the_start_and_paces_the_rest() -> None:
    source = _steel(align="clock_start")
    first = source.read(START)
    assert [(m.name, m.time) for m in first] == [("power", START), ("running", START)]
    assert source.read(START + 899) == []
    assert [m.time for m in source.read(START + 1800)] == [START + 900] * 2 + [START + 1800] * 2


def test_alignment_by_whole_weeks_keeps_weekday_and_time_of_day() -> None:
    source = _parking("BHMBCCMKT01", 577, align="clock_start", align_period_s=7 * 86400.0)
    rows = source.read(float("inf"))
    originals = _parking("BHMBCCMKT01", 577).read(float("inf"))
    kept = originals[len(originals) - len(rows):]  # the first rows would land before the start
    assert 0 < len(originals) - len(rows) < 18 * 7
    shifts = {r.time - o.time for r, o in zip(rows, kept, strict=True)}
    assert len(shifts) == 1 and shifts.pop() % (7 * 86400) == 0
    assert [r.value for r in rows] == [o.value for o in kept]
    assert START <= rows[0].time < START + 7 * 86400


def _csv(tmp_path: Path, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_bom_crlf_and_bad_cells_are_handled(tmp_path: Path) -> None:
    file = _csv(tmp_path, "\ufefftime,level\r\n2024-01-01 00:00:00,5\r\n"
                "2024-01-01 00:05:00,\r\nnot a time,7\r\n2024-01-01 00:10:00,x\r\n"
                "2024-01-01 00:15:00,9\r\n")
    source = ReplaySource(ReplaySettings(file=file, values={"occupied": "level"}), _asset(),
                          START)
    rows = source.read(float("inf"))
    assert [(m.time, m.value) for m in rows] == [(_utc("2024-01-01T00:00:00"), 5.0),
                                                 (_utc("2024-01-01T00:15:00"), 9.0)]
    assert source.skipped == 3


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"time_column": "when"}, "time_column names no column of the file: got 'when'"),
        ({"values": {"occupied": "lvl"}}, "values.occupied names no column"),
        ({"values": {"power": "level"}}, "values.power must name a metric of kind warehouse_zone"),
        ({"filter_column": "time", "filter_value": "never"},
         "file has no row with time == 'never'"),
        ({"time_format": "%d/%m/%Y"}, "file has no row whose 'time' matches time_format"),
    ],
)
def test_files_that_cannot_work_are_refused_naming_the_key(
    tmp_path: Path, settings: dict[str, object], message: str
) -> None:
    file = _csv(tmp_path, "time,level\n2024-01-01 00:00:00,5\n")
    kwargs = {"file": file, "values": {"occupied": "level"}} | settings
    with pytest.raises(ConfigError) as err:
        ReplaySource(ReplaySettings(**kwargs), _asset(), START)  # type: ignore[arg-type]
    assert str(err.value).startswith(message)


def test_missing_file_is_refused_naming_the_key(tmp_path: Path) -> None:
    settings = ReplaySettings(file=str(tmp_path / "nope.csv"), values={"occupied": "x"})
    with pytest.raises(ConfigError, match=r"^file cannot be read"):
        ReplaySource(settings, _asset(), START)
