"""The durable outbox: every measurement is stored here before it is published.

Rows live in SQLite (WAL) until ingest's storage receipt says the database holds them (or, for
a broker without receipts, until the broker acknowledges the message), so a power cut, a broker
outage or a broker that loses its queue loses nothing. Rows are packed into messages lazily,
right before publishing: while the link is down they pile up unpacked, and on reconnect they
leave as packs of up to ``max_pack`` measurements of one asset, in order, with their original
timestamps.

A message is *queued* until handed to the client, then tracked in ``sent`` (handed, then
PUBACKed) until receipted; a PUBACKed message without receipt is due again after a timeout that
doubles with each attempt. Once packed, a message keeps its sequence number and content until
it leaves, so a message sent again is recognisably the same one to ingest. Sequence numbers grow
strictly across restarts; a new outbox starts at the current time in milliseconds, so even a
lost outbox file cannot make them go backwards.

The file is bounded: past ``max_bytes`` (or when the disk itself is full) the oldest messages
are dropped whole (a packed message never loses part of its rows, so a resend stays the same
message) and their rows counted in ``dropped``, which survives restarts and is reported
upstream. Unreceipted messages count against the budget like any other.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

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
-- Messages handed to the client and not yet receipted; due = when to send again.
CREATE TABLE IF NOT EXISTS sent (
    seq      INTEGER PRIMARY KEY,
    due      REAL NOT NULL,
    attempts INTEGER NOT NULL,
    acked    INTEGER NOT NULL    -- 1 once the broker PUBACKed the last attempt
);
CREATE INDEX IF NOT EXISTS sent_due ON sent (due);
"""
#: Room kept for the pack's base fields (base name, agent id, seq) below the payload limit.
_HEADROOM = 1024
#: Over budget, drop down to this share of it, so the next drop is a while away.
_REFILL = 0.9
#: Disk full: drop this share of the rows and try again.
_FULL_DROP = 0.1
#: Smallest budget: SQLite's own pages need some room.
MIN_BYTES = 64 * 1024
#: The WAL file is truncated to this after a checkpoint.
_WAL_LIMIT = 4 * 1024 * 1024

T = TypeVar("T")


@dataclass(frozen=True)
class OutMessage:
    """A packed message waiting for its acknowledgement."""

    seq: int
    asset: str
    measurements: tuple[Measurement, ...]


def _record_size(name: str, unit: str) -> int:
    # A generous bound of one encoded SenML record: numbers print in at most ~25 characters.
    return len(json.dumps(name)) + len(json.dumps(unit)) + 80


