"""Readings in InfluxDB 1.x over its HTTP API, with the HTTP helpers 2.x/3.x share
(:mod:`storage.influx_v2`).

Both read with InfluxQL over ``/query``: 1.x serves it natively, 2.x through a DBRP mapping
and 3.x as its v1-compatible API. Line protocol and InfluxQL text live in
:mod:`storage.lineproto`.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from idleshare.errors import StoreError, StoreRefused
from storage import lineproto
from storage.readings import Reading


class _Http:
    """Small blocking HTTP client: one request per call, errors as :class:`StoreError`."""

    def __init__(self, url: str, headers: dict[str, str], timeout_s: float) -> None:
        self.url = url.rstrip("/")
        self.headers = headers
        self.timeout_s = timeout_s

    def request(
        self, method: str, path: str, params: dict[str, str], body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """Status and body; a 4xx/5xx answer is returned, not raised, so callers can tell them
        apart; no answer at all raises."""
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        headers = {**self.headers, **(headers or {})}
        if body is not None:
            form = path == "/query"
            headers["Content-Type"] = ("application/x-www-form-urlencoded" if form
                                       else "text/plain; charset=utf-8")
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()
        except (OSError, ValueError) as err:  # URLError, timeouts, refused, bad URL
            raise StoreError(f"InfluxDB at {self.url} did not answer: {err}") from err

    def influxql(self, query: str, params: dict[str, str]) -> list[list[Any]]:
        body = urllib.parse.urlencode({"q": query}).encode()
        status, text = self.request("POST", "/query", {**params, "epoch": "ns"}, body)
        try:
            answer = json.loads(text)
        except ValueError as err:
            raise StoreError(f"InfluxDB answered {status} without JSON: {text[:200]!r}") from err
        if status >= 400 and "error" not in answer:
            raise StoreError(f"InfluxDB answered {status}: {text[:200]!r}")
        return lineproto.series_values(answer)


def _read_points(http: _Http, query: str, params: dict[str, str]) -> list[tuple[float, float]]:
    rows = http.influxql(query, params)
    try:
        return [(lineproto.ns_to_seconds(int(t)), float(v)) for t, v in rows]
    except (TypeError, ValueError) as err:
        raise StoreError(f"unexpected rows from InfluxDB: {rows[:3]}") from err


def _read_count(http: _Http, query: str, params: dict[str, str]) -> int:
    rows = http.influxql(query, params)
    return int(rows[0][1]) if rows else 0


def _ping(http: _Http, timeout_s: float = 1.0) -> bool:
    """InfluxDB's health probe (``/ping``: 204 from 1.x and 2.x, no database touched): cheap
    enough for ingest to ask a few times a second while writes fail."""
    probe = _Http(http.url, http.headers, min(timeout_s, http.timeout_s))
    try:
        status, _ = probe.request("GET", "/ping", {})
    except StoreError:
        return False
    return 200 <= status < 300


class InfluxV1Store:
    """A :class:`storage.readings.ReadingStore` on InfluxDB 1.x (``/write`` and ``/query``)."""

    def __init__(self, url: str, database: str, retention_policy: str = "", username: str = "",
                 password: str = "", timeout_s: float = 10.0, gzip_level: int = 1) -> None:
        headers = {}
        if username:
            # Basic auth rather than u/p parameters keeps the password out of URLs and logs.
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        self._http = _Http(url, headers, timeout_s)
        self.database = database
        self.retention_policy = retention_policy
        #: 1 (fastest) to 9; 0 sends plain text. Level 1 shrinks line protocol about 10x.
        self.gzip_level = gzip_level
        self._db_ready = False
        self._lock = threading.Lock()

    def _params(self) -> dict[str, str]:
        params = {"db": self.database}
        if self.retention_policy:
            params["rp"] = self.retention_policy
        return params

    def write(self, readings: Sequence[Reading]) -> None:
        if not readings:
            return
        body = lineproto.to_lines(readings).encode()
        if self.gzip_level:
            body = gzip.compress(body, compresslevel=self.gzip_level)
        with self._lock:
            self._ensure_database()
        status, text = self._post_write(body)
        if status == 404 and b"database not found" in text:
            with self._lock:
                self._create_database()  # dropped since we created it
            status, text = self._post_write(body)
        if status != 204:
            # 400: bad line, type conflict, beyond retention: the same write fails for ever.
            # Anything else (auth, overload, server error) may pass later.
            error = StoreRefused if status == 400 else StoreError
            raise error(f"InfluxDB refused {len(readings)} readings ({status}): "
                        f"{text[:300].decode(errors='replace')}")

    def ping(self) -> bool:
        """True when InfluxDB answers its health probe."""
        return _ping(self._http)

    def _ensure_database(self) -> None:
        if not self._db_ready:
            self._create_database()

    def _create_database(self) -> None:
        # CREATE DATABASE is a no-op for an existing database.
        q = f"CREATE DATABASE {lineproto.quote_ident(self.database)}"
        body = urllib.parse.urlencode({"q": q}).encode()
        status, text = self._http.request("POST", "/query", {}, body)
        # A non-admin user may not create databases; the database may exist all the same, and
        # the write that follows says so if it does not.
        if status >= 400 and status not in (401, 403):
            raise StoreError(f"cannot create database {self.database!r} ({status}): "
                             f"{text[:300].decode(errors='replace')}")
        self._db_ready = True

    def _post_write(self, body: bytes) -> tuple[int, bytes]:
        headers = {"Content-Encoding": "gzip"} if self.gzip_level else {}
        return self._http.request("POST", "/write", {**self._params(), "precision": "ns"}, body,
                                  headers)

    def query(
        self, tenant: str, asset: str, metric: str, start: float, end: float
    ) -> list[tuple[float, float]]:
        q = lineproto.select_query(tenant, asset, metric, start, end, self.retention_policy)
        with self._lock:
            self._ensure_database()  # so a fresh deployment reads as empty, not as an error
        return _read_points(self._http, q, {"db": self.database})

    def count(self, tenant: str | None = None) -> int:
        q = lineproto.count_query(tenant, self.retention_policy)
        with self._lock:
            self._ensure_database()
        return _read_count(self._http, q, {"db": self.database})

    def close(self) -> None:
        """Nothing to release: every request opens and closes its own connection."""
