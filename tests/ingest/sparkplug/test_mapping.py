"""The mapping file: what it maps, and one clear error for each kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from idleshare.errors import ConfigError
from ingest.sparkplug import mapping
from ingest.sparkplug.mapping import MetricMap

GOOD = """
tenant = "acme"

[[asset]]
group = "Plant 1"
edge_node = "Line 3"
device = "Press 7"
id = "press-7"
kind = "machine"
capacity = 1
name = "Press 7"

[asset.metrics]
"Status/Running" = "running"
"Power" = { metric = "power", scale = 0.001 }

[[asset]]
group = "Plant 1"
edge_node = "Line 3"
tenant = "other"
id = "bay-1"
kind = "warehouse_zone"
capacity = 40.0
unit = "pallet"
metrics = { "Occupied" = "occupied" }
"""


def test_assets_by_group_edge_node_and_device_with_their_metrics() -> None:
    m = mapping.parse(GOOD)
    press = m.asset("Plant 1", "Line 3", "Press 7")
    assert press is not None
    assert (press.asset.tenant, press.asset.id, press.asset.kind) == ("acme", "press-7", "machine")
    assert press.asset.unit == "machine"  # the kind's default unit
    assert press.metrics == {"Status/Running": MetricMap("running"),
                             "Power": MetricMap("power", 0.001)}
    bay = m.asset("Plant 1", "Line 3")  # the edge node's own metrics
    assert bay is not None and bay.asset.tenant == "other"
    assert press.agent == bay.agent == "spb.Plant_1.Line_3"
    assert {a.asset.id for a in m.node_assets("Plant 1", "Line 3")} == {"press-7", "bay-1"}
    assert m.asset("Plant 1", "Line 4") is None and m.node_assets("Plant 2", "Line 3") == []


def test_a_missing_file_is_one_line_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"mapping file .*nope.toml: No such file"):
        mapping.load(tmp_path / "nope.toml")


@pytest.mark.parametrize(("text", "error"), [
    ("tenant = = 1\n", r"plant.toml: not valid TOML: .*line 1"),
    ('tenant = "a"\n', r"asset: Field required"),
    (GOOD.replace('kind = "machine"', 'kind = "robot"'), r"asset 1 .*unknown asset kind 'robot'"),
    (GOOD.replace('"running"', '"speed"'), r"'speed', which a machine does not have"),
    (GOOD.replace('tenant = "acme"', ""), r"asset 1 .*no tenant"),
    (GOOD.replace("capacity = 1\n", "capacity = 0\n"), r"capacity of asset 'press-7' must be > 0"),
    (GOOD.replace('id = "bay-1"', 'id = "bay 1"'), r"asset id must be"),
    (GOOD.replace('name = "Press 7"', 'colour = "red"'), r"asset.0.colour: Extra inputs"),
    (GOOD.replace('device = "Press 7"\n', ""), r"asset 2 .*mapped twice"),
    (GOOD.replace('id = "bay-1"', 'id = "press-7"').replace('tenant = "other"', ""),
     r"asset acme/press-7 is mapped twice"),
    (GOOD.replace('tenant = "other"', 'agent = "line-3"'), r"agent 'line-3', but another"),
])
def test_each_mistake_is_a_config_error_naming_the_entry(text: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        mapping.parse(text, "plant.toml")


def test_two_edge_nodes_may_not_share_an_agent() -> None:
    # "Line 3" and "Line_3" come out as the same agent id.
    text = GOOD + """
[[asset]]
group = "Plant 1"
edge_node = "Line_3"
id = "press-8"
kind = "machine"
capacity = 1
metrics = { "Running" = "running" }
"""
    with pytest.raises(ConfigError, match=r"both have agent 'spb.Plant_1.Line_3': set `agent`"):
        mapping.parse(text)
    assert mapping.parse(text.replace('id = "press-8"', 'id = "press-8"\nagent = "line-3b"'))
