"""One import pass: read the source window by window, map, store, and only then advance the
cursor.

Each pass reads ``[cursor - overlap, now)``: points that reach the source late (Telegraf
flushes every ``flush_interval``, and replays its buffer after an outage) are picked up by the
next pass as long as they are less than ``overlap`` late. Reading a point twice costs nothing
more: the readings store keys a reading by ``(tenant, asset, metric, time)`` and overwrites
it, so a re-read window stores nothing twice. A crash between the write and the cursor's
save re-reads that window, with the same effect.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from idleshare.errors import StoreError, StoreRefused
from ingest.influx_source.cursor import FileCursor
from ingest.influx_source.mapping import Rejection, SourceMap
from ingest.influx_source.queries import TooManyRows
from ingest.influx_source.sources import Source
from storage.catalog import Catalog
from storage.readings import Reading, ReadingStore

log = logging.getLogger(__name__)

_S = 1_000_000_000  # nanoseconds


@dataclass
class PassReport:
    """What one pass read and stored."""

    read_from_ns: int = 0
    read_until_ns: int = 0
    rows: int = 0
    #: Readings written (a re-read point is written again, onto itself).
    written: int = 0
    #: Rejected rows and values by reason, with the latest example of each.
    rejected: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def reject(self, rejection: Rejection) -> None:
        self.rejected[rejection.reason] += 1
        self.examples[rejection.reason] = rejection.detail

    def __str__(self) -> str:
        rejected = ", ".join(f"{r}={n} (e.g. {self.examples[r]})"
                             for r, n in sorted(self.rejected.items()))
        return (f"read {self.rows} rows, wrote {self.written} readings"
                + (f", rejected {rejected}" if rejected else ""))


@dataclass
class Importer:
    source: Source
    mapping: SourceMap
    store: ReadingStore
    catalog: Catalog
    cursor: FileCursor
    #: Re-read this much before the cursor on every pass, for points that arrive late.
    overlap_s: float = 900.0
    #: The first pass (no cursor yet) starts this long ago.
    since_s: float = 7 * 86400.0
    #: One query covers at most this much time (halved while the server truncates answers).
    window_s: float = 3600.0
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self._position: int | None = None
        self._loaded = False
        self._registered = False
        # '/' never appears in an agent id taken from a topic: no agent can be confused with it.
        self.agent = f"import-influx/{self.mapping.name}"[:64]

    def register_assets(self) -> None:
        """Put the mapping's assets in the catalog, as an agent's birth does."""
        now = self.clock()
        for entry in self.mapping.assets:
            self.catalog.upsert_asset(entry.asset, agent=self.agent, online=True, at=now)
        self._registered = True

    def run_pass(self) -> PassReport:
        """Read what is new since the last pass; raises :class:`StoreError` when the source,
        the store or the catalog fails (the cursor then stays where the last stored window
        ended, and the next pass continues from there)."""
        if not self._registered:
            self.register_assets()
        if not self._loaded:
            self._position = self.cursor.load()
            self._loaded = True
        end = int(self.clock() * _S)
        start = (end - int(self.since_s * _S) if self._position is None
                 else self._position - int(self.overlap_s * _S))
        report = PassReport(read_from_ns=start, read_until_ns=start)
        window = max(int(self.window_s * _S), _S)
        while start < end:
            stop = min(start + window, end)
            try:
                rows = self.source.rows(start, stop)
            except TooManyRows:
                if window <= _S:
                    raise StoreError("the source truncates even a one-second window: raise "
                                     "its max-row-limit") from None
                window //= 2
                continue
            readings: list[Reading] = []
            for row in rows:
                found, rejected = self.mapping.map_row(row)
                readings.extend(found)
                for rejection in rejected:
                    report.reject(rejection)
            report.rows += len(rows)
            report.written += self._write(readings, report)
            self._advance(stop)
            report.read_until_ns = start = stop
        log.info("%s: %s", self.source.identity, report)
        return report

    def _write(self, readings: Sequence[Reading], report: PassReport) -> int:
        """Write the readings; if the store refuses the batch for good, write them one by one
        so that only those it refuses are lost (counted as ``store_refused``)."""
        try:
            self.store.write(readings)
            return len(readings)
        except StoreRefused:
            written = 0
            for reading in readings:
                try:
                    self.store.write([reading])
                    written += 1
                except StoreRefused as err:
                    report.reject(Rejection("store_refused", str(err)[:300]))
            return written

    def _advance(self, read_until_ns: int) -> None:
        # Never backwards: the overlap re-reads windows the cursor has already passed.
        if self._position is None or read_until_ns > self._position:
            self.cursor.save(read_until_ns)
            self._position = read_until_ns

    def run_forever(self, stop: threading.Event, interval_s: float = 60.0) -> None:
        """A pass every ``interval_s`` until ``stop`` is set; a failed pass is logged and the
        next one tries again."""
        while not stop.is_set():
            try:
                self.run_pass()
            except StoreError as err:
                log.warning("%s: pass failed, next in %.0f s: %s", self.source.identity,
                            interval_s, err)
            stop.wait(interval_s)
