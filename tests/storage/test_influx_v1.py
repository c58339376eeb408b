"""InfluxDB 1.x specifics against the real influxd fixture."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest

from idleshare.errors import StoreError
from storage.influx import InfluxV1Store
from storage.readings import Reading
from tests.servers import InfluxServer, free_port
from tests.storage.conftest import unique

ODD = ["a b", "x,y", "k=v", 'q"u\'o', "ü m²", "back\\slash", "#hash", "=,  ,="]


def influxql(server: InfluxServer, db: str, q: str) -> dict:
    data = urllib.parse.urlencode({"db": db, "q": q}).encode()
    with urllib.request.urlopen(f"{server.url}/query", data=data) as resp:
        return json.loads(resp.read())


@pytest.mark.parametrize("value", ODD)
def test_odd_tag_values_round_trip_through_influxdb(influx_v1: InfluxV1Store, value: str) -> None:
    influx_v1.write([Reading(value, value, value, 1.0, 2.0, unit=value)])
    assert influx_v1.query(value, value, value, 0, 10) == [(1.0, 2.0)]
    assert influx_v1.count(value) == 1


def test_odd_tag_values_are_stored_unmangled(influxdb: InfluxServer,
                                             influx_v1: InfluxV1Store) -> None:
    influx_v1.write([Reading(v, "a", "m", float(i), 1.0) for i, v in enumerate(ODD)])
    answer = influxql(influxdb, influx_v1.database,
                      'SHOW TAG VALUES FROM "readings" WITH KEY = "tenant"')
    assert sorted(v for _, v in answer["results"][0]["series"][0]["values"]) == sorted(ODD)


def test_the_point_has_one_float_field_and_the_schema_tags(influxdb: InfluxServer,
                                                          influx_v1: InfluxV1Store) -> None:
    influx_v1.write([Reading("acme", "zone-1", "occupied", 1.0, 7, unit="pallet")])
    fields = influxql(influxdb, influx_v1.database, 'SHOW FIELD KEYS FROM "readings"')
    tags = influxql(influxdb, influx_v1.database, 'SHOW TAG KEYS FROM "readings"')
    assert fields["results"][0]["series"][0]["values"] == [["value", "float"]]
    assert sorted(v for [v] in tags["results"][0]["series"][0]["values"]) == [
        "asset", "metric", "tenant", "unit"]


def test_a_named_retention_policy_is_written_and_read(influxdb: InfluxServer) -> None:
    db = unique("rp")
    InfluxV1Store(influxdb.url, db).count()  # creates the database
    influxql(influxdb, db, f'CREATE RETENTION POLICY "short" ON "{db}" DURATION INF REPLICATION 1')
    store = InfluxV1Store(influxdb.url, db, retention_policy="short")
    store.write([Reading("acme", "zone-1", "occupied", 1.0, 2.0)])
    assert store.query("acme", "zone-1", "occupied", 0, 10) == [(1.0, 2.0)]
    assert InfluxV1Store(influxdb.url, db).count() == 0  # not in the default policy


def test_a_dropped_database_is_created_again_on_the_next_write(influxdb: InfluxServer,
                                                               influx_v1: InfluxV1Store) -> None:
    influx_v1.write([Reading("acme", "zone-1", "occupied", 1.0, 2.0)])
    influxql(influxdb, influx_v1.database, f'DROP DATABASE "{influx_v1.database}"')
    influx_v1.write([Reading("acme", "zone-1", "occupied", 2.0, 3.0)])
    assert influx_v1.count() == 1


def test_a_refused_write_raises_store_error(influx_v1: InfluxV1Store) -> None:
    with pytest.raises(StoreError, match="refused"):
        influx_v1.write([Reading("acme", "zone-1", "occupied", 1e12, 1.0)])  # past year 2262


def test_every_operation_raises_store_error_when_the_server_is_down() -> None:
    store = InfluxV1Store(f"http://127.0.0.1:{free_port()}", "idleshare", timeout_s=2)
    for op in (lambda: store.write([Reading("t", "a", "m", 1.0, 1.0)]),
               lambda: store.query("t", "a", "m", 0, 1), lambda: store.count()):
        with pytest.raises(StoreError) as info:
            op()
        assert isinstance(info.value.__cause__, OSError)
