"""The durable outbox: rows survive restarts, packs keep order, seq only grows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge_agent.outbox import Outbox
from idleshare.errors import ConfigError
from idleshare.wire import MAX_PAYLOAD_BYTES, Measurement, encode_pack


def _ms(n: int, t0: float = 1000.0, name: str = "occupied") -> list[Measurement]:
    return [Measurement(name, float(i), t0 + 60 * i, "pallet") for i in range(n)]


def test_rows_and_sequence_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    box = Outbox(path, "gw-1")
    box.add("zone-a", _ms(3))
    box.pack(50)
    [first] = box.messages(10)
    box.close()

    box = Outbox(path, "gw-1")
    assert box.count() == 3
    [again] = box.messages(10)
    assert again == first  # same seq, same content: ingest sees a repeat, not new data
    box.ack(first.seq)
    box.add("zone-a", _ms(1))
    box.pack(50)
    [later] = box.messages(10)
    assert later.seq > first.seq
    box.close()

    box = Outbox(path, "gw-1")
    box.add("zone-a", _ms(1))
    box.pack(50)
    assert [m.seq for m in box.messages(10)] == [later.seq, later.seq + 1]


def test_a_new_outbox_starts_its_sequence_above_any_older_one(tmp_path: Path) -> None:
    old = Outbox(tmp_path / "old.db", "gw-1")
    old.add("zone-a", _ms(1))
    old.pack(50)
    [message] = old.messages(1)
    new = Outbox(tmp_path / "new.db", "gw-1")  # the old file was lost
    assert new.next_seq > message.seq


def test_backlog_is_packed_per_asset_in_order_up_to_max_pack(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db", "gw-1")
    for i in range(7):  # interleaved samples of two assets, as the agent stores them
        box.add("zone-a", [Measurement("occupied", float(i), 1000.0 + i)])
        box.add("truck-1", [Measurement("in_use", 1.0, 1000.0 + i),
                            Measurement("load", float(i), 1000.0 + i)])
    assert box.pack(max_pack=5) == 5
    messages = box.messages(100)
    assert [(m.asset, len(m.measurements)) for m in messages] == [
        ("zone-a", 5), ("truck-1", 5), ("truck-1", 5), ("zone-a", 2), ("truck-1", 4)]
    assert [m.seq for m in messages] == sorted({m.seq for m in messages})
    zone = [x for m in messages if m.asset == "zone-a" for x in m.measurements]
    assert [x.time for x in zone] == [1000.0 + i for i in range(7)]  # original timestamps


def test_acknowledged_messages_leave_and_others_stay(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db", "gw-1")
    box.add("zone-a", _ms(4))
    box.pack(2)
    first, second = box.messages(10)
    assert box.ack(first.seq) == 2
    assert box.messages(10) == [second]
    assert box.count() == 2


def test_messages_skips_those_already_handed_over(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db", "gw-1")
    box.add("zone-a", _ms(6))
    box.pack(1)
    seqs = [m.seq for m in box.messages(10)]
    assert [m.seq for m in box.messages(2, exclude=seqs[:3])] == seqs[3:5]


def test_packs_stay_under_the_payload_limit_even_with_long_units(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db", "gw-1")
    unit = "u" * 2000
    box.add("zone-a", [Measurement("occupied", 123456.789, 1.7e9 + i, unit) for i in range(500)])
    box.pack(1000)
    messages = box.messages(100)
    assert len(messages) > 1
    for m in messages:
        payload = encode_pack("acme", "zone-a", "gw-1", m.seq, m.measurements)
        assert len(payload) <= MAX_PAYLOAD_BYTES
        assert len(json.loads(payload)) == len(m.measurements)


def test_an_outbox_of_another_agent_is_refused(tmp_path: Path) -> None:
    Outbox(tmp_path / "outbox.db", "gw-1").close()
    with pytest.raises(ConfigError, match=r"buffer\.path belongs to agent 'gw-1'"):
        Outbox(tmp_path / "outbox.db", "gw-2")
