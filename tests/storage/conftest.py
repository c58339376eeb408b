"""Reading stores on real backends, each test with its own database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from storage.influx import InfluxV1Store
from storage.readings import ReadingStore
from tests.servers import InfluxServer


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def influx_v1(influxdb: InfluxServer) -> Iterator[InfluxV1Store]:
    store = InfluxV1Store(influxdb.url, database=unique("test"))
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "influx_v1"])
def store(request: pytest.FixtureRequest) -> ReadingStore:
    """Every backend, for behaviour the port promises."""
    return request.getfixturevalue("sqlite_store" if request.param == "sqlite" else "influx_v1")
