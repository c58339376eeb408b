"""Readings in an embedded SQLite file: the default backend when no InfluxDB is configured."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from idleshare.errors import StoreError, StoreRefused
from storage.readings import Reading

# Times are whole microseconds, as in the InfluxDB adapters, so that a key is an exact integer
# (a float key would make "the same time" depend on arithmetic) and both backends round alike.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    tenant TEXT NOT NULL,
    asset  TEXT NOT NULL,
    metric TEXT NOT NULL,
    t_us   INTEGER NOT NULL,
    value  REAL NOT NULL,
    unit   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant, asset, metric, t_us)
) WITHOUT ROWID
"""


def to_us(t: float) -> int:
    return round(t * 1_000_000)


def enable_wal(cur: sqlite3.Cursor | sqlite3.Connection, attempts: int = 50) -> None:
    """WAL is persistent, so only the first opener switches; SQLite answers "database is
    locked" to a journal-mode change at once, without its busy timeout, while another
    process opens the new file, hence the retry."""
    for attempt in range(attempts):
        try:
            if cur.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or attempt == attempts - 1:
                raise
            time.sleep(0.01 * (attempt + 1))


class SqliteReadingStore:
    """A :class:`storage.readings.ReadingStore` in one SQLite file (WAL, one locked connection)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30,
                                       isolation_level=None)
            enable_wal(self._db)
            # FULL, not NORMAL: write() promises the readings survive a power cut once it returns.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as err:
            raise StoreError(f"cannot open readings database {self.path!r}: {err}") from err

    def write(self, readings: Sequence[Reading]) -> None:
        try:
            rows = [(r.tenant, r.asset, r.metric, to_us(r.time), float(r.value), r.unit)
                    for r in readings]
        except (TypeError, ValueError, OverflowError) as err:
            raise StoreRefused(f"cannot store {len(readings)} readings: {err}") from err
        if not rows:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT INTO readings (tenant, asset, metric, t_us, value, unit)"
                    " VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (tenant, asset, metric, t_us)"
                    " DO UPDATE SET value = excluded.value, unit = excluded.unit",
                    rows,
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                self._rollback()
                raise StoreError(f"cannot write {len(rows)} readings: {err}") from err

    def _rollback(self) -> None:
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the connection is already unusable; the original error is what matters

    def query(
        self, tenant: str, asset: str, metric: str, start: float, end: float
    ) -> list[tuple[float, float]]:
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT t_us, value FROM readings WHERE tenant = ? AND asset = ?"
                    " AND metric = ? AND t_us >= ? AND t_us < ? ORDER BY t_us",
                    (tenant, asset, metric, to_us(start), to_us(end)),
                ).fetchall()
            except sqlite3.Error as err:
                raise StoreError(f"cannot query readings: {err}") from err
        # int / int is correctly rounded, so a time written as a float comes back identical.
        return [(t_us / 1_000_000, value) for t_us, value in rows]

    def count(self, tenant: str | None = None) -> int:
        sql, args = "SELECT COUNT(*) FROM readings", tuple[str, ...]()
        if tenant is not None:
            sql, args = sql + " WHERE tenant = ?", (tenant,)
        with self._lock:
            try:
                return int(self._db.execute(sql, args).fetchone()[0])
            except sqlite3.Error as err:
                raise StoreError(f"cannot count readings: {err}") from err

    def close(self) -> None:
        with self._lock:
            self._db.close()
