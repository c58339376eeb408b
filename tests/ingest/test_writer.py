"""Batching: by size, by time, and only reporting what was written."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from idleshare.errors import StoreError, StoreRefused
from ingest.writer import BatchWriter, Entry
from storage.influx import InfluxV1Store
from storage.readings import Reading
from storage.sqlite import SqliteReadingStore
from tests.ingest.conftest import wait_for
from tests.servers import InfluxServer, free_port


def entry(mid: int, n: int) -> Entry:
    return Entry(mid, 1, 1, tuple(Reading("t", "a", "m", mid * 100.0 + i, 1.0) for i in range(n)))


def test_batches_hold_at_most_batch_size_readings_and_keep_message_order(
    sqlite_store: SqliteReadingStore,
) -> None:
    batches: list[list[int]] = []
    writer = BatchWriter(sqlite_store, lambda b, _s: batches.append([e.mid for e in b]),
                         batch_size=4, flush_interval_s=60, idle_flush_s=60)
    for mid in range(1, 7):
        writer.add(entry(mid, 2))
    writer.start()
    assert writer.stop(5)
    assert batches == [[1, 2], [3, 4], [5, 6]]
    assert sqlite_store.count() == 12


def test_a_message_larger_than_a_batch_is_written_alone(sqlite_store: SqliteReadingStore) -> None:
    batches: list[list[int]] = []
    writer = BatchWriter(sqlite_store, lambda b, _s: batches.append([e.mid for e in b]),
                         batch_size=2)
    for mid, n in ((1, 1), (2, 5), (3, 1)):
        writer.add(entry(mid, n))
    writer.start()
    assert writer.stop(5)
    assert batches == [[1], [2], [3]]


def test_a_quiet_queue_is_written_after_the_idle_time(sqlite_store: SqliteReadingStore) -> None:
    done = threading.Event()
    writer = BatchWriter(sqlite_store, lambda b, _s: done.set(), flush_interval_s=60,
                         idle_flush_s=0.05)
    writer.start()
    started = time.monotonic()
    writer.add(entry(1, 1))
    assert done.wait(5) and time.monotonic() - started < 1
    writer.stop()


def test_a_failing_store_is_retried_and_nothing_is_reported_written() -> None:
    store = InfluxV1Store(f"http://127.0.0.1:{free_port()}", "db", timeout_s=1)
    errors: list[StoreError] = []
    written: list[list[Entry]] = []
    writer = BatchWriter(store, lambda b, _s: written.append(b), errors.append, idle_flush_s=0,
                         retry_initial_s=0.01, retry_max_s=0.02)
    writer.add(entry(1, 1))
    writer.start()
    wait_for(lambda: len(errors) >= 3, lambda: errors)
    assert writer.stop(0.1) is False
    assert written == [] and writer.pending == 1


class Picky:
    """A store that refuses any write holding a reading of value -1 (as InfluxDB refuses a bad
    line), and fails the first ``down`` writes as if it were unreachable."""

    def __init__(self, down: int = 0) -> None:
        self.down = down
        self.rows: list[Reading] = []
        self.writes = 0

    def write(self, readings: Sequence[Reading]) -> None:
        self.writes += 1
        if self.down:
            self.down -= 1
            raise StoreError("connection refused")
        if any(r.value == -1 for r in readings):
            raise StoreRefused("bad line")
        self.rows += readings


def bad(mid: int) -> Entry:
    return Entry(mid, 1, 1, (Reading("t", "a", "m", mid * 100.0, -1.0),))


def test_refused_messages_are_singled_out_and_the_rest_is_written() -> None:
    store = Picky()
    written: list[int] = []
    refused: list[int] = []
    reported: list[Entry] = []
    writer = BatchWriter(store, lambda b, _s: reported.extend(b),
                         on_refused=lambda e, err: refused.append(e.mid), batch_size=100,
                         flush_interval_s=60, idle_flush_s=60)
    for mid in range(1, 17):
        writer.add(bad(mid) if mid in (3, 11) else entry(mid, 2))
    writer.start()
    assert writer.stop(5)
    written = [e.mid for e in reported if not e.reason]
    assert sorted(written) == [m for m in range(1, 17) if m not in (3, 11)]
    assert refused == [3, 11]
    # Every message is reported once, in arrival order, the refused ones marked as such.
    assert [e.mid for e in reported] == list(range(1, 17))
    assert [e.mid for e in reported if e.reason == "store_refused"] == [3, 11]
    assert len(store.rows) == 28
    assert store.writes < 16  # halving, not one write per message


def test_a_store_that_is_down_then_refuses_still_singles_out_the_bad_message() -> None:
    store = Picky(down=2)
    refused: list[int] = []
    writer = BatchWriter(store, lambda b, _s: None, on_refused=lambda e, err: refused.append(e.mid),
                         idle_flush_s=0, retry_initial_s=0.01)
    writer.add(entry(1, 1))
    writer.add(bad(2))
    writer.start()
    wait_for(lambda: refused == [2] and writer.pending == 0, lambda: (refused, writer.pending))
    writer.stop()
    assert len(store.rows) == 1


class Outage:
    """A store down until ``back`` is set, with a cheap probe saying whether it is back."""

    def __init__(self) -> None:
        self.back = threading.Event()
        self.rows: list[Reading] = []
        self.written_at = 0.0
        self.probes = 0

    def write(self, readings: Sequence[Reading]) -> None:
        if not self.back.is_set():
            raise StoreError("connection refused")
        self.rows += readings
        self.written_at = time.monotonic()

    def ping(self) -> bool:
        self.probes += 1
        return self.back.is_set()


def test_a_store_coming_back_is_written_within_a_probe_interval_not_the_next_backoff_step(
) -> None:
    store = Outage()
    written: list[list[Entry]] = []
    # The first retry is 60 s away: only the probe can bring the write forward.
    writer = BatchWriter(store, lambda b, _s: written.append(b), idle_flush_s=0,
                         retry_initial_s=60, probe_interval_s=0.05)
    writer.add(entry(1, 3))
    writer.start()
    wait_for(lambda: store.probes >= 3, lambda: store.probes)
    back_at = time.monotonic()
    store.back.set()
    wait_for(lambda: written, timeout_s=5)
    assert len(store.rows) == 3 and store.written_at - back_at < 1.0
    assert writer.stop(1) is True


def test_a_store_answering_its_probe_while_writes_fail_waits_out_the_backoff() -> None:
    class Answers(Outage):
        def ping(self) -> bool:
            self.probes += 1
            return True  # up, yet refusing writes (a server error): no tight retry loop

    store = Answers()
    errors: list[StoreError] = []
    writer = BatchWriter(store, lambda b, _s: None, errors.append, idle_flush_s=0,
                         retry_initial_s=0.3, retry_max_s=0.3, probe_interval_s=0.01)
    writer.add(entry(1, 1))
    writer.start()
    time.sleep(1.0)
    assert writer.stop(0.1) is False
    assert 2 <= len(errors) <= 5 and store.probes > 20  # retried every 0.3 s, probed between


def test_influxdb_ping_says_whether_it_answers(influxdb: InfluxServer) -> None:
    assert InfluxV1Store(f"http://127.0.0.1:{free_port()}", "db").ping() is False
    assert InfluxV1Store(influxdb.url, "db").ping() is True
