"""InfluxDB line protocol and InfluxQL text for readings, shared by the v1 and v2 adapters.

Schema: measurement ``readings``; tags ``tenant``, ``asset``, ``metric`` and (when set) ``unit``;
one field ``value``, always a float so an integral value can never meet a type conflict that
rejects the batch; the timestamp in nanoseconds, rounded to the microsecond as in SQLite.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

from idleshare.errors import StoreError, StoreRefused
from storage.readings import Reading

MEASUREMENT = "readings"
FIELD = "value"
_SPECIAL = {",": r"\,", "=": r"\=", " ": r"\ "}


def time_ns(t: float) -> int:
    return round(t * 1_000_000) * 1000


def ns_to_seconds(ns: int) -> float:
    # int / int is correctly rounded: a time written as a float comes back identical.
    return ns / 1_000_000_000


def escape_tag(key: str, value: str) -> str:
    """Escape a tag value; refuse what line protocol cannot carry instead of corrupting a line."""
    if not value:
        raise StoreRefused(f"tag {key!r} must not be empty")
    if "\n" in value or "\r" in value:
        raise StoreRefused(f"tag {key!r} cannot hold a line break: {value!r}")
    # Backslashes are kept literally except before a special character or at the end, where
    # the parser would read them as an escape: such a value has no representation.
    if value.endswith("\\") or any(f"\\{c}" in value for c in _SPECIAL):
        raise StoreRefused(f"tag {key!r} cannot end in or escape with a backslash: {value!r}")
    return "".join(_SPECIAL.get(c, c) for c in value)


@functools.lru_cache(maxsize=65536)
def series_key(tenant: str, asset: str, metric: str, unit: str) -> str:
    """Measurement and escaped tags of one series; cached, as a few series carry every point."""
    tags = {"asset": asset, "metric": metric, "tenant": tenant}
    if unit:
        tags["unit"] = unit
    # Tags in key order, as InfluxDB recommends for write performance.
    tag_text = ",".join(f"{k}={escape_tag(k, v)}" for k, v in sorted(tags.items()))
    return f"{MEASUREMENT},{tag_text}"


def to_line(r: Reading) -> str:
    value = float(r.value)
    if not math.isfinite(value):
        raise StoreRefused(f"cannot store a non-finite value: {r}")
    # A float field always (repr of a float has a '.' or 'e'): never an integer type conflict.
    return (f"{series_key(r.tenant, r.asset, r.metric, r.unit)} {FIELD}={value!r}"
            f" {round(r.time * 1_000_000) * 1000}")


def to_lines(readings: Sequence[Reading]) -> str:
    return "\n".join([to_line(r) for r in readings])


def quote_string(value: str) -> str:
    """An InfluxQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def quote_ident(name: str) -> str:
    """An InfluxQL double-quoted identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def source(retention_policy: str = "") -> str:
    rp = f"{quote_ident(retention_policy)}." if retention_policy else ""
    return rp + quote_ident(MEASUREMENT)


def select_query(
    tenant: str, asset: str, metric: str, start: float, end: float, retention_policy: str = ""
) -> str:
    # A bare integer compared with time is an epoch in nanoseconds.
    return (
        f"SELECT {quote_ident(FIELD)} FROM {source(retention_policy)}"
        f" WHERE tenant = {quote_string(tenant)} AND asset = {quote_string(asset)}"
        f" AND metric = {quote_string(metric)}"
        f" AND time >= {time_ns(start)} AND time < {time_ns(end)}"
    )


def count_query(tenant: str | None, retention_policy: str = "") -> str:
    where = f" WHERE tenant = {quote_string(tenant)}" if tenant is not None else ""
    return f"SELECT COUNT({quote_ident(FIELD)}) FROM {source(retention_policy)}{where}"


def series_values(answer: object) -> list[list[Any]]:
    """The rows of the one statement of a ``/query`` JSON answer; raise on any error in it."""
    if not isinstance(answer, dict):
        raise StoreError(f"unexpected InfluxDB answer: {str(answer)[:200]}")
    if "error" in answer:
        raise StoreError(f"InfluxDB refused the query: {answer['error']}")
    results = answer.get("results") or [{}]
    result = results[0]
    if "error" in result:
        raise StoreError(f"InfluxDB refused the query: {result['error']}")
    if result.get("partial"):
        raise StoreError("InfluxDB truncated the answer (max-row-limit); query a shorter window")
    rows: list[list[Any]] = []
    for series in result.get("series") or ():
        rows.extend(series.get("values") or ())
    return rows
