"""Loaders for the real data sets in ``<repo>/../shared/data`` (or ``$IDLESHARE_SHARED_DATA``).

The files are read as published (see the README beside them); timestamps carry no time zone in
the sources and are read as UTC, which only shifts them. Only numpy and the standard library.
"""

from __future__ import annotations

import csv
import os
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np

from idleshare.errors import ConfigError


def data_dir() -> Path:
    """Where the shared data sets are: ``$IDLESHARE_SHARED_DATA`` or ``<repo>/../shared/data``."""
    env = os.environ.get("IDLESHARE_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def _path(*parts: str) -> Path:
    path = data_dir().joinpath(*parts)
    if not path.exists():
        raise ConfigError(f"data set file not found: {path} (set IDLESHARE_SHARED_DATA)")
    return path


def _epoch(text: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> float:
    return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()


@cache
def parking() -> dict[str, tuple[float, np.ndarray, np.ndarray]]:
    """Birmingham car parks: ``{code: (capacity, times, occupied)}``, raw rows in file order."""
    rows: dict[str, tuple[float, list[float], list[float]]] = {}
    with _path("uci_parking_birmingham", "dataset_until_2016-12-05.csv").open(newline="") as fh:
        for r in csv.DictReader(fh):
            _, times, occ = rows.setdefault(r["SystemCodeNumber"], (float(r["Capacity"]), [], []))
            times.append(_epoch(r["LastUpdated"]))
            occ.append(float(r["Occupancy"]))
    return {code: (cap, np.array(t), np.array(o)) for code, (cap, t, o) in rows.items()}


#: Sensor columns of the occupancy data set, in file order.
OCCUPANCY_FEATURES = ("Temperature", "Humidity", "Light", "CO2", "HumidityRatio")


@cache
def occupancy(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One file of the office occupancy set: ``(times, X, occupied)``, X in
    :data:`OCCUPANCY_FEATURES` order, occupied 0/1."""
    times, features, labels = [], [], []
    with _path("uci_occupancy_detection", name).open(newline="") as fh:
        rows = csv.reader(fh)
        next(rows)  # the header lacks a name for the leading row index
        for r in rows:
            times.append(_epoch(r[1]))
            features.append([float(x) for x in r[2:7]])
            labels.append(int(r[7]))
    return np.array(times), np.array(features), np.array(labels)


#: Load labels of the steel plant, lightest first.
STEEL_LOADS = ("Light_Load", "Medium_Load", "Maximum_Load")


@cache
def steel() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steel plant: ``(times, usage_kwh per 15 min, load label index into STEEL_LOADS)``.

    The midnight row of each day carries that day's date but closes it; it is read as the next
    day's 00:00, which makes the file a regular 15-minute grid.
    """
    times, usage, load = [], [], []
    path = _path("uci_steel_industry_energy", "Steel_industry_data.csv")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        for r in csv.DictReader(fh):
            t = _epoch(r["date"], "%d/%m/%Y %H:%M")
            times.append(t + 86400.0 if r["date"].endswith(" 00:00") else t)
            usage.append(float(r["Usage_kWh"]))
            load.append(STEEL_LOADS.index(r["Load_Type"]))
    return np.array(times), np.array(usage), np.array(load)


@cache
def bike_share() -> tuple[np.ndarray, np.ndarray]:
    """Capital Bikeshare, hourly: ``(hour start times, rentals started in the hour)``; hours
    without a row are absent (the source does not say whether they had no rentals)."""
    times, count = [], []
    with _path("uci_bike_sharing", "hour.csv").open(newline="") as fh:
        for r in csv.DictReader(fh):
            times.append(_epoch(r["dteday"], "%Y-%m-%d") + 3600.0 * int(r["hr"]))
            count.append(float(r["cnt"]))
    return np.array(times), np.array(count)
