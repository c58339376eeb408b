"""The real data sets for tests, through the project's own loaders (analytics/datasets.py).

A missing data set fails the test that needs it (CI has ``../shared/data``): a skipped test
would prove nothing.
"""

from __future__ import annotations

import numpy as np

from bench.datasets import occupancy, parking

__all__ = ["office_occupancy", "parking"]


def office_occupancy() -> tuple[np.ndarray, np.ndarray]:
    """One office room, both files joined in time order: (times, occupied 0/1)."""
    parts = [occupancy(name) for name in ("datatest.txt", "datatraining.txt")]
    times = np.concatenate([t for t, _, _ in parts])
    occupied = np.concatenate([y for _, _, y in parts]).astype(float)
    return times, occupied
