"""Per-node state: births and aliases, seq positions with the 255 -> 0 wrap, bdSeq deaths."""

from __future__ import annotations

import pytest

from idleshare.errors import WireError
from ingest.sparkplug.session import Births, NodeSession, Sessions
from ingest.sparkplug.sparkplug_payload_pb2 import DataType, Payload
from tests.ingest.sparkplug.payloads import data, dbirth, nbirth

NODE = ("Plant 1", "Line 3")
D = DataType.Double


def session_at(seq: int) -> NodeSession:
    return Sessions().birth(NODE, 0, seq, nbirth(seq).metrics)


def test_births_resolve_data_metrics_by_alias_or_by_name() -> None:
    births = Births(dbirth(1, (("Power", 1.0, D, 7), ("Running", True, DataType.Boolean, 8)))
                    .metrics)
    by_alias, by_name = data(2, (7, 2.0, D)).metrics[0], Payload.Metric(name="Running")
    assert births.resolve(by_alias).name == "Power"
    assert births.resolve(by_alias).datatype == D
    assert births.resolve(by_name).datatype == DataType.Boolean
    with pytest.raises(WireError, match="unknown_alias: alias 9"):
        births.resolve(data(2, (9, 2.0, D)).metrics[0])
    with pytest.raises(WireError, match="not_in_birth"):
        births.resolve(Payload.Metric(name="Speed"))
    with pytest.raises(WireError, match="bad_metric"):
        births.resolve(Payload.Metric())
    with pytest.raises(WireError, match="bad_birth"):
        Births([Payload.Metric(alias=3)])


def test_consecutive_seqs_are_new_positions_without_gaps_across_the_wrap() -> None:
    s = session_at(253)
    positions = [s.observe(seq) for seq in (254, 255, 0, 1)]
    assert [p.position - positions[0].position for p in positions] == [0, 1, 2, 3]
    assert all(not p.skipped for p in positions) and not s.missing


def test_a_gap_across_the_wrap_is_seen_and_filled_by_a_late_message() -> None:
    s = session_at(254)
    start = s.position
    jumped = s.observe(1)  # 255 and 0 are missing
    assert jumped.position == start + 3
    assert jumped.skipped == (start + 1, start + 2)
    late = s.observe(255)
    assert late.position == start + 1 and not late.skipped
    assert s.missing == {start + 2}
    assert s.still_missing(jumped.skipped)  # 0 never came: ask for a rebirth
    assert not s.still_missing(jumped.skipped)  # once per gap


def test_a_gap_filled_in_time_needs_no_rebirth() -> None:
    s = session_at(10)
    gap = s.observe(12)
    s.observe(11)
    assert not s.still_missing(gap.skipped)


def test_a_repeat_has_the_position_of_its_first_copy() -> None:
    s = session_at(0)
    first = s.observe(1)
    s.observe(2)
    assert s.observe(1).position == first.position
    assert s.observe(2).position == first.position + 1


def test_every_birth_starts_positions_above_all_earlier_ones() -> None:
    sessions = Sessions()
    old = sessions.birth(NODE, 0, 0, nbirth().metrics)
    for seq in range(1, 300):
        old.observe(seq % 256)
    reborn = sessions.birth(NODE, 0, 0, nbirth().metrics)
    assert reborn.position > old.position
    assert sessions.get(NODE) is reborn and reborn.devices == {}


def test_an_ndeath_ends_the_session_only_with_its_bdseq() -> None:
    sessions = Sessions()
    sessions.birth(NODE, 5, 0, nbirth(bd_seq=5).metrics)
    assert not sessions.death(NODE, 4)  # the will of the connection before
    assert sessions.get(NODE) is not None
    assert sessions.death(NODE, 5)
    assert sessions.get(NODE) is None
    assert sessions.death(NODE, 9)  # no session known: the node is offline all the same


def test_a_bad_birth_replaces_nothing() -> None:
    sessions = Sessions()
    good = sessions.birth(NODE, 1, 0, nbirth().metrics)
    with pytest.raises(WireError):
        sessions.birth(NODE, 2, 0, [Payload.Metric(alias=1)])
    assert sessions.get(NODE) is good
