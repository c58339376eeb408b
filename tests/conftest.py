"""Shared fixtures: real Mosquitto and InfluxDB servers, one per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
