"""The validator: one accepted shape, and one test per rejection reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from idleshare import wire
from idleshare.assets import Asset
from idleshare.errors import WireError
from idleshare.wire import Measurement
from ingest.schema import SenmlPack, _parse_plain, parse_pack
from ingest.validate import Validator
from storage.readings import Reading

NOW = 1_700_000_000.0
ZONE = Asset(id="zone-1", tenant="acme", kind="warehouse_zone", capacity=100, unit="pallet")
PRESS = Asset(id="press-1", tenant="acme", kind="machine", capacity=1, unit="machine")
ASSETS = {(a.tenant, a.id): a for a in (ZONE, PRESS)}
TOPIC = wire.readings_topic("acme", "zone-1")


def validator(**kwargs: Any) -> Validator:
    return Validator(lambda tenant, asset: ASSETS.get((tenant, asset)), **kwargs)


def pack(*measurements: Measurement, tenant: str = "acme", asset: str = "zone-1") -> bytes:
    ms = measurements or (Measurement("occupied", 40.0, NOW),)
    return wire.encode_pack(tenant, asset, "agent-1", 7, ms)


def records(**first: object) -> bytes:
    rec = {"bn": wire.base_name("acme", "zone-1"), "bt": NOW, "agent": "agent-1", "seq": 7,
           "n": "occupied", "v": 1.0, **first}
    return json.dumps([{k: v for k, v in rec.items() if v is not None}]).encode()


def reason(topic: str, payload: bytes, v: Validator | None = None) -> str:
    with pytest.raises(WireError) as info:
        (v or validator()).validate(topic, payload, NOW)
    return info.value.reason


def test_a_valid_pack_becomes_readings_in_the_assets_units() -> None:
    payload = pack(Measurement("occupied", 40, NOW - 1), Measurement("occupied", 41, NOW))
    checked = validator().check(TOPIC, payload, NOW)
    assert (checked.tenant, checked.agent, checked.seq) == ("acme", "agent-1", 7)
    assert checked.readings == [Reading("acme", "zone-1", "occupied", NOW - 1, 40.0, "pallet"),
                                Reading("acme", "zone-1", "occupied", NOW, 41.0, "pallet")]


def test_a_state_metric_keeps_its_own_unit() -> None:
    payload = pack(Measurement("running", 1, NOW, unit="/"), asset="press-1")
    [reading] = validator().validate(wire.readings_topic("acme", "press-1"), payload, NOW)
    assert (reading.metric, reading.unit, reading.value) == ("running", "/", 1.0)


def test_a_payload_over_the_limit_is_oversize() -> None:
    assert reason(TOPIC, pack(), validator(max_bytes=10)) == "oversize"


@pytest.mark.parametrize("topic", ["idleshare/v1/acme/zone-1", "other/v1/acme/zone-1/readings",
                                   "idleshare/v1/ac me/zone-1/readings",
                                   wire.status_topic("acme", "agent-1")])
def test_a_topic_that_is_not_a_readings_topic_is_bad_topic(topic: str) -> None:
    assert reason(topic, pack()) == "bad_topic"


@pytest.mark.parametrize("payload", [b"[{", b"\xff\xfe", b"", b"not json"])
def test_a_payload_that_is_not_json_is_bad_json(payload: bytes) -> None:
    assert reason(TOPIC, payload) == "bad_json"


@pytest.mark.parametrize("payload", [
    b"[]",
    b"{}",
    records(v=True),  # a JSON boolean is not a number
    records(v="1"),
    records(v=None),
    records(seq=-1),
    records(seq=1.0),
    records(agent=None),
    records(bn=None),
    records(vs="text"),  # SenML string values are not part of the idleshare format
    records(extra=1),
    json.dumps([json.loads(records())[0], {"n": "occupied", "v": 1, "seq": 8}]).encode(),
], ids=lambda p: p.decode()[:60])
def test_a_pack_outside_the_schema_is_bad_schema(payload: bytes) -> None:
    assert reason(TOPIC, payload) == "bad_schema"


@pytest.mark.parametrize("payload", [
    records(v=float("nan")),  # json.dumps writes NaN
    records(v=float("inf")),
    records().replace(b'"v": 1.0', b'"v": 1e999'),
])
def test_a_non_finite_number_is_not_finite(payload: bytes) -> None:
    assert reason(TOPIC, payload) == "not_finite"


def test_a_base_name_outside_the_urn_scheme_is_bad_base_name() -> None:
    assert reason(TOPIC, records(bn="urn:dev:mac:0024befffe804ff1:")) == "bad_base_name"


def test_a_base_name_of_another_tenant_is_tenant_mismatch() -> None:
    assert reason(TOPIC, pack(tenant="evil")) == "tenant_mismatch"


def test_a_base_name_of_another_asset_is_asset_mismatch() -> None:
    assert reason(TOPIC, pack(asset="press-1")) == "asset_mismatch"


def test_an_asset_not_in_the_catalog_is_unknown_asset() -> None:
    topic = wire.readings_topic("acme", "ghost")
    assert reason(topic, pack(asset="ghost")) == "unknown_asset"


def test_a_metric_the_kind_does_not_have_is_unknown_metric() -> None:
    assert reason(TOPIC, pack(Measurement("running", 1, NOW))) == "unknown_metric"


@pytest.mark.parametrize(("asset", "measurement"), [
    ("zone-1", Measurement("occupied", 1, NOW, unit="m2")),
    ("press-1", Measurement("power", 1, NOW, unit="W")),
])
def test_a_unit_other_than_the_metrics_is_bad_unit(asset: str, measurement: Measurement) -> None:
    assert reason(wire.readings_topic("acme", asset), pack(measurement, asset=asset)) == "bad_unit"


@pytest.mark.parametrize(("asset", "measurement"), [
    ("zone-1", Measurement("occupied", 100.5, NOW)),  # above the zone's capacity
    ("zone-1", Measurement("occupied", -1, NOW)),
    ("press-1", Measurement("running", 2, NOW)),  # a state is 0..1
])
def test_a_value_outside_the_metrics_bounds_is_out_of_range(asset: str,
                                                            measurement: Measurement) -> None:
    topic = wire.readings_topic("acme", asset)
    assert reason(topic, pack(measurement, asset=asset)) == "out_of_range"


def test_the_bounds_themselves_are_in_range() -> None:
    payload = pack(Measurement("occupied", 0, NOW), Measurement("occupied", 100, NOW + 1))
    assert len(validator().validate(TOPIC, payload, NOW)) == 2


def test_a_reading_older_than_max_age_is_too_old() -> None:
    payload = pack(Measurement("occupied", 1, NOW - 61))
    assert reason(TOPIC, payload, validator(max_age_s=60)) == "too_old"


def test_a_reading_ahead_of_max_future_is_in_future() -> None:
    payload = pack(Measurement("occupied", 1, NOW), Measurement("occupied", 1, NOW + 31))
    assert reason(TOPIC, payload, validator(max_future_s=30)) == "in_future"


# The fast parse of plain packs must accept exactly what the model accepts, with its values.

_ODD_VALUES: list[Any] = [None, True, False, 0, 1, -1, 1.5, -0.0, 2**53, 2**53 + 1, 2**63,
                          2**63 - 1, 1e308, "", "x", "a" * 32, "a" * 33, "a" * 64, "a" * 65,
                          "b" * 201, "agent\n", "é", [], {}, [1.0]]


def _model(payload: bytes) -> Any:
    try:
        records = SenmlPack.model_validate_json(payload).root
    except ValidationError as err:
        return ("rejected", str(err))
    f = records[0]
    return (f.bn, f.bt, f.bu, f.agent, f.seq), [(r.n, r.v, r.t, r.u) for r in records]


def _variants() -> list[bytes]:
    base = [{"bn": "urn:dev:acme:zone-1:", "bt": NOW, "agent": "agent-1", "seq": 7,
             "n": "occupied", "v": 40.0, "u": "pallet"}, {"n": "occupied", "v": 41, "t": 1.5}]
    out = [json.dumps(base).encode(), b"[]", b"{}", b"[1]", b"[{}]", b"null", b" [\n] ",
           b'[{"bn":"urn:dev:acme:zone-1:","bt":1,"agent":"a","seq":1,"n":"x","v":NaN}]',
           b'[{"bn":"urn:dev:acme:zone-1:","bt":1,"agent":"a","seq":1,"n":"x","v":1e999}]',
           b'[{"bn":"\\ud800","bt":1,"agent":"a","seq":1,"n":"x","v":1}]',
           b'[{"bn":"x","bt":1,"agent":"a","seq":1,"n":"x","v":1,"v":2}]', b"\xff"]
    for index, record in enumerate(base):
        for field in ("bn", "bt", "bu", "agent", "seq", "n", "v", "t", "u", "extra"):
            out.append(json.dumps([r if r is not record else
                                   {k: v for k, v in r.items() if k != field}
                                   for r in base]).encode())  # the field left out
            for value in _ODD_VALUES:
                changed = [dict(r) for r in base]
                changed[index][field] = value
                out.append(json.dumps(changed).encode())
    return out


def test_the_fast_parse_of_plain_packs_agrees_with_the_model_on_every_shape() -> None:
    fast = 0
    for payload in _variants():
        model = _model(payload)
        plain = _parse_plain(payload)
        if plain is not None:
            fast += 1
            assert plain == model, payload
            assert all(type(v) is float for v in (plain[0][1], *(r[1] for r in plain[1])))
        try:
            assert parse_pack(payload) == model, payload
        except ValidationError as err:
            assert model == ("rejected", str(err)), payload
    assert fast > 50  # the fast path did take the plain ones
