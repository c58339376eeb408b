"""InfluxV2Store: writes checked on a real VictoriaMetrics (which serves the InfluxDB v2 write
API), reads checked on the real InfluxDB 1.x fixture (the v1-compatible /query it shares with
2.x and 3.x)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from idleshare.errors import StoreError
from storage.influx import InfluxV1Store
from storage.influx_v2 import InfluxV2Store
from storage.readings import Reading
from tests.servers import InfluxServer, free_port, wait_for_port
from tests.storage.conftest import unique

VICTORIA = shutil.which("victoria-metrics")
NOW = float(int(time.time()))  # VictoriaMetrics drops points outside its retention


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[str]:
    assert VICTORIA is not None, "victoria-metrics is not installed (./dev test installs it)"
    port = free_port()
    with open(tmp_path / "vm.log", "wb") as log:
        proc = subprocess.Popen(
            [VICTORIA, f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={tmp_path}/vm",
             "-retentionPeriod=100y"],
            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def export(url: str, samples: int) -> list[dict]:
    """The series VictoriaMetrics holds, once ``samples`` samples show (new series become
    searchable a moment after the write returns)."""
    match = urllib.parse.quote('{__name__="readings_value"}')
    deadline = time.monotonic() + 10
    while True:
        urllib.request.urlopen(f"{url}/internal/force_flush").read()
        with urllib.request.urlopen(f"{url}/api/v1/export?match[]={match}") as resp:
            series = [json.loads(line) for line in resp.read().splitlines()]
        if sum(len(s["values"]) for s in series) >= samples or time.monotonic() > deadline:
            return series
        time.sleep(0.1)


def test_writes_arrive_with_the_schema_tags_float_values_and_times(victoria: str) -> None:
    store = InfluxV2Store(victoria, token="t", org="o", bucket="b")
    store.write([Reading("acme", "zone-1", "occupied", NOW + 0.123, 3, unit="pallet"),
                 Reading("acme", "zone-1", "occupied", NOW + 1.5, 4.25, unit="pallet")])
    [series] = export(victoria, 2)
    assert series["metric"] == {"__name__": "readings_value", "tenant": "acme",
                                "asset": "zone-1", "metric": "occupied", "unit": "pallet"}
    assert series["values"] == [3.0, 4.25]
    assert series["timestamps"] == [int(NOW * 1000) + 123, int(NOW * 1000) + 1500]
    store.close()


def test_odd_tag_values_arrive_unmangled(victoria: str) -> None:
    odd = ["a b", "x,y", "k=v", "ü m²"]
    store = InfluxV2Store(victoria, token="t", org="o", bucket="b")
    store.write([Reading(v, "a", "m", NOW + i, 1.0) for i, v in enumerate(odd)])
    assert sorted(s["metric"]["tenant"] for s in export(victoria, len(odd))) == sorted(odd)
    store.close()


def test_a_write_raises_store_error_when_the_server_is_down() -> None:
    store = InfluxV2Store(f"http://127.0.0.1:{free_port()}", token="t", org="o", bucket="b",
                          timeout_s=2)
    with pytest.raises(StoreError, match="did not answer"):
        store.write([Reading("t", "a", "m", NOW, 1.0)])


def test_a_refused_write_raises_store_error(influxdb: InfluxServer) -> None:
    # InfluxDB 1.6 has no /api/v2/write: the library's HTTP error must not leak.
    store = InfluxV2Store(influxdb.url, token="t", org="o", bucket="b")
    with pytest.raises(StoreError, match="refused") as info:
        store.write([Reading("t", "a", "m", NOW, 1.0)])
    assert info.value.__cause__ is not None


def test_reads_use_influxql_on_the_v1_compatible_query_endpoint(influxdb: InfluxServer) -> None:
    bucket = unique("bucket")
    InfluxV1Store(influxdb.url, bucket).write(
        [Reading("acme", "zone-1", "occupied", 10.0 + i, float(i)) for i in range(5)])
    store = InfluxV2Store(influxdb.url, token="t", org="o", bucket=bucket)
    assert store.query("acme", "zone-1", "occupied", 11.0, 13.0) == [(11.0, 1.0), (12.0, 2.0)]
    assert (store.count("acme"), store.count()) == (5, 5)
