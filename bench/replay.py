"""A replayed day of the car parks through the analytics pass loop: how often offers change.

The 29 Birmingham car parks' readings go into a real reading store (SQLite) and the assets
into a real catalog (SQLite); :func:`analytics.runner.run_once` then runs every
``interval_s`` over one day, each pass reading only the readings before its ``now`` (as the
demo does every 15 s on live readings). Counted from the catalog's offer events: ``updated``
events per offer per day (offers that were live at any time of the day), and the created and
withdrawn events beside them.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from analytics.runner import run_once
from bench import datasets
from idleshare.assets import Asset
from storage.catalog import Catalog, OfferEventRow
from storage.readings import Reading
from storage.sqlite import SqliteReadingStore

TENANT = "bham"
DAY_S = 86400.0


@dataclass(frozen=True)
class ChurnFigures:
    passes: int
    offers: int
    created: int
    updated: int
    withdrawn: int
    seconds: float

    @property
    def updated_per_offer_day(self) -> float:
        return self.updated / self.offers if self.offers else float("nan")


def replay_day(day: str = "2016-11-22", interval_s: float = 900.0, assets: int | None = None,
               progress: Callable[[int, float], None] | None = None) -> ChurnFigures:
    """Run the pass loop every ``interval_s`` over ``day`` (UTC) and count offer events
    (of the first ``assets`` car parks, or all)."""
    began = time.perf_counter()
    start = datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteReadingStore(Path(tmp) / "readings.db")
        catalog = Catalog(f"sqlite:///{tmp}/catalog.db")
        try:
            for code, (cap, times, occupied) in list(datasets.parking().items())[:assets]:
                asset_id = "".join(c if c.isalnum() else "-" for c in code.lower())
                catalog.upsert_asset(Asset(id=asset_id, tenant=TENANT, kind="warehouse_zone",
                                           capacity=cap, unit="space"))
                store.write([Reading(TENANT, asset_id, "occupied", float(t), float(v))
                             for t, v in zip(times, occupied, strict=True)
                             if t < start + DAY_S])
            passes = 0
            now = start
            while now < start + DAY_S:
                run_once(catalog, store, now=now)
                passes += 1
                if progress is not None:
                    progress(passes, time.perf_counter() - began)
                now += interval_s
            with catalog.session() as s:
                by_type = dict(s.execute(select(OfferEventRow.type, func.count())
                                         .group_by(OfferEventRow.type)).all())
                offers = s.scalar(select(func.count(func.distinct(OfferEventRow.offer_id))))
        finally:
            catalog.close()
            store.close()
    return ChurnFigures(passes=passes, offers=int(offers or 0),
                        created=int(by_type.get("created", 0)),
                        updated=int(by_type.get("updated", 0)),
                        withdrawn=int(by_type.get("withdrawn", 0)),
                        seconds=time.perf_counter() - began)
