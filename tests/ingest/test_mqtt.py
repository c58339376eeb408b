"""Batched reads (the same messages as paho's own reader) and batched acknowledgements."""

from __future__ import annotations

import random
import struct
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ingest.mqtt import V311_WINDOW, BatchReadClient, ack_many, paho_client
from tests.ingest.fakes import FakeClient


def _queued(client: mqtt.Client) -> bytes:
    # Not connected: paho keeps the packets in its queue, which is what goes on the wire.
    return b"".join(bytes(p["packet"]) for p in client._out_packet)


@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5])
def test_batched_acks_put_the_same_bytes_on_the_wire_as_one_ack_per_message(
        protocol: int) -> None:
    acks = [(1, 1), (65535, 1), (7, 0), (300, 1)]
    one_by_one, batched = paho_client("a", protocol), paho_client("b", protocol)
    for mid, qos in acks:
        one_by_one.ack(mid, qos)
    ack_many(batched, acks)
    assert _queued(batched) == _queued(one_by_one) == bytes.fromhex("40020001" "4002ffff"
                                                                    "4002012c")
    assert len(batched._out_packet) == 1  # one queued write, one wake-up of the loop


def test_clients_other_than_pahos_get_one_ack_call_per_message() -> None:
    fake = FakeClient("f")
    ack_many(fake, [(3, 1), (4, 1)])
    assert fake.acks == [3, 4]


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, byte = n >> 7, n & 127
        out.append(byte | (128 if n else 0))
        if not n:
            return bytes(out)


def _publish(topic: bytes, payload: bytes, qos: int, mid: int, *, v5: bool, retain: int = 0,
             dup: int = 0, props: bytes = b"") -> bytes:
    var = struct.pack("!H", len(topic)) + topic + (struct.pack("!H", mid) if qos else b"")
    body = var + (_varint(len(props)) + props if v5 else b"") + payload
    return bytes([0x30 | dup << 3 | qos << 1 | retain]) + _varint(len(body)) + body


