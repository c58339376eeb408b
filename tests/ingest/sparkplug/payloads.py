"""Sparkplug B payloads as an edge node builds them, with the protobuf classes."""

from __future__ import annotations

import time
from typing import Any

from ingest.sparkplug.sparkplug_payload_pb2 import DataType, Payload

_FIELDS = {DataType.Boolean: "boolean_value", DataType.Double: "double_value",
           DataType.Float: "float_value", DataType.Int32: "int_value",
           DataType.Int64: "long_value", DataType.UInt64: "long_value",
           DataType.String: "string_value", DataType.Int16: "int_value"}


def ms(t: float | None = None) -> int:
    return int((time.time() if t is None else t) * 1000)


def metric(payload: Payload, name: str = "", value: Any = None, datatype: int = DataType.Double,
           *, alias: int | None = None, at: float | None = None, declare: bool = False,
           **flags: Any) -> Payload.Metric:
    """Add a metric; ``declare`` (births) sets its datatype, as the spec wants there only."""
    m = payload.metrics.add(timestamp=ms(at), **flags)
    if name:
        m.name = name
    if alias is not None:
        m.alias = alias
    if declare:
        m.datatype = datatype
    if value is not None:
        setattr(m, _FIELDS[datatype], value)
    return m


def nbirth(seq: int = 0, bd_seq: int = 0, metrics: tuple[tuple[str, Any, int, int], ...] = ()
           ) -> Payload:
    """``metrics``: (name, value, datatype, alias) each; with bdSeq and Node Control/Rebirth."""
    p = Payload(timestamp=ms(), seq=seq)
    metric(p, "bdSeq", bd_seq, DataType.Int64, declare=True)
    metric(p, "Node Control/Rebirth", False, DataType.Boolean, declare=True)
    for name, value, datatype, alias in metrics:
        metric(p, name, value, datatype, alias=alias, declare=True)
    return p


def dbirth(seq: int, metrics: tuple[tuple[str, Any, int, int], ...]) -> Payload:
    p = Payload(timestamp=ms(), seq=seq)
    for name, value, datatype, alias in metrics:
        metric(p, name, value, datatype, alias=alias, declare=True)
    return p


def data(seq: int, *values: tuple[int, Any, int], at: float | None = None,
         historical: bool = False) -> Payload:
    """``values``: (alias, value, datatype) each, by alias alone as edge nodes send them."""
    p = Payload(timestamp=ms(), seq=seq)
    for alias, value, datatype in values:
        extra = {"is_historical": True} if historical else {}
        metric(p, "", value, datatype, alias=alias, at=at, **extra)
    return p


def ndeath(bd_seq: int) -> Payload:
    p = Payload(timestamp=ms())
    metric(p, "bdSeq", bd_seq, DataType.Int64, declare=True)
    return p


def ddeath(seq: int) -> Payload:
    return Payload(timestamp=ms(), seq=seq)
