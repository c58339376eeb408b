"""The query of one time window ``[start_ns, end_ns)`` of the source, and its answer as rows.

InfluxDB 1.x: InfluxQL with ``GROUP BY *``, so each series comes with its tags apart from its
fields (a tag and a field of the same name stay apart; ``::field`` selects the field).
InfluxDB 2.x: Flux, one record per field value, without ``pivot()`` (the mapping reads a row
of one field as well as a row of several).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from idleshare.errors import StoreError
from ingest.influx_source.mapping import Row
from storage import lineproto

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: Columns of a Flux record that are not the series' tags.
_FLUX_COLUMNS = {"result", "table", "_start", "_stop", "_time", "_measurement", "_field",
                 "_value"}


def influxql_window(measurement: str, fields: Sequence[str], start_ns: int, end_ns: int,
                    retention_policy: str = "") -> str:
    selected = ", ".join(f"{lineproto.quote_ident(f)}::field" for f in fields)
    rp = f"{lineproto.quote_ident(retention_policy)}." if retention_policy else ""
    # A bare integer compared with time is an epoch in nanoseconds.
    return (f"SELECT {selected} FROM {rp}{lineproto.quote_ident(measurement)}"
            f" WHERE time >= {start_ns} AND time < {end_ns} GROUP BY *")


class TooManyRows(StoreError):
    """The server cut the answer short (its ``max-row-limit``): read a shorter window."""


def influxql_rows(answer: object) -> list[Row]:
    """The rows of a ``/query`` JSON answer (``epoch=ns``) to :func:`influxql_window`."""
    results = answer.get("results") if isinstance(answer, dict) else None
    if isinstance(results, list) and results and isinstance(results[0], dict) \
            and results[0].get("partial"):
        raise TooManyRows("InfluxDB truncated the answer (max-row-limit)")
    lineproto.series_values(answer)  # raises on an error in the answer
    assert isinstance(results, list)  # series_values accepted it
    rows = []
    for series in results[0].get("series") or ():
        tags = {k: v for k, v in (series.get("tags") or {}).items() if v}
        columns = series.get("columns") or []
        for values in series.get("values") or ():
            point = dict(zip(columns, values, strict=True))
            try:
                time_ns = int(point.pop("time"))
            except (KeyError, TypeError, ValueError) as err:
                raise StoreError(f"a row without an integer time: {values!r}") from err
            rows.append(Row(time_ns, tags, point))
    return rows


def flux_string(value: str) -> str:
    """A Flux string literal: ``\\``, ``"`` and the interpolation ``${`` escaped."""
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
               .replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def flux_time(ns: int) -> str:
    """An RFC 3339 time literal with every nanosecond."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    whole = _EPOCH + dt.timedelta(seconds=seconds)
    return f"{whole:%Y-%m-%dT%H:%M:%S}.{fraction:09d}Z"


def flux_window(bucket: str, measurement: str, fields: Sequence[str], start_ns: int,
                end_ns: int) -> str:
    # range() is start-inclusive and stop-exclusive, as the InfluxQL window.
    wanted = " or ".join(f"r._field == {flux_string(f)}" for f in fields)
    return (f"from(bucket: {flux_string(bucket)})\n"
            f"  |> range(start: {flux_time(start_ns)}, stop: {flux_time(end_ns)})\n"
            f"  |> filter(fn: (r) => r._measurement == {flux_string(measurement)})\n"
            f"  |> filter(fn: (r) => {wanted})\n")


def flux_rows(records: Iterable[Any]) -> list[Row]:
    """Rows of influxdb-client's ``FluxRecord``s (anything with a ``values`` dict): one row per
    record, its one field and the record's tags."""
    rows = []
    for record in records:
        values = record.values
        when = values.get("_time")
        if not isinstance(when, dt.datetime):
            raise StoreError(f"a Flux record without a time: {values!r}")
        # Integer arithmetic: a float timestamp would not keep the microseconds exactly.
        time_ns = (when - _EPOCH) // dt.timedelta(microseconds=1) * 1000
        tags = {k: str(v) for k, v in values.items()
                if k not in _FLUX_COLUMNS and v is not None and v != ""}
        rows.append(Row(time_ns, tags, {str(values.get("_field")): values.get("_value")}))
    return rows
