"""Readings in InfluxDB 2.x/3.x: writes through influxdb-client, reads with InfluxQL over the
v1-compatible ``/query`` (:mod:`storage.influx`'s helpers).

A module of its own so that influxdb-client, which loads numpy and reactivex (about 25 MB of
a process's memory), is imported only when a v2 store is configured: ingest on InfluxDB 1.x
or SQLite runs without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from idleshare.errors import StoreError, StoreRefused
from storage import lineproto
from storage.influx import _Http, _ping, _read_count, _read_points
from storage.readings import Reading

#: The client's "enum" members are plain strings while its signatures say WritePrecision.
_NS = cast(WritePrecision, WritePrecision.NS)


class InfluxV2Store:
    """A :class:`storage.readings.ReadingStore` on InfluxDB 2.x/3.x: writes with influxdb-client,
    reads with InfluxQL over the v1-compatible ``/query`` (2.x needs a DBRP mapping for the
    bucket, which 2.x creates for new buckets)."""

    def __init__(self, url: str, token: str, org: str, bucket: str,
                 timeout_s: float = 10.0) -> None:
        self.bucket = bucket
        self.org = org
        # retries=False: ingest retries with its own backoff and must see failures at once.
        self._client = InfluxDBClient(url=url, token=token, org=org,
                                      timeout=int(timeout_s * 1000), retries=False,
                                      enable_gzip=True)
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)
        self._http = _Http(url, {"Authorization": f"Token {token}"}, timeout_s)

    def write(self, readings: Sequence[Reading]) -> None:
        if not readings:
            return
        body = lineproto.to_lines(readings)
        try:
            self._write_api.write(bucket=self.bucket, org=self.org, record=body,
                                  write_precision=_NS)
        except ApiException as err:
            error = StoreRefused if err.status == 400 else StoreError
            raise error(f"InfluxDB refused {len(readings)} readings ({err.status}): "
                             f"{str(err.body)[:300]}") from err
        except (HTTPError, OSError) as err:
            raise StoreError(f"InfluxDB did not answer: {err}") from err

    def ping(self) -> bool:
        """True when InfluxDB answers its health probe."""
        return _ping(self._http)

    def query(
        self, tenant: str, asset: str, metric: str, start: float, end: float
    ) -> list[tuple[float, float]]:
        q = lineproto.select_query(tenant, asset, metric, start, end)
        return _read_points(self._http, q, {"db": self.bucket})

    def count(self, tenant: str | None = None) -> int:
        return _read_count(self._http, lineproto.count_query(tenant), {"db": self.bucket})

    def close(self) -> None:
        self._client.close()
