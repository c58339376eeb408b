"""The InfluxDB being read: 1.x over its HTTP ``/query`` (InfluxQL, the readings store's own
small HTTP client), 2.x through influxdb-client's Flux query API. Each answers
``rows(start_ns, end_ns)``; failures are :class:`StoreError`.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from dataclasses import dataclass
from typing import Protocol

from influxdb_client import InfluxDBClient
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from idleshare.errors import ConfigError, StoreError
from ingest.influx_source import queries
from ingest.influx_source.mapping import Row, SourceMap
from storage.influx import _Http


class Source(Protocol):
    #: Where the rows come from, without credentials: recorded with the cursor.
    identity: str

    def rows(self, start_ns: int, end_ns: int) -> list[Row]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SourceUrl:
    """``http://host:8086/<database>[/<retention policy>]`` (1.x) or, with a token,
    ``http://host:8086/<bucket>`` (2.x)."""

    base: str
    database: str
    retention_policy: str = ""

    @classmethod
    def parse(cls, url: str) -> SourceUrl:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"source URL must be http(s)://host:port/database: got {url!r}")
        if parts.username or parts.password:
            raise ConfigError("source URL must not carry credentials "
                              "(use --source-user/--source-password or --source-token)")
        if parts.query or parts.fragment:
            raise ConfigError(f"source URL takes no query or fragment: got {url!r}")
        try:
            parts.port  # noqa: B018  (raises on a port that is not a number)
        except ValueError as err:
            raise ConfigError(f"source URL has a bad port: {url!r}") from err
        names = [urllib.parse.unquote(p) for p in parts.path.split("/") if p]
        if not 1 <= len(names) <= 2:
            raise ConfigError(f"source URL must end in /database or /database/retention_policy:"
                              f" got {url!r}")
        return cls(f"{parts.scheme}://{parts.netloc}", names[0],
                   names[1] if len(names) == 2 else "")

    def __str__(self) -> str:
        rp = f"/{self.retention_policy}" if self.retention_policy else ""
        return f"{self.base}/{self.database}{rp}"


class InfluxV1Source:
    """InfluxQL over ``/query`` of InfluxDB 1.x (or the v1-compatible API of 2.x/3.x)."""

    def __init__(self, url: SourceUrl, mapping: SourceMap, username: str = "",
                 password: str = "", timeout_s: float = 30.0) -> None:
        headers = {}
        if username:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        self._http = _Http(url.base, headers, timeout_s)
        self.url = url
        self.mapping = mapping
        self.identity = f"{url} {mapping.measurement}"

    def rows(self, start_ns: int, end_ns: int) -> list[Row]:
        q = queries.influxql_window(self.mapping.measurement, self.mapping.field_names,
                                    start_ns, end_ns, self.url.retention_policy)
        body = urllib.parse.urlencode({"q": q}).encode()
        status, text = self._http.request(
            "POST", "/query", {"db": self.url.database, "epoch": "ns"}, body)
        try:
            answer = json.loads(text)
        except ValueError as err:
            raise StoreError(f"InfluxDB answered {status} without JSON: {text[:200]!r}") from err
        if status >= 400 and not (isinstance(answer, dict) and "error" in answer):
            raise StoreError(f"InfluxDB answered {status}: {text[:200]!r}")
        return queries.influxql_rows(answer)

    def close(self) -> None:
        """Nothing to release: every request opens and closes its own connection."""


class InfluxV2Source:
    """Flux through influxdb-client (InfluxDB 2.x, or Cloud)."""

    def __init__(self, url: SourceUrl, mapping: SourceMap, token: str, org: str,
                 timeout_s: float = 30.0) -> None:
        if url.retention_policy:
            raise ConfigError(f"a 2.x source URL ends in /bucket: got {url}")
        self._client = InfluxDBClient(url=url.base, token=token, org=org,
                                      timeout=int(timeout_s * 1000), retries=False)
        self._query_api = self._client.query_api()
        self.url, self.org, self.mapping = url, org, mapping
        self.identity = f"{url} {mapping.measurement}"

    def rows(self, start_ns: int, end_ns: int) -> list[Row]:
        flux = queries.flux_window(self.url.database, self.mapping.measurement,
                                   self.mapping.field_names, start_ns, end_ns)
        try:
            tables = self._query_api.query(flux, org=self.org)
        except ApiException as err:
            raise StoreError(f"InfluxDB refused the Flux query ({err.status}): "
                             f"{str(err.body)[:300]}") from err
        except (HTTPError, OSError) as err:
            raise StoreError(f"InfluxDB at {self.url.base} did not answer: {err}") from err
        return queries.flux_rows(record for table in tables for record in table.records)

    def close(self) -> None:
        self._client.close()


def open_source(url: str, mapping: SourceMap, username: str = "", password: str = "",
                token: str = "", org: str = "") -> Source:
    """A 2.x source when a token is given, else 1.x."""
    parsed = SourceUrl.parse(url)
    if token:
        return InfluxV2Source(parsed, mapping, token=token, org=org)
    return InfluxV1Source(parsed, mapping, username=username, password=password)
