"""The readings port: what every time-series backend must do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Reading:
    """One stored value. ``(tenant, asset, metric, time)`` identifies it: writing the same key
    again overwrites the value, so a redelivered message never adds a point."""

    tenant: str
    asset: str
    metric: str
    time: float  # seconds since the Unix epoch
    value: float
    unit: str = ""


class ReadingStore(Protocol):
    """Write and read readings; adapters raise :class:`idleshare.errors.StoreError`."""

    def write(self, readings: Sequence[Reading]) -> None:
        """Durably store the readings (idempotent per key) before returning."""

    def query(
        self, tenant: str, asset: str, metric: str, start: float, end: float
    ) -> list[tuple[float, float]]:
        """``(time, value)`` pairs with ``start <= time < end``, oldest first."""

    def count(self, tenant: str | None = None) -> int:
        """Number of stored readings (of one tenant, or all)."""

    def close(self) -> None:
        """Release connections."""
