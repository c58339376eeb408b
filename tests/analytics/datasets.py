"""Loaders for the real data sets in /work/shared/data (see the README there).

Timestamps carry no time zone in the sources; they are read as UTC, which only shifts them.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
import pytest

DATA = Path("/work/shared/data")


def _epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data set not available: {path}")
    return path


@cache
def parking() -> dict[str, tuple[float, np.ndarray, np.ndarray]]:
    """Birmingham car parks: ``{code: (capacity, times, occupied)}``, raw rows."""
    rows: dict[str, tuple[float, list[float], list[float]]] = {}
    path = _need(DATA / "uci_parking_birmingham" / "dataset_until_2016-12-05.csv")
    with path.open(newline="") as fh:
        for r in csv.DictReader(fh):
            _, times, occ = rows.setdefault(r["SystemCodeNumber"],
                                              (float(r["Capacity"]), [], []))
            times.append(_epoch(r["LastUpdated"]))
            occ.append(float(r["Occupancy"]))
    return {code: (cap, np.array(t), np.array(o)) for code, (cap, t, o) in rows.items()}


@cache
def office_occupancy() -> tuple[np.ndarray, np.ndarray]:
    """One office room, both files joined: (times, occupied 0/1), about one row a minute."""
    times: list[float] = []
    occupied: list[float] = []
    for name in ("datatest.txt", "datatraining.txt"):
        with _need(DATA / "uci_occupancy_detection" / name).open(newline="") as fh:
            rows = csv.reader(fh)
            next(rows)  # the header lacks a name for the leading row index
            for r in rows:
                times.append(_epoch(r[1]))
                occupied.append(float(r[-1]))
    return np.array(times), np.array(occupied)
