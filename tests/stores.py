"""A ReadingStore for tests that need no database."""

from __future__ import annotations

from collections.abc import Sequence

from storage.readings import Reading


class MemoryStore:
    """The ReadingStore port in a dict, as the contract describes it: a later write of the same
    (tenant, asset, metric, time) overwrites, as in the real stores."""

    def __init__(self) -> None:
        self.points: dict[tuple[str, str, str], dict[float, float]] = {}

    def write(self, readings: Sequence[Reading]) -> None:
        for r in readings:
            self.points.setdefault((r.tenant, r.asset, r.metric), {})[r.time] = r.value

    def query(
        self, tenant: str, asset: str, metric: str, start: float, end: float
    ) -> list[tuple[float, float]]:
        series = self.points.get((tenant, asset, metric), {})
        return sorted((t, v) for t, v in series.items() if start <= t < end)

    def count(self, tenant: str | None = None) -> int:
        return sum(len(v) for k, v in self.points.items() if tenant in (None, k[0]))

    def close(self) -> None:
        pass
