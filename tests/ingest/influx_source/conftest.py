"""A source InfluxDB filled the way Telegraf fills it, a mapping of its ``modbus`` output,
and an importer wired to a SQLite catalog and readings store."""

from __future__ import annotations

import tomllib
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingest.influx_source.cursor import FileCursor
from ingest.influx_source.importer import Importer
from ingest.influx_source.mapping import SourceMap, parse_mapping
from ingest.influx_source.sources import InfluxV1Source, SourceUrl
from storage.catalog import Catalog
from storage.influx import InfluxV1Store
from storage.readings import ReadingStore
from tests.servers import InfluxServer

S = 1_000_000_000


def line_value(value: object) -> str:
    """A field as Telegraf's influx serializer writes it: integers with ``i``, floats as
    they are, booleans bare, strings quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class TelegrafWriter:
    """Writes line protocol as Telegraf's ``outputs.influxdb`` does (``POST /write``,
    nanosecond precision, tags sorted, the ``host`` tag of the gateway on every point)."""

    def __init__(self, server: InfluxServer, database: str, host: str = "plant-gw") -> None:
        self.url, self.database, self.host = server.url, database, host
        self._post("/query", {}, urllib.parse.urlencode(
            {"q": f'CREATE DATABASE "{database}"'}).encode(), form=True)

    def _post(self, path: str, params: dict[str, str], body: bytes, form: bool = False) -> None:
        req = urllib.request.Request(
            f"{self.url}{path}?{urllib.parse.urlencode(params)}", data=body, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded" if form
                     else "text/plain; charset=utf-8"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status in (200, 204), resp.read()

    def point(self, measurement: str, time_ns: int, tags: dict[str, str],
              fields: dict[str, object]) -> str:
        tag_text = ",".join(f"{k}={v}" for k, v in sorted({"host": self.host, **tags}.items()))
        field_text = ",".join(f"{k}={line_value(v)}" for k, v in fields.items())
        return f"{measurement},{tag_text} {field_text} {time_ns}"

    def modbus(self, time_ns: int, name: str, slave_id: int, **fields: object) -> str:
        """A point of Telegraf's modbus input: device ``name``, ``slave_id``, register type."""
        return self.point("modbus", time_ns, {"name": name, "slave_id": str(slave_id),
                                              "type": "holding_register"}, fields)

    def write(self, *lines: str) -> None:
        self._post("/write", {"db": self.database, "precision": "ns"},
                   "\n".join(lines).encode())


MODBUS_MAP = """
name = "plant-a-modbus"
measurement = "modbus"
tenant = "{tenant}"
asset_tags = ["name", "slave_id"]

[fields]
run_state = "running"
power_w = {{ metric = "power", scale = 0.001 }}

[[assets]]
id = "press-1"
match = {{ name = "press", slave_id = 1 }}
kind = "machine"
capacity = 1

[[assets]]
id = "press-2"
match = {{ name = "press", slave_id = 2 }}
kind = "machine"
capacity = 1

[[assets]]
id = "silo-1"
match = {{ name = "silo", slave_id = 7 }}
kind = "container"
capacity = 30
unit = "m3"
fields = {{ level_pct = {{ metric = "fill", scale = 0.3 }} }}
"""


def modbus_map(tenant: str) -> SourceMap:
    return parse_mapping(tomllib.loads(MODBUS_MAP.format(tenant=tenant)))


class Clock:
    """The importer's clock, moved by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def source_db(influxdb: InfluxServer) -> str:
    return f"telegraf_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def telegraf(influxdb: InfluxServer, source_db: str) -> TelegrafWriter:
    return TelegrafWriter(influxdb, source_db)


@pytest.fixture
def make_importer(influxdb: InfluxServer, source_db: str, sqlite_catalog: Catalog,
                  tmp_path: Path) -> Callable[..., Importer]:
    """``make(mapping, store, clock, **options)``: a new importer (as after a restart) on the
    test's source database, its cursor in the same file every time."""

    def make(mapping: SourceMap, store: ReadingStore, clock: Clock, **options: float
             ) -> Importer:
        source = InfluxV1Source(SourceUrl.parse(f"{influxdb.url}/{source_db}"), mapping)
        cursor = FileCursor(tmp_path / "cursor.json", source.identity)
        return Importer(source, mapping, store, sqlite_catalog, cursor, clock=clock, **options)

    return make


@pytest.fixture
def influx_target(influxdb: InfluxServer) -> Iterator[InfluxV1Store]:
    """A second database of the same server as the readings store."""
    store = InfluxV1Store(influxdb.url, database=f"idleshare_{uuid.uuid4().hex[:12]}")
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "influx_v1"])
def target(request: pytest.FixtureRequest) -> ReadingStore:
    """Each readings store: both key a reading by (tenant, asset, metric, time)."""
    return request.getfixturevalue("sqlite_store" if request.param == "sqlite"
                                   else "influx_target")
