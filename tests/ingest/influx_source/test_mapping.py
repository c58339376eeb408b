"""The mapping file: what it accepts, what it refuses (naming the key), and how rows become
readings or rejections."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from idleshare.errors import ConfigError
from ingest.influx_source.mapping import Row, load_mapping, parse_mapping
from storage.readings import Reading
from tests.ingest.influx_source.conftest import MODBUS_MAP, S, modbus_map

TAGS = {"host": "plant-gw", "name": "press", "slave_id": "1", "type": "holding_register"}


def doc(**changes: Any) -> dict[str, Any]:
    d = tomllib.loads(MODBUS_MAP.format(tenant="acme"))
    d.update(changes)
    return d


def test_a_telegraf_modbus_row_becomes_readings_with_scale_and_units() -> None:
    mapping = modbus_map("acme")
    readings, rejected = mapping.map_row(Row(5 * S, TAGS, {"run_state": 1, "power_w": 1500}))
    assert rejected == []
    assert sorted(readings, key=lambda r: r.metric) == [
        Reading("acme", "press-1", "power", 5.0, 1.5, "kW"),
        Reading("acme", "press-1", "running", 5.0, 1.0, "/"),
    ]


def test_per_asset_fields_replace_the_defaults_and_the_asset_unit_is_the_fill_unit() -> None:
    mapping = modbus_map("acme")
    silo = {"name": "silo", "slave_id": "7"}
    readings, rejected = mapping.map_row(
        Row(S, silo, {"level_pct": 50, "power_w": 100, "run_state": 1}))
    assert rejected == []
    assert readings == [Reading("acme", "silo-1", "fill", 1.0, 15.0, "m3")]


def test_fields_absent_from_a_row_or_unmapped_are_skipped_not_rejected() -> None:
    mapping = modbus_map("acme")
    readings, rejected = mapping.map_row(Row(S, TAGS, {"run_state": None, "other": 3}))
    assert (readings, rejected) == ([], [])


def test_a_boolean_is_a_state_a_string_is_rejected_and_the_row_keeps_its_good_values() -> None:
    mapping = modbus_map("acme")
    readings, rejected = mapping.map_row(Row(S, TAGS, {"run_state": True, "power_w": "1.5"}))
    assert [(r.metric, r.value) for r in readings] == [("running", 1.0)]
    assert [r.reason for r in rejected] == ["non_numeric"]
    assert "press-1 power_w" in rejected[0].detail


@pytest.mark.parametrize(("tags", "fields", "reason"), [
    ({"name": "press", "slave_id": "9"}, {"run_state": 1}, "unmapped_asset"),
    ({"name": "press"}, {"run_state": 1}, "missing_tag"),
    ({"name": "press", "slave_id": ""}, {"run_state": 1}, "missing_tag"),
    (TAGS, {"run_state": 2}, "out_of_range"),
    (TAGS, {"power_w": -5}, "out_of_range"),
    (TAGS, {"power_w": float("inf")}, "not_finite"),
])
def test_rejections_say_why(tags: dict[str, str], fields: dict[str, object],
                            reason: str) -> None:
    readings, rejected = modbus_map("acme").map_row(Row(S, tags, fields))
    assert readings == []
    assert [r.reason for r in rejected] == [reason]


def test_an_mqtt_consumer_measurement_maps_by_its_topic_tag() -> None:
    mapping = parse_mapping({
        "measurement": "mqtt_consumer", "tenant": "acme", "asset_tags": ["topic"],
        "assets": [{"id": "zone-a", "match": {"topic": "plant/zone-a/occupancy"},
                    "kind": "warehouse_zone", "capacity": 120,
                    "fields": {"pallets": "occupied"}}]})
    readings, _ = mapping.map_row(Row(S, {"host": "gw", "topic": "plant/zone-a/occupancy"},
                                      {"pallets": 42.0}))
    assert readings == [Reading("acme", "zone-a", "occupied", 1.0, 42.0, "pallet")]
    assert mapping.name == "mqtt_consumer"
    assert mapping.field_names == ("pallets",)


def test_the_fields_queried_are_every_mapped_field_once() -> None:
    assert modbus_map("acme").field_names == ("level_pct", "power_w", "run_state")


@pytest.mark.parametrize(("changes", "message"), [
    ({"measurement": ""}, "measurement must be a non-empty string"),
    ({"asset_tags": []}, "asset_tags must be a list"),
    ({"tenant": "no spaces"}, "assets[0]: tenant must be"),
    ({"colour": "red"}, "unknown key colour"),
    ({"assets": []}, "at least one [[assets]]"),
    ({"fields": {"run_state": "speed"}}, "maps to 'speed', not a metric of a machine"),
    ({"fields": {"power_w": {"metric": "power", "scale": 0}}}, "fields.power_w.scale must not"),
    ({"fields": {"power_w": {"metric": "power", "gain": 2}}}, "unknown key fields.power_w.gain"),
])
def test_mistakes_in_the_file_name_the_key(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_mapping(doc(**changes))
    assert message in str(caught.value)


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "spaceship"}, "assets[0].kind: unknown asset kind 'spaceship'"),
    ({"capacity": 0}, "assets[0]: capacity"),
    ({"capacity": "big"}, "assets[0].capacity must be a number"),
    ({"match": {"name": "press"}}, "assets[0].match must give exactly the tags"),
    ({"match": {"name": "press", "slave_id": 2}}, "assets[1].match: the same tags as assets[0]"),
    ({"id": "bad id"}, "asset id must be"),
])
def test_mistakes_in_an_asset_name_the_asset(change: dict[str, Any], message: str) -> None:
    d = doc()
    d["assets"][0].update(change)
    with pytest.raises(ConfigError) as caught:
        parse_mapping(d)
    assert message in str(caught.value)


def test_a_missing_or_broken_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read the mapping file .*nope\.toml"):
        load_mapping(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("measurement = \n")
    with pytest.raises(ConfigError, match=r"broken\.toml: not valid TOML"):
        load_mapping(broken)
    good = tmp_path / "good.toml"
    good.write_text(MODBUS_MAP.format(tenant="acme"))
    assert load_mapping(good).name == "plant-a-modbus"
