"""Query text of one window (InfluxQL for 1.x, Flux for 2.x) and the rows of their answers."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from influxdb_client.rest import ApiException

from idleshare.errors import ConfigError, StoreError
from ingest.influx_source import queries
from ingest.influx_source.mapping import Row
from ingest.influx_source.sources import InfluxV2Source, SourceUrl
from tests.ingest.influx_source.conftest import modbus_map

T = 1_700_000_000_123_456_789


def test_influxql_selects_the_mapped_fields_as_fields_grouped_by_every_tag() -> None:
    q = queries.influxql_window("modbus", ["power_w", 'we"ird'], T, T + 60, "autogen")
    assert q == ('SELECT "power_w"::field, "we\\"ird"::field FROM "autogen"."modbus"'
                 f" WHERE time >= {T} AND time < {T + 60} GROUP BY *")


def test_an_influxql_answer_becomes_rows_with_tags_apart_from_fields() -> None:
    answer = {"results": [{"statement_id": 0, "series": [
        {"name": "modbus", "tags": {"host": "gw", "name": "press", "type": ""},
         "columns": ["time", "power_w", "run_state"],
         "values": [[T, 1500, 1], [T + 1, None, 0]]}]}]}
    assert queries.influxql_rows(answer) == [
        Row(T, {"host": "gw", "name": "press"}, {"power_w": 1500, "run_state": 1}),
        Row(T + 1, {"host": "gw", "name": "press"}, {"power_w": None, "run_state": 0}),
    ]


def test_an_empty_window_has_no_rows_and_errors_raise() -> None:
    assert queries.influxql_rows({"results": [{"statement_id": 0}]}) == []
    with pytest.raises(StoreError, match="database not found"):
        queries.influxql_rows({"results": [{"error": "database not found: x"}]})
    with pytest.raises(queries.TooManyRows):
        queries.influxql_rows({"results": [{"partial": True, "series": []}]})


def test_flux_strings_escape_quotes_backslashes_and_interpolation() -> None:
    assert queries.flux_string('a"b\\c${x}\n') == '"a\\"b\\\\c\\${x}\\n"'


def test_flux_times_keep_every_nanosecond() -> None:
    assert queries.flux_time(T) == "2023-11-14T22:13:20.123456789Z"
    assert queries.flux_time(0) == "1970-01-01T00:00:00.000000000Z"


def test_the_flux_window_reads_the_measurement_and_its_mapped_fields() -> None:
    flux = queries.flux_window("telegraf/autogen", "modbus", ["power_w", "run_state"], T,
                               T + 1_000_000_000)
    assert flux == (
        'from(bucket: "telegraf/autogen")\n'
        "  |> range(start: 2023-11-14T22:13:20.123456789Z, stop: 2023-11-14T22:13:21.123456789Z)\n"
        '  |> filter(fn: (r) => r._measurement == "modbus")\n'
        '  |> filter(fn: (r) => r._field == "power_w" or r._field == "run_state")\n')


def test_flux_records_become_one_row_per_field_with_their_tags() -> None:
    when = dt.datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=dt.UTC)
    record = SimpleNamespace(values={
        "result": "_result", "table": 0, "_start": when, "_stop": when, "_time": when,
        "_measurement": "modbus", "_field": "power_w", "_value": 1500,
        "host": "gw", "name": "press", "slave_id": "1", "type": None})
    assert queries.flux_rows([record]) == [
        Row(1_700_000_000_123_456_000, {"host": "gw", "name": "press", "slave_id": "1"},
            {"power_w": 1500})]


@pytest.mark.parametrize(("url", "parsed"), [
    ("http://influx:8086/telegraf", SourceUrl("http://influx:8086", "telegraf")),
    ("https://influx/telegraf/autogen/", SourceUrl("https://influx", "telegraf", "autogen")),
    ("http://h:8086/my%20db", SourceUrl("http://h:8086", "my db")),
])
def test_source_urls_name_the_database_and_retention_policy(url: str,
                                                            parsed: SourceUrl) -> None:
    assert SourceUrl.parse(url) == parsed


@pytest.mark.parametrize(("url", "message"), [
    ("influx:8086/telegraf", "must be http(s)://host:port/database"),
    ("http://influx:8086", "must end in /database"),
    ("http://influx:8086/a/b/c", "must end in /database"),
    ("http://u:p@influx:8086/telegraf", "must not carry credentials"),
    ("http://influx:80x/telegraf", "bad port"),
    ("http://influx:8086/telegraf?rp=x", "no query"),
])
def test_bad_source_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        SourceUrl.parse(url)


class FakeQueryApi:
    """influxdb-client's query API as far as the source uses it."""

    def __init__(self, answer: object) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str]] = []

    def query(self, flux: str, org: str) -> object:
        self.asked.append((flux, org))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_the_2x_source_sends_the_window_s_flux_and_reads_its_tables() -> None:
    when = dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    record = SimpleNamespace(values={"_time": when, "_field": "run_state", "_value": 1,
                                     "_measurement": "modbus", "name": "press",
                                     "slave_id": "1"})
    source = InfluxV2Source(SourceUrl.parse("http://127.0.0.1:1/telegraf"), modbus_map("acme"),
                            token="t", org="plant-a")
    try:
        source._query_api = FakeQueryApi([SimpleNamespace(records=[record])])  # type: ignore[assignment]
        [row] = source.rows(T, T + 1)
        assert row == Row(1_700_000_000_000_000_000, {"name": "press", "slave_id": "1"},
                          {"run_state": 1})
        [(flux, org)] = source._query_api.asked  # type: ignore[attr-defined]
        assert org == "plant-a"
        assert flux == queries.flux_window("telegraf", "modbus",
                                           ("level_pct", "power_w", "run_state"), T, T + 1)
        source._query_api = FakeQueryApi(ApiException(status=401, reason="unauthorized"))  # type: ignore[assignment]
        with pytest.raises(StoreError, match=r"refused the Flux query \(401\)"):
            source.rows(T, T + 1)
    finally:
        source.close()
