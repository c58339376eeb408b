"""The wire core: one definition of topics, base names, status fields and receipts."""

from __future__ import annotations

import json

import pytest

from idleshare import wire
from idleshare.errors import WireError
from ingest.schema import AgentStatus


def test_the_strict_status_validator_knows_exactly_the_fields_the_encoder_writes() -> None:
    assert set(AgentStatus.model_fields) == set(wire.STATUS_FIELDS)
    birth = json.loads(wire.encode_status("gw-1", wire.ONLINE, 1.0, receipts=True))
    assert list(birth) == list(wire.STATUS_FIELDS)
    assert AgentStatus.model_validate(birth).receipts is True


def test_a_status_state_outside_the_two_states_is_refused_by_encoder_and_validator() -> None:
    with pytest.raises(ValueError, match="state"):
        wire.encode_status("gw-1", "sleeping", 1.0)
    with pytest.raises(ValueError, match="state"):
        AgentStatus.model_validate({"agent": "gw-1", "state": "sleeping", "time": 1.0})


def test_base_names_parse_back_to_tenant_and_asset_and_bad_ones_say_why() -> None:
    assert wire.parse_base_name(wire.base_name("acme", "dock-3")) == ("acme", "dock-3")
    with pytest.raises(WireError, match="bad_base_name"):
        wire.parse_base_name("urn:dev:mac:0024befffe804ff1:")


def test_the_receipts_topic_parses_as_its_own_channel() -> None:
    topic = wire.parse_topic(wire.receipts_topic("acme", "gw-1"))
    assert (topic.tenant, topic.agent, topic.channel) == ("acme", "gw-1", wire.RECEIPTS)


def test_receipts_carry_compact_inclusive_ranges_and_reasons() -> None:
    payload = wire.encode_receipt([9, 3, 5, 4, 4], {"out_of_range": [7]})
    assert json.loads(payload) == {"stored": [[3, 5], [9, 9]],
                                   "rejected": {"out_of_range": [[7, 7]]}}
    receipt = wire.decode_receipt(payload)
    assert list(receipt.seqs()) == [(3, 5, ""), (9, 9, ""), (7, 7, "out_of_range")]


@pytest.mark.parametrize("payload", [b"[]", b"{\"stored\": [[5, 3]]}", b"{\"stored\": [[1.0, 2]]}",
                                     b"{\"stored\": [[-1, 2]]}", b"{\"rejected\": [[1, 2]]}",
                                     b"not json"])
def test_malformed_receipts_are_refused_as_bad_receipt(payload: bytes) -> None:
    with pytest.raises(WireError, match="bad_receipt"):
        wire.decode_receipt(payload)
