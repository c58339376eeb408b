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


def packed(tmp_path: Path, readings: int, per_message: int) -> Outbox:
    """An outbox holding ``readings`` of zone-a packed ``per_message`` to a message."""
    box = Outbox(tmp_path / "outbox.db", "gw-1")
    box.add("zone-a", _ms(readings))
    box.pack(per_message)
    return box


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
    box = packed(tmp_path, 4, per_message=2)
    first, second = box.messages(10)
    assert box.ack(first.seq) == 2
    assert box.messages(10) == [second]
    assert box.count() == 2


def test_messages_after_a_cursor_and_due_resends_skip_those_still_with_the_client(
    tmp_path: Path
) -> None:
    box = packed(tmp_path, 6, per_message=1)
    seqs = [m.seq for m in box.messages(10)]
    assert [m.seq for m in box.messages(2, after=seqs[2])] == seqs[3:5]
    box.handed(seqs[:3], now=100.0, timeout_s=60.0)
    assert box.due(now=159.0, limit=10) == []
    assert [m.seq for m in box.due(now=160.0, limit=10, exclude=[seqs[1]])] == [seqs[0], seqs[2]]
    assert box.unreceipted == 3 and box.last_handed() == seqs[2]


def test_a_puback_starts_the_receipt_timeout_which_doubles_per_attempt(tmp_path: Path) -> None:
    box = packed(tmp_path, 1, per_message=1)
    (msg,) = box.messages(10)
    waits = []
    for attempt in range(4):
        box.handed([msg.seq], now=0.0, timeout_s=60.0)
        box.acked([msg.seq], now=1000.0, timeout_s=60.0, max_s=200.0)
        (due,) = box._db.execute("SELECT due FROM sent").fetchone()
        waits.append(due - 1000.0)
        assert box.sent_readings() == 1 and box.count() == 1, attempt
    assert waits == [60.0, 120.0, 200.0, 200.0]


def test_only_a_receipt_deletes_and_it_counts_stored_and_rejected_readings(
    tmp_path: Path
) -> None:
    box = packed(tmp_path, 6, per_message=2)
    a, b, c = (m.seq for m in box.messages(10))
    box.handed([a, b, c], now=0.0, timeout_s=60.0)
    box.acked([a, b, c], now=0.0, timeout_s=60.0, max_s=60.0)
    assert box.count() == 6
    assert box.settle([(a, a, ""), (c, c, "bad_unit"), (c + 10, c + 20, "")]) == (2, 2)
    assert box.count() == 2 and box.unreceipted == 1 and box.rejected == 2
    box.close()
    assert Outbox(tmp_path / "outbox.db", "gw-1").rejected == 2  # persisted


def test_resend_all_makes_every_unreceipted_message_due_at_once(tmp_path: Path) -> None:
    box = packed(tmp_path, 3, per_message=1)
    seqs = [m.seq for m in box.messages(10)]
    box.handed(seqs, now=0.0, timeout_s=3600.0)
    box.resend_all()
    assert [m.seq for m in box.due(now=1.0, limit=10)] == seqs


def test_dropping_for_the_budget_takes_whole_messages_and_counts_exactly_their_rows(
    tmp_path: Path
) -> None:
    box = Outbox(tmp_path / "outbox.db", "gw-1")
    for i in range(10):  # two assets interleaved, so a pack's rows are not contiguous
        box.add("zone-a", _ms(1, 1000.0 + i))
        box.add("zone-b", _ms(1, 1000.0 + i))
    box.pack(5)
    first = box.messages(10)[0]
    box.handed([first.seq], now=0.0, timeout_s=60.0)
    with box._tx():
        box._drop_oldest_rows(1)  # the oldest row is in the first pack: all 5 rows go
    assert box.count() == 15 and box.dropped == 5
    assert box.unreceipted == 0 and box.due(now=1e9, limit=10) == []
    remaining = box.messages(10)
    assert all(len(m.measurements) == 5 for m in remaining)  # no pack lost part of its rows


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


def _fill(box: Outbox, n: int, t0: float = 1000.0) -> None:
    for i in range(0, n, 100):
        box.add("zone-a", _ms(100, t0 + 60 * i))


def test_over_the_disk_budget_the_oldest_rows_go_and_are_counted(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db", "gw-1", max_bytes=256 * 1024)
    _fill(box, 20_000)
    assert box.used_bytes() <= 256 * 1024
    kept = box.count()
    assert 0 < kept < 20_000
    assert box.dropped == 20_000 - kept
    box.pack(1000)
    times = [m.time for msg in box.messages(1000) for m in msg.measurements]
    assert times[-1] == 1000.0 + 60 * 19_999  # the newest survive
    assert times == sorted(times)
    box.close()
    assert Outbox(tmp_path / "outbox.db", "gw-1").dropped == 20_000 - kept  # persisted


def test_a_full_disk_drops_the_oldest_and_keeps_storing(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db", "gw-1")
    box._db.execute("PRAGMA max_page_count = 64")  # SQLite answers SQLITE_FULL past 256 kB
    _fill(box, 20_000)
    assert box.count() > 0 and box.dropped > 0
    before = box.count()
    assert box.add("zone-a", _ms(1, 9e9)) == 1  # still accepts new readings
    assert box.count() >= before * (1 - 0.1)  # at most a tenth made room
    assert box.pack(50, max_rows=100) == 2  # and still packs them for the broker


def test_a_bounded_pack_leaves_partly_filled_packs_for_later(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db", "gw-1")
    for i in range(30):
        box.add("zone-a", [Measurement("occupied", 1.0, 1000.0 + i)])
        box.add("zone-b", [Measurement("occupied", 1.0, 1000.0 + i)])
    assert box.pack(max_pack=10, max_rows=25) == 2  # zone-a 10 + zone-b 10; 5 rows held back
    assert box.pack(max_pack=10, max_rows=100) == 4
    sizes = [(m.asset, len(m.measurements)) for m in box.messages(10)]
    assert sizes == [("zone-a", 10), ("zone-b", 10), ("zone-a", 10), ("zone-b", 10),
                     ("zone-a", 10), ("zone-b", 10)]


def test_last_sample_time_and_agent_state_survive_reopening(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db", "gw-1")
    box.add("zone-a", _ms(2), sampled_at=1060.0)
    box.set_state(connected=True, last_publish=5.0)
    box.close()
    box = Outbox(tmp_path / "outbox.db", "gw-1")
    assert box.last_sampled() == {"zone-a": 1060.0}


def test_a_budget_too_small_for_sqlite_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"buffer\.max_mb must be >="):
        Outbox(tmp_path / "outbox.db", "gw-1", max_bytes=1000)


def test_new_readings_are_fsynced_before_commit_and_acknowledgements_are_not(
    tmp_path: Path,
) -> None:
    box = Outbox(tmp_path / "outbox.db", "gw-1")
    statements: list[str] = []
    box._db.set_trace_callback(statements.append)

    def sync_mode_before(keyword: str) -> str:
        at = next(i for i, s in enumerate(statements) if s.lstrip().upper().startswith(keyword))
        return next(s for s in reversed(statements[:at]) if "synchronous" in s)

    box.add("zone-a", _ms(2))
    assert sync_mode_before("INSERT INTO OUTBOX").endswith("FULL")
    box.pack(2)
    statements.clear()
    box.ack(box.messages(10)[0].seq)
    assert sync_mode_before("DELETE").endswith("NORMAL")
