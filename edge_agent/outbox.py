"""The durable outbox: every measurement is stored here before it is published.

Rows live in SQLite (WAL) until the broker acknowledges the message that carried them, so a
power cut or a broker outage loses nothing. Rows are packed into messages lazily, right before
publishing: while the link is down they pile up unpacked, and on reconnect they leave as packs
of up to ``max_pack`` measurements of one asset, in order, with their original timestamps.

Once packed, a message keeps its sequence number and content until acknowledged, so a message
sent again (after a restart) is recognisably the same one to ingest. Sequence numbers grow
strictly across restarts; a new outbox starts at the current time in milliseconds, so even a
lost outbox file cannot make them go backwards.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from idleshare.errors import ConfigError, StoreError
from idleshare.wire import MAX_PAYLOAD_BYTES, Measurement

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    asset TEXT NOT NULL,
    name  TEXT NOT NULL,
    value REAL NOT NULL,
    time  REAL NOT NULL,
    unit  TEXT NOT NULL,
    seq   INTEGER            -- NULL until packed into a message
);
CREATE INDEX IF NOT EXISTS outbox_seq ON outbox (seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
#: Room kept for the pack's base fields (base name, agent id, seq) below the payload limit.
_HEADROOM = 1024


@dataclass(frozen=True)
class OutMessage:
    """A packed message waiting for its acknowledgement."""

    seq: int
    asset: str
    measurements: tuple[Measurement, ...]


def _record_size(name: str, unit: str) -> int:
    # A generous bound of one encoded SenML record: numbers print in at most ~25 characters.
    return len(json.dumps(name)) + len(json.dumps(unit)) + 80


class Outbox:
    """SQLite-backed queue of measurements; thread-safe (one connection behind a lock)."""

    def __init__(self, path: str | Path, agent_id: str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives power loss
            self._db.executescript(_SCHEMA)
            with self._tx():
                owner = self._meta("agent")
                if owner is None:
                    self._set_meta("agent", agent_id)
                    self._set_meta("next_seq", str(int(time.time() * 1000)))
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"outbox {self.path} cannot be opened: {err}") from err
        if owner not in (None, agent_id):
            self.close()
            raise ConfigError(f"buffer.path belongs to agent {owner!r}, not {agent_id!r}: "
                              f"got {str(self.path)!r}")

    def add(self, asset: str, measurements: Iterable[Measurement]) -> int:
        """Store measurements of one asset; returns how many."""
        rows = [(asset, m.name, m.value, m.time, m.unit) for m in measurements]
        with self._tx():
            self._db.executemany(
                "INSERT INTO outbox (asset, name, value, time, unit) VALUES (?, ?, ?, ?, ?)", rows)
        return len(rows)

    def pack(self, max_pack: int) -> int:
        """Give every unpacked row a message; returns how many messages were made."""
        with self._tx():
            rows = self._db.execute(
                "SELECT id, asset, name, unit FROM outbox WHERE seq IS NULL ORDER BY id").fetchall()
            if not rows:
                return 0
            chunks: list[list[int]] = []
            open_chunk: dict[str, tuple[list[int], list[int]]] = {}  # asset -> (ids, [bytes])
            for row_id, asset, name, unit in rows:
                size = _record_size(name, unit)
                ids, used = open_chunk.get(asset, ([], [0]))
                if len(ids) >= max_pack or used[0] + size > MAX_PAYLOAD_BYTES - _HEADROOM:
                    ids, used = [], [0]
                if not ids:
                    chunks.append(ids)
                    open_chunk[asset] = (ids, used)
                ids.append(row_id)
                used[0] += size
            first = int(self._meta("next_seq") or 1)
            self._db.executemany(
                "UPDATE outbox SET seq = ? WHERE id = ?",
                ((first + n, row_id) for n, ids in enumerate(chunks) for row_id in ids))
            self._set_meta("next_seq", str(first + len(chunks)))
        return len(chunks)

    def messages(self, limit: int, exclude: Sequence[int] = ()) -> list[OutMessage]:
        """Up to ``limit`` packed, unacknowledged messages by sequence, skipping ``exclude``."""
        skip = set(exclude)
        with self._lock:
            seqs = [s for (s,) in self._db.execute(
                "SELECT DISTINCT seq FROM outbox WHERE seq IS NOT NULL ORDER BY seq LIMIT ?",
                (limit + len(skip),)) if s not in skip][:limit]
            out = []
            for seq in seqs:
                rows = self._db.execute(
                    "SELECT asset, name, value, time, unit FROM outbox WHERE seq = ? ORDER BY id",
                    (seq,)).fetchall()
                out.append(OutMessage(seq, rows[0][0], tuple(Measurement(n, v, t, u)
                                                             for _, n, v, t, u in rows)))
        return out

    def ack(self, seq: int) -> int:
        """The broker has the message: forget its rows; returns how many."""
        with self._tx():
            return self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,)).rowcount

    def count(self) -> int:
        """Measurements not yet acknowledged."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    @property
    def next_seq(self) -> int:
        with self._lock:
            return int(self._meta("next_seq") or 1)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- helpers --------------------------------------------------------------------------------

    def _tx(self) -> _Transaction:
        return _Transaction(self._db, self._lock)

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


class _Transaction:
    """Lock + BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error); sqlite errors become StoreError."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self._db, self._lock = db, lock

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            self._lock.release()
            raise StoreError(f"outbox transaction cannot start: {err}") from err

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            self._db.execute("COMMIT" if exc is None else "ROLLBACK")
        except sqlite3.Error as err:
            raise StoreError(f"outbox commit failed: {err}") from err
        finally:
            self._lock.release()
        if isinstance(exc, sqlite3.Error):
            raise StoreError(f"outbox write failed: {exc}") from exc
