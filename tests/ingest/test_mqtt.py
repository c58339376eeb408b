"""Broker URLs and batched acknowledgements."""

from __future__ import annotations

import paho.mqtt.client as mqtt
import pytest

from ingest.mqtt import ack_many, paho_client
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
