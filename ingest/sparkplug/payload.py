"""Sparkplug B on the wire: topics, payload decoding, metric values, the rebirth request.

Encoding and decoding are protobuf's (``sparkplug_payload_pb2``, compiled from the
specification's schema in ``sparkplug_payload.proto``); this module only reads the fields.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from idleshare.errors import WireError
from ingest.sparkplug.sparkplug_payload_pb2 import DataType, Payload

NAMESPACE = "spBv1.0"
#: Every Sparkplug B message (the service's subscription).
FILTER = f"{NAMESPACE}/#"
NODE_VERBS = frozenset({"NBIRTH", "NDATA", "NDEATH", "NCMD"})
DEVICE_VERBS = frozenset({"DBIRTH", "DDATA", "DDEATH", "DCMD"})
REBIRTH = "Node Control/Rebirth"
BD_SEQ = "bdSeq"
SEQ_MODULO = 256  # seq runs 0..255 and wraps to 0

Metric = Payload.Metric

#: Datatypes idleshare stores (as floats): which value field each carries, and for the signed
#: integers how many bits their two's complement has.
_NUMERIC: dict[int, tuple[str, int]] = {
    DataType.Int8: ("int_value", 8), DataType.Int16: ("int_value", 16),
    DataType.Int32: ("int_value", 32), DataType.Int64: ("long_value", 64),
    DataType.UInt8: ("int_value", 0), DataType.UInt16: ("int_value", 0),
    DataType.UInt32: ("int_value", 0), DataType.UInt64: ("long_value", 0),
    DataType.Float: ("float_value", 0), DataType.Double: ("double_value", 0),
    DataType.Boolean: ("boolean_value", 0),
}


@dataclass(frozen=True, slots=True)
class Topic:
    """``spBv1.0/{group}/{verb}/{edge_node}[/{device}]``; ``device`` is empty for node verbs."""

    group: str
    verb: str
    edge_node: str
    device: str = ""

    @property
    def node(self) -> tuple[str, str]:
        return self.group, self.edge_node


def parse_topic(topic: str) -> Topic | None:
    """The topic's parts; None for Sparkplug topics that carry no edge node data (the host
    applications' ``spBv1.0/STATE/...``); WireError ``bad_topic`` for anything malformed."""
    parts = topic.split("/")
    if len(parts) >= 2 and parts[0] == NAMESPACE and parts[1] == "STATE":
        return None
    if len(parts) not in (4, 5) or parts[0] != NAMESPACE or not all(parts[1:]):
        raise WireError("bad_topic", f"not spBv1.0/group/verb/node[/device]: {topic[:200]!r}")
    verb = parts[2]
    expected = NODE_VERBS if len(parts) == 4 else DEVICE_VERBS
    if verb not in expected:
        raise WireError("bad_topic", f"{verb!r} with {len(parts) - 1} topic levels")
    return Topic(parts[1], verb, parts[3], parts[4] if len(parts) == 5 else "")


def decode(raw: bytes | bytearray) -> Payload:
    """The payload, or WireError ``bad_protobuf``."""
    payload = Payload()
    try:
        payload.ParseFromString(bytes(raw))
    except DecodeError as err:
        raise WireError("bad_protobuf", f"not a Sparkplug B payload: {err}") from err
    return payload


def require_seq(payload: Payload, verb: str) -> int:
    if not payload.HasField("seq") or payload.seq >= SEQ_MODULO:
        shown = payload.seq if payload.HasField("seq") else "none"
        raise WireError("bad_seq", f"{verb} needs a seq of 0..255: got {shown}")
    return payload.seq


def bd_seq(payload: Payload) -> int | None:
    """The ``bdSeq`` metric of an NBIRTH or NDEATH (an integer of any width), if there is one."""
    for metric in payload.metrics:
        if metric.name == BD_SEQ and metric.WhichOneof("value") in ("int_value", "long_value"):
            return metric.int_value if metric.HasField("int_value") else metric.long_value
    return None


def is_numeric(datatype: int) -> bool:
    return datatype in _NUMERIC


def datatype_name(datatype: int) -> str:
    try:
        return DataType.Name(datatype)
    except ValueError:
        return str(datatype)


def value(metric: Metric, datatype: int) -> float | None:
    """The metric's value as a float (booleans as 1.0/0.0), None when it is null; WireError
    ``bad_type`` when it is not a number or not in the field its datatype uses."""
    if metric.is_null:
        return None
    kind = _NUMERIC.get(datatype)
    if kind is None:
        raise WireError("bad_type", f"{datatype_name(datatype)} is not a number")
    field, signed_bits = kind
    carried = metric.WhichOneof("value")
    if carried != field:
        raise WireError("bad_type", f"a {datatype_name(datatype)} in {carried or 'no value'}")
    number = getattr(metric, field)
    if signed_bits and number >= 1 << (signed_bits - 1):
        number -= 1 << signed_bits  # two's complement in an unsigned field
    result = float(number)
    if not math.isfinite(result):
        raise WireError("not_finite", f"{result}")
    return result


def timestamp(metric: Metric, payload: Payload, received: float) -> float:
    """Seconds since the epoch: the metric's own time (kept as is, historical values too), else
    the message's, else when it arrived."""
    if metric.HasField("timestamp"):
        return metric.timestamp / 1000.0
    if payload.HasField("timestamp"):
        return payload.timestamp / 1000.0
    return received


def rebirth_request(now: float | None = None) -> bytes:
    """An NCMD payload asking an edge node for its births again."""
    ms = int((time.time() if now is None else now) * 1000)
    request = Payload(timestamp=ms)
    request.metrics.add(name=REBIRTH, timestamp=ms, datatype=DataType.Boolean, boolean_value=True)
    return request.SerializeToString()


def ncmd_topic(group: str, edge_node: str) -> str:
    return f"{NAMESPACE}/{group}/NCMD/{edge_node}"
