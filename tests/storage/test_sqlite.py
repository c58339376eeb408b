"""SQLite specifics: the file, its journal mode and concurrent writers."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from idleshare.errors import StoreError
from storage.readings import Reading
from storage.sqlite import SqliteReadingStore


def test_readings_survive_closing_and_reopening_the_file(tmp_path: Path) -> None:
    store = SqliteReadingStore(tmp_path / "r.db")
    store.write([Reading("acme", "zone-1", "occupied", 1.5, 4.0)])
    store.close()
    again = SqliteReadingStore(tmp_path / "r.db")
    assert again.query("acme", "zone-1", "occupied", 0, 10) == [(1.5, 4.0)]
    again.close()


def test_the_database_uses_write_ahead_logging(tmp_path: Path) -> None:
    SqliteReadingStore(tmp_path / "r.db").close()
    with sqlite3.connect(tmp_path / "r.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def errors_of_threads(work: Callable[[int], None], n: int) -> list[BaseException]:
    """Runs ``work(0)`` .. ``work(n - 1)`` each in its own thread, all at once; what they raised."""
    errors: list[BaseException] = []

    def guarded(k: int) -> None:
        try:
            work(k)
        except BaseException as err:  # reported by the caller's assertion
            errors.append(err)

    threads = [threading.Thread(target=guarded, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_threads_can_write_and_read_at_once(sqlite_store: SqliteReadingStore) -> None:
    def work(n: int) -> None:
        for i in range(50):
            sqlite_store.write([Reading("acme", f"a{n}", "occupied", float(i), float(i))])
            sqlite_store.count("acme")

    assert errors_of_threads(work, 4) == []
    assert sqlite_store.count("acme") == 200


def test_an_unopenable_path_raises_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        SqliteReadingStore(tmp_path / "missing-dir" / "r.db")


def test_a_closed_store_raises_store_error(sqlite_store: SqliteReadingStore) -> None:
    sqlite_store.close()
    with pytest.raises(StoreError) as info:
        sqlite_store.write([Reading("acme", "zone-1", "occupied", 1.0, 1.0)])
    assert isinstance(info.value.__cause__, sqlite3.Error)


def test_many_processes_opening_a_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    # SQLite refuses a concurrent switch to WAL with "database is locked" without waiting;
    # ingest and the API opening the store at the same moment must both get it. Repeated on
    # fresh files because the race only exists while the file is new.
    errors: list[BaseException] = []
    for round_ in range(20):
        path = tmp_path / f"r{round_}.db"
        start = threading.Barrier(6)

        def open_and_write(n: int, path: Path = path, start: threading.Barrier = start) -> None:
            start.wait()
            store = SqliteReadingStore(path)
            store.write([Reading("acme", f"a{n}", "occupied", 1.0, 1.0)])
            store.close()

        errors += errors_of_threads(open_and_write, 6)
    assert errors == []
