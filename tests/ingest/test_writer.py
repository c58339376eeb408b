"""Batching: by size, by time, and only reporting what was written."""

from __future__ import annotations

import threading
import time

from idleshare.errors import StoreError
from ingest.writer import BatchWriter, Entry
from storage.influx import InfluxV1Store
from storage.readings import Reading
from storage.sqlite import SqliteReadingStore
from tests.ingest.conftest import wait_for
from tests.servers import free_port


def entry(mid: int, n: int) -> Entry:
    return Entry(mid, 1, 1, tuple(Reading("t", "a", "m", mid * 100.0 + i, 1.0) for i in range(n)))


def test_batches_hold_at_most_batch_size_readings_and_keep_message_order(
    sqlite_store: SqliteReadingStore,
) -> None:
    batches: list[list[int]] = []
    writer = BatchWriter(sqlite_store, lambda b: batches.append([e.mid for e in b]),
                         batch_size=4, flush_interval_s=60, idle_flush_s=60)
    for mid in range(1, 7):
        writer.add(entry(mid, 2))
    writer.start()
    assert writer.stop(5)
    assert batches == [[1, 2], [3, 4], [5, 6]]
    assert sqlite_store.count() == 12


def test_a_message_larger_than_a_batch_is_written_alone(sqlite_store: SqliteReadingStore) -> None:
    batches: list[list[int]] = []
    writer = BatchWriter(sqlite_store, lambda b: batches.append([e.mid for e in b]), batch_size=2)
    for mid, n in ((1, 1), (2, 5), (3, 1)):
        writer.add(entry(mid, n))
    writer.start()
    assert writer.stop(5)
    assert batches == [[1], [2], [3]]


def test_a_quiet_queue_is_written_after_the_idle_time(sqlite_store: SqliteReadingStore) -> None:
    done = threading.Event()
    writer = BatchWriter(sqlite_store, lambda b: done.set(), flush_interval_s=60, idle_flush_s=0.05)
    writer.start()
    started = time.monotonic()
    writer.add(entry(1, 1))
    assert done.wait(5) and time.monotonic() - started < 1
    writer.stop()


def test_a_failing_store_is_retried_and_nothing_is_reported_written() -> None:
    store = InfluxV1Store(f"http://127.0.0.1:{free_port()}", "db", timeout_s=1)
    errors: list[StoreError] = []
    written: list[list[Entry]] = []
    writer = BatchWriter(store, written.append, errors.append, idle_flush_s=0,
                         retry_initial_s=0.01, retry_max_s=0.02)
    writer.add(entry(1, 1))
    writer.start()
    wait_for(lambda: len(errors) >= 3, lambda: errors)
    assert writer.stop(0.1) is False
    assert written == [] and writer.pending == 1