class ScriptedSocket:
    """Hands out what was fed, at most ``n`` bytes per ``recv``; empty: would block."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.sent = bytearray()

    def recv(self, n: int) -> bytes:
        if not self.chunks:
            raise BlockingIOError
        chunk = self.chunks[0]
        self.chunks[0] = chunk[n:]
        if not self.chunks[0]:
            self.chunks.pop(0)
        return chunk[:n]

    def send(self, data: bytes) -> int:
        self.sent += data
        return len(data)

    def close(self) -> None:
        pass


def _stream(v5: bool) -> bytes:
    """PUBLISH packets of every shape ingest can meet, among other packets."""
    user_property = b"\x26" + struct.pack("!H", 1) + b"k" + struct.pack("!H", 1) + b"v"
    packets = [
        _publish(b"a/b", b"[1]", 1, 1, v5=v5),
        b"\xd0\x00",  # PINGRESP
        _publish(b"t/\xc3\xa9", b"x" * 20_000, 1, 65535, v5=v5, retain=1, dup=1),  # 3-byte length
        _publish(b"q0", b"", 0, 0, v5=v5),
        _publish(b"bad/\xff", b"not UTF-8 topic", 1, 9, v5=v5),
        b"\x40\x02\x00\x07",  # PUBACK of a message of ours
        _publish(b"with/props", b"p", 1, 10, v5=v5, props=user_property if v5 else b""),
        _publish(b"x" * 300, b"y" * 129, 1, 11, v5=v5),  # 2-byte length
    ]
    return b"".join(packets) * 3


def _received(client: mqtt.Client, stream: bytes, cuts: list[int]) -> tuple[list[tuple[Any, ...]],
                                                                             bytes]:
    sock = ScriptedSocket()
    client._sock = sock  # type: ignore[assignment]
    got: list[tuple[Any, ...]] = []
    client.on_message = lambda _c, _u, m: got.append(
        (m._topic, m.payload, m.mid, m.qos, m.retain, m.dup,
         m.properties.UserProperty if getattr(m.properties, "UserProperty", None) else None))
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        sock.chunks.append(stream[start:end])
        while (rc := client._packet_read()) == mqtt.MQTT_ERR_SUCCESS:
            pass
        assert rc == mqtt.MQTT_ERR_AGAIN
    return got, bytes(sock.sent)


@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5], ids=["mqtt3", "mqtt5"])
@pytest.mark.parametrize("seed", range(4))
def test_the_batch_reader_delivers_what_pahos_reader_delivers_however_the_bytes_arrive(
        protocol: int, seed: int) -> None:
    stream = _stream(protocol == mqtt.MQTTv5)
    rng = random.Random(seed)
    # Cut anywhere: inside lengths, headers and payloads; seed 0 delivers byte by byte.
    cuts = (list(range(1, len(stream))) if seed == 0
            else sorted(rng.sample(range(1, len(stream)), 40)))
    paho = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="p", protocol=protocol)
    ours = BatchReadClient(CallbackAPIVersion.VERSION2, client_id="o", protocol=protocol)
    expected, expected_acks = _received(paho, stream, cuts)
    got, acks = _received(ours, stream, cuts)
    assert len(expected) == 18 and got == expected
    assert acks == expected_acks and len(acks) == 15 * 4  # auto-ack: one PUBACK per QoS 1


def test_paho_client_reads_in_batches_and_leaves_acknowledging_to_the_caller() -> None:
    client = paho_client("c", mqtt.MQTTv5)
    assert isinstance(client, BatchReadClient) and client._manual_ack


def test_the_batch_reader_keeps_pahos_filtered_callbacks() -> None:
    client = BatchReadClient(CallbackAPIVersion.VERSION2, client_id="f", protocol=mqtt.MQTTv5)
    filtered: list[bytes] = []
    client.message_callback_add("a/#", lambda _c, _u, m: filtered.append(m._topic))
    stream = b"".join(_publish(t, b"x", 1, mid, v5=True)
                      for mid, t in enumerate((b"a/b", b"c", b"a/d"), start=1))
    got, _ = _received(client, stream, [5])
    assert filtered == [b"a/b", b"a/d"] and [m[0] for m in got] == [b"c"]


@pytest.mark.parametrize(("protocol", "connack", "window"), [
    (mqtt.MQTTv5, b"\x20\x06\x00\x00\x03\x21\x04\xd2", 1234),  # Receive Maximum 1234
    (mqtt.MQTTv5, b"\x20\x03\x00\x00\x00", 65535),  # none announced: the standard's default
    (mqtt.MQTTv311, b"\x20\x02\x00\x00", V311_WINDOW),
], ids=["mqtt5", "mqtt5-default", "mqtt3"])
def test_our_publish_window_is_what_the_broker_accepts_not_pahos_20(
        protocol: int, connack: bytes, window: int) -> None:
    client = BatchReadClient(CallbackAPIVersion.VERSION2, client_id="w", protocol=protocol)
    connected: list[Any] = []
    client.on_connect = lambda *args: connected.append(args)
    _received(client, connack, [])
    assert connected and client._max_inflight_messages == window


def test_one_loop_round_reads_one_chunk_so_acks_and_pings_go_out_between_chunks() -> None:
    # paho's loop_read reads once per message of ours in flight; with a chunk of packets per
    # read that held the thread reading the broker's whole window before it wrote anything.
    client = paho_client("c", mqtt.MQTTv5)
    sock = ScriptedSocket()
    client._sock = sock  # type: ignore[assignment]
    for mid in range(1, 51):  # receipts of ours awaiting their PUBACK
        client._out_messages[mid] = mqtt.MQTTMessage(mid)
    packet = _publish(b"a/b", b"x" * 200, 1, 1, v5=True)
    per_chunk = BatchReadClient.CHUNK // len(packet)
    sock.chunks = [packet * per_chunk] * 3
    got: list[int] = []
    client.on_message = lambda _c, _u, m: got.append(m.mid)
    assert client.loop_read() == mqtt.MQTT_ERR_SUCCESS
    assert len(got) == per_chunk and len(sock.chunks) == 2
    client.loop_read()
    assert len(got) == 2 * per_chunk
