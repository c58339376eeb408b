"""Topics, payload bytes and metric values as the Sparkplug B specification defines them."""

from __future__ import annotations

import pytest

from idleshare.errors import WireError
from ingest.sparkplug import payload as spb
from ingest.sparkplug.sparkplug_payload_pb2 import DataType, Payload


def test_the_schema_has_the_specifications_field_numbers() -> None:
    # Written out by hand from the spec's fields: payload timestamp 1, metrics 2, seq 3; metric
    # name 1, alias 2, timestamp 3, datatype 4, is_historical 5, int_value 10, double_value 13.
    raw = bytes([0x08, 0x01,  # timestamp = 1
                 0x12, 0x0E,  # metrics: 14 bytes
                 0x0A, 0x01, ord("a"), 0x10, 0x07, 0x18, 0x02, 0x20, 0x03, 0x28, 0x01,
                 0x50, 0xFB, 0x01,  # int_value = 251
                 0x18, 0x05])  # seq = 5
    p = spb.decode(raw)
    m = p.metrics[0]
    assert (p.timestamp, p.seq, m.name, m.alias, m.timestamp, m.datatype) == (1, 5, "a", 7, 2, 3)
    assert m.is_historical and m.int_value == 251
    assert spb.value(m, DataType.Int8) == -5.0  # 251 is -5 in two's complement
    assert Payload(seq=5).SerializeToString() == b"\x18\x05"


def test_garbage_is_bad_protobuf() -> None:
    with pytest.raises(WireError, match="bad_protobuf"):
        spb.decode(b"\xff\xff\xff not protobuf")


@pytest.mark.parametrize(("topic", "parts"), [
    ("spBv1.0/Plant 1/NBIRTH/Line 3", ("Plant 1", "NBIRTH", "Line 3", "")),
    ("spBv1.0/Plant 1/DDATA/Line 3/Press 7", ("Plant 1", "DDATA", "Line 3", "Press 7")),
])
def test_topics(topic: str, parts: tuple[str, str, str, str]) -> None:
    t = spb.parse_topic(topic)
    assert t is not None and (t.group, t.verb, t.edge_node, t.device) == parts


@pytest.mark.parametrize("topic", ["spBv1.0/G/DDATA/N", "spBv1.0/G/NDATA/N/D", "spBv1.0/G/X/N",
                                   "spBv1.0/G//N", "spAv1.0/G/NDATA/N", "spBv1.0/G/NDATA"])
def test_bad_topics(topic: str) -> None:
    with pytest.raises(WireError, match="bad_topic"):
        spb.parse_topic(topic)


def test_host_state_messages_are_not_edge_node_data() -> None:
    assert spb.parse_topic("spBv1.0/STATE/scada-1") is None


def metric(**fields: object) -> Payload.Metric:
    return Payload.Metric(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("m", "datatype", "expected"), [
    (metric(boolean_value=True), DataType.Boolean, 1.0),
    (metric(boolean_value=False), DataType.Boolean, 0.0),
    (metric(double_value=2.5), DataType.Double, 2.5),
    (metric(float_value=0.5), DataType.Float, 0.5),
    (metric(int_value=2**32 - 2), DataType.Int32, -2.0),
    (metric(int_value=2**32 - 2), DataType.UInt32, 2**32 - 2.0),
    (metric(long_value=2**64 - 1), DataType.Int64, -1.0),
    (metric(int_value=65535), DataType.Int16, -1.0),
    (metric(is_null=True), DataType.Double, None),
])
def test_numeric_values(m: Payload.Metric, datatype: int, expected: float | None) -> None:
    assert spb.value(m, datatype) == expected


@pytest.mark.parametrize(("m", "datatype", "detail"), [
    (metric(string_value="on"), DataType.String, "String is not a number"),
    (metric(string_value="1.0"), DataType.Double, "a Double in string_value"),
    (metric(), DataType.Double, "a Double in no value"),
    (metric(long_value=1), DataType.DateTime, "DateTime is not a number"),
])
def test_values_of_the_wrong_type(m: Payload.Metric, datatype: int, detail: str) -> None:
    with pytest.raises(WireError, match=f"bad_type: {detail}"):
        spb.value(m, datatype)


def test_timestamps_are_the_metrics_own_else_the_messages_else_arrival() -> None:
    p = Payload(timestamp=2_000)
    assert spb.timestamp(metric(timestamp=1_500), p, 9.0) == 1.5
    assert spb.timestamp(metric(), p, 9.0) == 2.0
    assert spb.timestamp(metric(), Payload(), 9.0) == 9.0


def test_seq_and_bdseq() -> None:
    assert spb.require_seq(Payload(seq=255), "NDATA") == 255
    for bad in (Payload(), Payload(seq=256)):
        with pytest.raises(WireError, match="bad_seq"):
            spb.require_seq(bad, "NDATA")
    p = Payload()
    p.metrics.add(name="bdSeq", long_value=7)
    assert spb.bd_seq(p) == 7 and spb.bd_seq(Payload()) is None


def test_the_rebirth_request() -> None:
    request = spb.decode(spb.rebirth_request(now=1.0))
    (m,) = request.metrics
    assert (m.name, m.datatype, m.boolean_value) == ("Node Control/Rebirth", DataType.Boolean,
                                                     True)
    assert request.timestamp == 1000 and not request.HasField("seq")
    assert spb.ncmd_topic("Plant 1", "Line 3") == "spBv1.0/Plant 1/NCMD/Line 3"