def _is_full(err: sqlite3.Error) -> bool:
    return getattr(err, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "full" in str(err)


class Outbox:
    """SQLite-backed queue of measurements; thread-safe (one connection behind a lock)."""

    def __init__(self, path: str | Path, agent_id: str, max_bytes: int = 500 * 1024 * 1024
                 ) -> None:
        if max_bytes < MIN_BYTES:
            raise ConfigError(f"buffer.max_mb must be >= {MIN_BYTES / 2**20:.3f}: "
                              f"got {max_bytes / 2**20}")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        #: Readings lost because even a drop could not make room (disk full); not persisted.
        self._lost = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # Each transaction says how durable it must be (see _Transaction).
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(f"PRAGMA journal_size_limit={_WAL_LIMIT}")
            self._db.executescript(_SCHEMA)
            self._page_size = self._scalar("PRAGMA page_size")
            self._unreceipted = self._count_sent()
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

    # -- writing --------------------------------------------------------------------------------

    def add(self, asset: str, measurements: Iterable[Measurement],
            sampled_at: float | None = None) -> int:
        """Store measurements of one asset; returns how many were kept.

        ``sampled_at`` (the clock time of the sample) is remembered per asset, so a restarted
        agent resumes after it instead of sampling the same time twice. Over the disk budget
        the oldest rows make room; on a full disk, too, or the new rows are counted as lost.
        """
        rows = [(asset, m.name, m.value, m.time, m.unit) for m in measurements]
        if not rows:
            return 0

        def insert() -> int:
            self._insert(asset, rows, sampled_at)
            self._enforce_budget()
            return len(rows)

        kept = self._with_room(insert)
        if kept is None:
            self._lost += len(rows)
        return kept or 0

    def pack(self, max_pack: int, max_rows: int | None = None) -> int:
        """Give unpacked rows (the oldest ``max_rows``) a message; returns how many messages.

        When more rows wait than were read, each asset's last, partly filled pack is left for
        the next call, so a long backlog leaves in full packs.
        """
        return self._with_room(lambda: self._pack(max_pack, max_rows)) or 0

    def _pack(self, max_pack: int, max_rows: int | None) -> int:
        limit = -1 if max_rows is None else max_rows
        rows = self._db.execute(
            "SELECT id, asset, name, unit FROM outbox WHERE seq IS NULL ORDER BY id LIMIT ?",
            (limit,)).fetchall()
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
        if max_rows is not None and len(rows) == max_rows:
            partial = {id(ids) for ids, _ in open_chunk.values() if len(ids) < max_pack}
            full = [ids for ids in chunks if id(ids) not in partial]
            chunks = full or chunks  # never stall: a batch of only partial packs goes too
        first = self._next_seq()
        self._db.executemany(
            "UPDATE outbox SET seq = ? WHERE id = ?",
            ((first + n, row_id) for n, ids in enumerate(chunks) for row_id in ids))
        self._set_meta("next_seq", str(first + len(chunks)))
        return len(chunks)

    # The bookkeeping below is not fsynced: a change lost to a power cut only sends a message
    # again, which ingest drops as a repeat of (agent, seq) and receipts again.

    def handed(self, seqs: Sequence[int], now: float, timeout_s: float) -> None:
        """These messages were handed to the client (sent, or sent again)."""
        with self._tx(durable=False):
            self._db.executemany(
                "INSERT INTO sent (seq, due, attempts, acked) VALUES (?, ?, 1, 0) "
                "ON CONFLICT (seq) DO UPDATE SET attempts = attempts + 1, acked = 0, "
                "due = excluded.due", ((s, now + timeout_s) for s in seqs))
            self._unreceipted = self._count_sent()

    def acked(self, seqs: Sequence[int], now: float, timeout_s: float, max_s: float) -> None:
        """The broker PUBACKed them: wait ``timeout_s`` (doubled per earlier attempt, at most
        ``max_s``) for the receipt before sending again."""
        with self._tx(durable=False):
            self._db.executemany(
                "UPDATE sent SET acked = 1, due = ? + min(? * (1 << min(attempts - 1, 20)), ?) "
                "WHERE seq = ?", ((now, timeout_s, max_s, s) for s in seqs))

    def settle(self, ranges: Iterable[tuple[int, int, str]]) -> tuple[int, int]:
        """Receipted ``(first, last, reason)`` ranges leave (reason empty: stored, else
        rejected for good); returns (readings stored, readings rejected)."""
        stored = rejected = 0
        with self._tx(durable=False):
            for first, last, reason in ranges:
                n = self._db.execute("DELETE FROM outbox WHERE seq BETWEEN ? AND ?",
                                     (first, last)).rowcount
                self._db.execute("DELETE FROM sent WHERE seq BETWEEN ? AND ?", (first, last))
                if reason:
                    rejected += n
                else:
                    stored += n
            if rejected:
                self._count_up("rejected", rejected)
            self._unreceipted = self._count_sent()
        return stored, rejected

    def ack(self, seq: int) -> int:
        """Without receipts: the broker has the message, forget its rows; returns how many."""
        return self.settle([(seq, seq, "")])[0]

    def resend_all(self) -> None:
        """Every unreceipted message is due now (a new connection: receipts may have been
        published while this agent was away)."""
        with self._tx(durable=False):
            self._db.execute("UPDATE sent SET due = 0")

    def set_state(self, **state: object) -> None:
        """Record the running agent's state (``idleshare agent status`` reads it)."""
        with self._tx(durable=False):
            for key, value in state.items():
                self._set_meta(f"state.{key}", json.dumps(value))

    # -- reading --------------------------------------------------------------------------------

    def messages(self, limit: int, after: int = -1) -> list[OutMessage]:
        """Up to ``limit`` packed messages with a sequence number above ``after``, in order."""
        with self._lock:
            seqs = [s for (s,) in self._db.execute(
                "SELECT DISTINCT seq FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit))]
            return self._load(seqs)

    def due(self, now: float, limit: int, exclude: Sequence[int] = ()) -> list[OutMessage]:
        """Up to ``limit`` unreceipted messages due to be sent again, skipping ``exclude``
        (still with the client)."""
        skip = set(exclude)
        with self._lock:
            seqs = [s for (s,) in self._db.execute(
                "SELECT seq FROM sent WHERE due <= ? ORDER BY seq LIMIT ?",
                (now, limit + len(skip))) if s not in skip][:limit]
            return self._load(seqs)

    def _load(self, seqs: Sequence[int]) -> list[OutMessage]:
        out = []
        for seq in seqs:
            rows = self._db.execute(
                "SELECT asset, name, value, time, unit FROM outbox WHERE seq = ? ORDER BY id",
                (seq,)).fetchall()
            if rows:  # a tracked message may have been dropped for the budget
                out.append(OutMessage(seq, rows[0][0], tuple(Measurement(n, v, t, u)
                                                             for _, n, v, t, u in rows)))
        return out

    @property
    def unreceipted(self) -> int:
        """Messages handed to the client and not yet receipted."""
        return self._unreceipted

    def last_handed(self) -> int:
        """Highest sequence number handed to a client and still unreceipted (-1: none);
        messages are handed in order, so every lower one was handed before."""
        with self._lock:
            return self._scalar("SELECT coalesce(max(seq), -1) FROM sent")

    def sent_readings(self) -> int:
        """Readings the broker acknowledged that wait for their receipt."""
        with self._lock:
            return self._scalar(
                "SELECT COUNT(*) FROM outbox JOIN sent USING (seq) WHERE sent.acked = 1")

    @property
    def rejected(self) -> int:
        """Readings ingest rejected for good (receipted with a reason)."""
        with self._lock:
            return self._counter("rejected")

    def count(self) -> int:
        """Measurements not yet receipted (queued or sent)."""
        with self._lock:
            return self._rows()

    @property
    def dropped(self) -> int:
        """Measurements ever dropped to stay within the budget (or lost to a full disk)."""
        with self._lock:
            return self._counter("dropped") + self._lost

    def last_sampled(self) -> dict[str, float]:
        """Clock time of each asset's last stored sample."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, value FROM meta WHERE key LIKE 'last:%'").fetchall()
        return {key[5:]: float(value) for key, value in rows}

    @property
    def next_seq(self) -> int:
        with self._lock:
            return self._next_seq()

    def used_bytes(self) -> int:
        with self._lock:
            return self._used_bytes()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- helpers --------------------------------------------------------------------------------

    def _insert(self, asset: str, rows: list[tuple[str, str, float, float, str]],
                sampled_at: float | None) -> None:
        self._db.executemany(
            "INSERT INTO outbox (asset, name, value, time, unit) VALUES (?, ?, ?, ?, ?)", rows)
        if sampled_at is not None:
            self._set_meta(f"last:{asset}", repr(sampled_at))

    def _with_room(self, work: Callable[[], T]) -> T | None:
        """``work()`` in a transaction; on a full disk, drop the oldest rows and try once more.

        Returns None when even then there was no room.
        """
        for attempt in range(2):
            try:
                with self._tx():
                    return work()
            except StoreError as err:
                if not (isinstance(err.__cause__, sqlite3.Error) and _is_full(err.__cause__)):
                    raise
                if attempt == 0:
                    self._drop_share(_FULL_DROP)
        return None

    def _used_bytes(self) -> int:
        pages = self._scalar("PRAGMA page_count") - self._scalar("PRAGMA freelist_count")
        return pages * self._page_size

    def _enforce_budget(self) -> None:
        used = self._used_bytes()
        if used <= self.max_bytes:
            return
        # Rows are about the same size: drop the share that brings the file back under budget.
        self._drop_oldest_rows(math.ceil(self._rows() * (1 - _REFILL * self.max_bytes / used)))

    def _drop_share(self, share: float) -> None:
        try:
            with self._tx():
                self._drop_oldest_rows(max(1, math.ceil(self._rows() * share)))
        except StoreError:
            pass  # nothing more to free; the caller counts the readings as lost

    def _count_sent(self) -> int:
        return self._scalar("SELECT COUNT(*) FROM sent")

    def _rows(self) -> int:
        return self._scalar("SELECT COUNT(*) FROM outbox")

    def _drop_oldest_rows(self, n: int) -> None:
        """Drop the ``n`` oldest rows and the rest of every message they belong to, and count
        exactly the rows deleted."""
        row = self._db.execute("SELECT id FROM outbox ORDER BY id LIMIT 1 OFFSET ?",
                               (max(n, 1) - 1,)).fetchone()
        if row is None:
            return
        cut = row[0]
        seqs = [(s,) for (s,) in self._db.execute(
            "SELECT DISTINCT seq FROM outbox WHERE id <= ? AND seq IS NOT NULL", (cut,))]
        gone = self._db.execute("DELETE FROM outbox WHERE id <= ?", (cut,)).rowcount
        for batch in (seqs[i:i + 500] for i in range(0, len(seqs), 500)):
            marks = ",".join("?" * len(batch))
            params = [s for (s,) in batch]
            gone += self._db.execute(f"DELETE FROM outbox WHERE seq IN ({marks})",
                                     params).rowcount
            self._db.execute(f"DELETE FROM sent WHERE seq IN ({marks})", params)
        self._unreceipted = self._count_sent()
        self._count_up("dropped", gone)

    def _tx(self, durable: bool = True) -> _Transaction:
        """A write transaction; ``durable`` ones (new readings, sequence numbers) are fsynced
        before they commit, so a power cut cannot take back a reading the agent has taken."""
        return _Transaction(self._db, self._lock, durable)

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _next_seq(self) -> int:
        return int(self._meta("next_seq") or 1)

    def _counter(self, key: str) -> int:
        """A count kept in ``meta`` (``rejected``, ``dropped``); 0 before the first."""
        return int(self._meta(key) or 0)

    def _count_up(self, key: str, n: int) -> None:
        self._set_meta(key, str(self._counter(key) + n))

    def _scalar(self, sql: str) -> int:
        """The one integer ``sql`` selects."""
        return int(self._db.execute(sql).fetchone()[0])


class _Transaction:
    """Lock + BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error); sqlite errors become StoreError."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock, durable: bool) -> None:
        self._db, self._lock, self._durable = db, lock, durable

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            # WAL with FULL syncs the log at each commit; NORMAL only at checkpoints (a power
            # cut may take back the last commits, but never corrupts the file).
            self._db.execute(f"PRAGMA synchronous={'FULL' if self._durable else 'NORMAL'}")
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            self._lock.release()
            raise StoreError(f"outbox transaction cannot start: {err}") from err

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            if exc is None:
                self._db.execute("COMMIT")
            elif self._db.in_transaction:  # SQLite may have rolled back itself (disk full)
                self._db.execute("ROLLBACK")
        except sqlite3.Error as err:
            raise StoreError(f"outbox commit failed: {err}") from err
        finally:
            self._lock.release()
        if isinstance(exc, sqlite3.Error):
            raise StoreError(f"outbox write failed: {exc}") from exc
