"""``replay``: play a CSV file recorded elsewhere as if the asset were reporting it now.

Emits the metrics named in ``values`` (metric -> column, times ``scale``), plus an optional 0/1
``state_metric`` derived as ``values[state_from] > state_threshold`` (e.g. ``running`` from
``power``). Units are the asset kind's (``kW`` for power, ``/`` for states, the asset's own unit
for occupancy or fill); values are clamped to the metric's bounds unless ``clamp = false``.

Time: ``align = "original"`` keeps the file's timestamps; ``align = "clock_start"`` shifts them
so the first row lands at the agent clock's start. With ``align_period_s`` (e.g. 604800) the
shift is a whole number of periods, keeping weekday and time of day; rows that then fall before
the clock's start are skipped. A row is emitted once its (shifted) time is <= clock now, so the
clock's speed is the replay speed. ``speed`` (with ``align = "clock_start"`` and no period)
compresses the file's time instead: at ``speed = 60`` an hour of recording plays in a minute,
stamped with the minute it plays in.

Real files are messy; this source copes with: a UTF-8 byte-order mark and CRLF line endings,
rows grouped by another column (``filter_column == filter_value``, then sorted by time),
repeated timestamps (the first row wins), cells that are empty or not numbers (skipped and
counted), and midnight rows stamped with the date they end (``midnight_ends_day``).
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from edge_agent.fields import PATH
from edge_agent.sources.base import check_timezone, to_measurement
from idleshare.assets import Asset
from idleshare.errors import ConfigError
from idleshare.wire import Measurement

log = logging.getLogger(__name__)

ALIGNS = ("original", "clock_start")


@dataclass(frozen=True)
class ReplaySettings:
    #: The CSV file; relative paths are relative to the config file.
    file: str = field(default="", metadata=PATH)
    #: ``utf-8-sig`` reads plain UTF-8 too and drops a byte-order mark.
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    time_column: str = "time"
    #: ``strptime`` format of ``time_column``, or ``"epoch"`` for Unix seconds.
    time_format: str = "%Y-%m-%d %H:%M:%S"
    #: IANA zone the file's local times are in.
    timezone: str = "UTC"
    #: A ``00:00`` row is the midnight at the END of its date (it closes that day's block).
    midnight_ends_day: bool = False
    #: metric name -> column holding it.
    values: dict[str, str] = field(default_factory=dict)
    #: metric name -> factor applied to the column (e.g. kWh per 15 min × 4 = kW).
    scale: dict[str, float] = field(default_factory=dict)
    #: Keep only rows whose ``filter_column`` equals ``filter_value`` (one asset of many).
    filter_column: str = ""
    filter_value: str = ""
    #: Derived 0/1 metric: 1 when ``values[state_from] > state_threshold``.
    state_metric: str = ""
    state_from: str = ""
    state_threshold: float = 0.0
    align: str = "original"
    align_period_s: float = 0.0
    #: Play the file this many times faster than it was recorded (``clock_start`` only).
    speed: float = 1.0
    clamp: bool = True

    def __post_init__(self) -> None:
        if not self.file:
            raise ConfigError("file is required")
        if not self.values:
            raise ConfigError("values must map at least one metric to a column: got {}")
        if self.align not in ALIGNS:
            raise ConfigError(f"align must be one of {list(ALIGNS)}: got {self.align!r}")
        if self.align_period_s < 0:
            raise ConfigError(f"align_period_s must be >= 0: got {self.align_period_s}")
        if not (math.isfinite(self.speed) and self.speed > 0):
            raise ConfigError(f"speed must be > 0: got {self.speed}")
        if self.speed != 1.0 and (self.align != "clock_start" or self.align_period_s):
            raise ConfigError(f"speed needs align = 'clock_start' and no align_period_s: "
                              f"got {self.speed}")
        if len(self.delimiter) != 1:
            raise ConfigError(f"delimiter must be one character: got {self.delimiter!r}")
        if bool(self.filter_column) != bool(self.filter_value):
            raise ConfigError("filter_value must be set together with filter_column: got "
                              f"{self.filter_value!r} / {self.filter_column!r}")
        if self.state_metric and self.state_from not in self.values:
            raise ConfigError(f"state_from must be a metric of values {sorted(self.values)}: "
                              f"got {self.state_from!r}")
        for metric in self.scale:
            if metric not in self.values:
                raise ConfigError(f"scale.{metric} names no metric of values: got {metric!r}")
        check_timezone(self.timezone)


@dataclass(frozen=True)
class _Row:
    time: float
    values: tuple[tuple[str, float], ...]


class ReplaySource:
    settings_type: ClassVar[type[ReplaySettings]] = ReplaySettings

    def __init__(self, settings: ReplaySettings, asset: Asset, start: float) -> None:
        self.settings = settings
        self.asset = asset
        kind = asset.asset_kind
        keys = {f"values.{metric}": metric for metric in settings.values}
        if settings.state_metric:
            keys["state_metric"] = settings.state_metric
        for key, metric in keys.items():
            if kind.metric(metric) is None:
                raise ConfigError(f"{key} must name a metric of kind {kind.name} "
                                  f"{[m.name for m in kind.metrics]}: got {metric!r}")
        #: Rows dropped while loading: unparseable, repeated or before the clock's start.
        self.skipped = 0
        rows = self._load()
        shift, first = self._shift(rows[0].time, start), rows[0].time
        placed = (_Row(first + shift + (r.time - first) / settings.speed, r.values) for r in rows)
        self._rows = [r for r in placed if r.time >= start or settings.align == "original"]
        self.skipped += len(rows) - len(self._rows)
        self._next = 0

    def read(self, t: float) -> list[Measurement]:
        out: list[Measurement] = []
        while self._next < len(self._rows) and self._rows[self._next].time <= t:
            row = self._rows[self._next]
            out.extend(self._measurement(name, value, row.time) for name, value in row.values)
            self._next += 1
        return out

    @property
    def remaining(self) -> int:
        return len(self._rows) - self._next

    def _measurement(self, name: str, value: float, t: float) -> Measurement:
        metric = self.asset.asset_kind.metric(name)
        assert metric is not None  # checked in __init__
        return to_measurement(self.asset, metric, value, t, self.settings.clamp)

    def _shift(self, first: float, start: float) -> float:
        s = self.settings
        if s.align == "original":
            return 0.0
        if s.align_period_s:
            return math.floor((start - first) / s.align_period_s) * s.align_period_s
        return start - first

    # -- loading -------------------------------------------------------------------------------

    def _load(self) -> list[_Row]:
        s = self.settings
        try:
            with open(s.file, encoding=s.encoding, newline="") as fh:
                reader = csv.DictReader(fh, delimiter=s.delimiter)
                header = list(reader.fieldnames or [])
                self._check_columns(header)
                rows = self._parse(reader)
        except OSError as err:
            raise ConfigError(f"file cannot be read: {err}") from err
        except (UnicodeDecodeError, csv.Error) as err:
            raise ConfigError(f"file is not a {s.encoding} CSV: {err}") from err
        if not rows:
            what = (f"row with {s.filter_column} == {s.filter_value!r} and "
                    if s.filter_column else "")
            raise ConfigError(f"file has no {what}row whose {s.time_column!r} matches "
                              f"time_format {s.time_format!r}: got {s.file!r}")
        rows.sort(key=lambda r: r.time)  # stable: among equal times the file's first row wins
        unique = [r for i, r in enumerate(rows) if i == 0 or r.time != rows[i - 1].time]
        self.skipped += len(rows) - len(unique)
        return unique

    def _check_columns(self, header: list[str]) -> None:
        s = self.settings
        wanted = {"time_column": s.time_column, "filter_column": s.filter_column,
                  **{f"values.{metric}": column for metric, column in s.values.items()}}
        for key, column in wanted.items():
            if column and column not in header:
                raise ConfigError(f"{key} names no column of the file: got {column!r}, "
                                  f"header is {header}")

    def _parse(self, reader: csv.DictReader[str]) -> list[_Row]:
        s = self.settings
        zone = ZoneInfo(s.timezone)
        rows: list[_Row] = []
        for record in reader:
            if s.filter_column and record.get(s.filter_column) != s.filter_value:
                continue
            t = self._time(record.get(s.time_column) or "", zone)
            values = self._values(record)
            if t is None or not values:
                self.skipped += 1
                continue
            rows.append(_Row(t, values))
        return rows

    def _time(self, text: str, zone: ZoneInfo) -> float | None:
        s = self.settings
        try:
            if s.time_format == "epoch":
                return float(text)
            local = datetime.strptime(text.strip(), s.time_format)
        except ValueError:
            return None
        if s.midnight_ends_day and (local.hour, local.minute, local.second) == (0, 0, 0):
            local += timedelta(days=1)
        return local.replace(tzinfo=zone).timestamp()

    def _values(self, record: dict[str, str]) -> tuple[tuple[str, float], ...]:
        s = self.settings
        out: dict[str, float] = {}
        for metric, column in s.values.items():
            try:
                value = float(record.get(column) or "") * s.scale.get(metric, 1.0)
            except ValueError:
                continue
            if math.isfinite(value):
                out[metric] = value
        if s.state_metric and s.state_from in out:
            out[s.state_metric] = 1.0 if out[s.state_from] > s.state_threshold else 0.0
        return tuple(out.items())
