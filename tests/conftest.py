"""Shared fixtures: real Mosquitto, InfluxDB and PostgreSQL servers, one per test session, and
``catalog_url``, a fresh catalog database on each engine (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shell.localpostgres import PostgresServer, start_postgres
from storage.catalog import Catalog
from storage.sqlite import SqliteReadingStore
from tests.catalogs import ENGINES, fresh_url
from tests.servers import InfluxServer, MosquittoServer, start_influxdb, start_mosquitto


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoServer]:
    """A real Mosquitto broker on a free loopback port, shared by the session."""
    server = start_mosquitto(Path(tmp_path_factory.mktemp("mosquitto")))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    """A real InfluxDB 1.x server on a free loopback port, shared by the session."""
    server = start_influxdb(Path(tmp_path_factory.mktemp("influxdb")))
    yield server
    server.stop()


@pytest.fixture
def own_mosquitto(tmp_path: Path) -> Iterator[MosquittoServer]:
    """A broker only this test uses, so it can stop and restart it."""
    server = start_mosquitto(tmp_path / "mosquitto")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server (Debian's) on a free loopback port, shared by the session;
    each test takes a database of its own (``create_database``)."""
    server = start_postgres()
    yield server
    server.remove()


@pytest.fixture(params=ENGINES)
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty catalog database, once on SQLite and once on PostgreSQL: every catalog
    fixture builds on this, so catalog behaviour is proved on both engines."""
    pg = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    return fresh_url(request.param, tmp_path, pg)


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    """A catalog on a fresh database of each engine; a package seeds it by overriding this
    fixture with one that takes ``catalog`` and returns it."""
    # A file, not "sqlite://": an in-memory SQLite database is per thread under SQLAlchemy's
    # SingletonThreadPool, and TestClient serves requests from another thread.
    cat = Catalog(catalog_url)
    yield cat
    cat.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteReadingStore]:
    store = SqliteReadingStore(tmp_path / "readings.db")
    yield store
    store.close()


@pytest.fixture
def sqlite_catalog(tmp_path: Path) -> Iterator[Catalog]:
    """A catalog on SQLite only, for tests of something else that registers assets in it (the
    catalog's own behaviour is proved on both engines through ``catalog``)."""
    cat = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield cat
    cat.close()
