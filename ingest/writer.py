"""Batch readings from many messages into few store writes, and report each durable write.

A batch is written when it holds ``batch_size`` readings, when its oldest message has waited
``flush_interval_s``, or when no message has arrived for ``idle_flush_s``. The last rule
matters: the broker stops delivering once its limit of unacknowledged messages is reached,
and messages are acknowledged only after their write, so waiting for a full batch could wait
for ever. A failed write is retried with exponential backoff, unacknowledged, until it works;
meanwhile a store with a cheap health probe (``ping() -> bool``: InfluxDB's ``/ping``) is asked
every ``probe_interval_s``, and the write is retried as soon as it answers, so the backlog drains
the moment the database is back, not at the next step of a backoff grown to half a minute.

A write the store *refuses* (:class:`StoreRefused`: a line it cannot parse) would fail for ever
and block every message behind it, so the batch is halved until the refused messages stand
alone; those are marked ``store_refused``, handed to ``on_refused`` (ingest dead-letters them)
and reported with their batch, in order, for acknowledgement; the rest is written.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from idleshare.errors import StoreError, StoreRefused
from storage.readings import Reading, ReadingStore

log = logging.getLogger(__name__)


@dataclass(slots=True)  # not frozen: one is made per message, and frozen init is slow
class Entry:
    """One received message waiting for its readings to be written before it is acknowledged."""

    mid: int
    qos: int
    connection: int  # which connection delivered it: a packet id means nothing on another
    readings: Sequence[Reading] = ()
    key: tuple[str, str] | None = None  # (tenant, agent) of a readings message, if known
    seq: int = -1
    topic: str = ""  # kept for the dead letter, should the store refuse the readings
    payload: bytes | bytearray = field(default=b"", repr=False)
    repeat: bool = False  # a repeat of a stored or pending (key, seq): receipted, not written
    reason: str = ""  # set when rejected for good: receipted with it, not written


@dataclass
class _Queue:
    entries: deque[Entry] = field(default_factory=deque)
    readings: int = 0
    first_at: float = 0.0
    last_at: float = 0.0


@dataclass(eq=False, repr=False)  # settings as fields; the rest is state, made after them
class BatchWriter:
    store: ReadingStore
    on_written: Callable[[list[Entry], float], None]
    on_error: Callable[[StoreError], None] = lambda err: None
    on_refused: Callable[[Entry, StoreRefused], None] = lambda entry, err: None
    batch_size: int = 5000
    flush_interval_s: float = 1.0
    idle_flush_s: float = 0.02
    retry_initial_s: float = 0.2
    retry_max_s: float = 30.0
    probe_interval_s: float = 0.25

    def __post_init__(self) -> None:
        self._q = _Queue()
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._writing = 0  # messages taken from the queue and not yet acknowledged
        self._deadline = float("inf")  # when stopping gives up on a failing store
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self._thread.start()

    def add(self, entry: Entry) -> None:
        with self._cond:
            q = self._q
            q.last_at = time.monotonic()
            was_empty = not q.entries
            if was_empty:
                q.first_at = q.last_at
            q.entries.append(entry)
            q.readings += len(entry.readings)
            # Wake the writer only when that changes its plans: an empty queue it waits on
            # without a deadline, or a full batch. Waking it for every message costs more
            # than the rest of ingest (a thread switch and the GIL each time); otherwise it
            # wakes at the deadline it computed and looks again.
            if was_empty or q.readings >= self.batch_size:
                self._cond.notify()

    @property
    def pending_readings(self) -> int:
        """Readings queued for the next batch."""
        with self._cond:
            return self._q.readings

    @property
    def pending(self) -> int:
        """Messages received and not yet written (queued or being written)."""
        with self._cond:
            return len(self._q.entries) + self._writing

    def stop(self, timeout_s: float = 10.0) -> bool:
        """Write what is queued (retrying for up to ``timeout_s``) and stop; False if some
        messages stay unwritten, which the broker then delivers again to the next session."""
        self._deadline = time.monotonic() + timeout_s
        self._stopping.set()
        with self._cond:
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout_s + 5)
        return self.pending == 0

    def _due_in(self, now: float) -> float | None:
        """Seconds until the queue must be written: 0 = now, None = nothing queued."""
        q = self._q
        if not q.entries:
            return None
        if self._stopping.is_set() or q.readings >= self.batch_size:
            return 0.0
        due = min(q.first_at + self.flush_interval_s, q.last_at + self.idle_flush_s)
        return max(0.0, due - now)

    def _take(self) -> list[Entry] | None:
        with self._cond:
            while True:
                due = self._due_in(time.monotonic())
                if due == 0.0:
                    break
                if due is None and self._stopping.is_set():
                    return None
                self._cond.wait(due)
            batch: list[Entry] = []
            n = 0
            while self._q.entries and (not batch or n + len(self._q.entries[0].readings)
                                       <= self.batch_size):
                entry = self._q.entries.popleft()
                batch.append(entry)
                n += len(entry.readings)
            self._q.readings -= n
            self._q.first_at = time.monotonic()
            self._writing = len(batch)
            return batch

    def _run(self) -> None:
        while (batch := self._take()) is not None:
            if not self._commit(batch):
                return  # gave up while stopping: they stay counted as pending
            with self._cond:
                self._writing = 0

    def _commit(self, batch: list[Entry]) -> bool:
        """Write the batch and report it, halving it around refused messages; False if the
        store still failed when stopping gave up."""
        started = time.monotonic()
        readings = [r for e in batch for r in e.readings]
        try:
            # A batch of statuses, repeats and rejections only needs its acknowledgements.
            if readings and not self._write(readings):
                return False
        except StoreRefused as err:
            if len([e for e in batch if e.readings]) == 1:
                refused = next(e for e in batch if e.readings)
                refused.reason = "store_refused"
                self._report(self.on_refused, refused, err)
                # The others (no readings) are still to be acknowledged, in their order.
                self._report(self.on_written, batch, time.monotonic() - started)
                return True
            log.warning("the store refused a batch of %d messages, splitting it: %s",
                        len(batch), err)
            half = len(batch) // 2
            return self._commit(batch[:half]) and self._commit(batch[half:])
        self._report(self.on_written, batch, time.monotonic() - started)
        return True

    @staticmethod
    def _report(callback: Callable[..., None], *args: object) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("acknowledging a written batch failed")

    def _write(self, readings: list[Reading]) -> bool:
        """True once written, False if stopping gave up; raises StoreRefused at once."""
        delay = self.retry_initial_s
        while True:
            try:
                self.store.write(readings)
                return True
            except StoreRefused:
                raise
            except StoreError as err:
                self.on_error(err)
                log.warning("writing %d readings failed, retrying in %.1f s: %s",
                            len(readings), delay, err)
            except Exception as err:  # a store bug must not kill the thread silently
                self.on_error(StoreError(repr(err)))
                log.exception("the store failed unexpectedly, retrying in %.1f s", delay)
            if not self._pause(delay):
                return False
            delay = min(delay * 2, self.retry_max_s)

    def _pause(self, delay: float) -> bool:
        """Wait ``delay`` before the next attempt, cut short when the store's probe, having
        failed, answers again (a store that answers its probe but fails writes waits out the
        backoff); False if stopping gives up first (the wait would pass its deadline)."""
        probe: Callable[[], bool] | None = getattr(self.store, "ping", None)
        until, was_down = time.monotonic() + delay, False
        while (left := until - time.monotonic()) > 0:
            step = min(left, self.probe_interval_s) if probe is not None else left
            if self._stopping.is_set():
                if time.monotonic() + step > self._deadline:
                    return False
                time.sleep(step)
            else:
                self._stopping.wait(step)  # stop() cuts the wait short to apply its deadline
            if probe is not None:
                if self._answers(probe):
                    if was_down:
                        return True
                else:
                    was_down = True
        return True

    @staticmethod
    def _answers(probe: Callable[[], bool]) -> bool:
        try:
            return probe()
        except Exception:  # a probe that fails says only "not yet"
            return False
