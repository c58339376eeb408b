"""The TOML config: good files parse, bad keys and values are refused by name."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from edge_agent.config import AgentConfig, load, parse
from edge_agent.sources.replay import ReplaySettings
from edge_agent.sources.simulator import SimulatorSettings
from idleshare.errors import ConfigError

MINIMAL = """
[agent]
id = "gw-1"
tenant = "acme"
[[assets]]
id = "zone-a"
kind = "warehouse_zone"
capacity = 400
"""


def _parse(extra: str, base: str = MINIMAL) -> AgentConfig:
    return parse(base + extra)


def test_minimal_config_takes_defaults() -> None:
    cfg = _parse("")
    assert cfg.mqtt.port == 1883 and cfg.mqtt.qos == 1 and not cfg.mqtt.tls
    assert cfg.buffer.max_pack == 50
    assert cfg.clock.speed == 1.0 and cfg.clock.start == "now"
    asset = cfg.assets[0]
    assert asset.unit == "pallet"  # the kind's default unit
    assert asset.source == "simulator" and isinstance(asset.settings, SimulatorSettings)
    assert asset.interval_s == 300.0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[mqtt]\nqos = 3\n", "mqtt.qos must be 0, 1 or 2: got 3"),
        ("[mqtt]\nurl = 'http://x'\n", "mqtt.url must start with mqtt:// or mqtts://"),
        ("[mqtt]\nkeepalive_s = 'ten'\n", "mqtt.keepalive_s must be an integer: got 'ten'"),
        ("[mqtt]\nca_file = 'ca.pem'\n", "mqtt.ca_file needs an mqtts:// url"),
        ("[mqtt]\nurl = 'mqtts://h'\nca_file = 'missing.pem'\n",
         "mqtt.ca_file is not a readable file"),
        ("[mqtt]\npassword = 'x'\n", "mqtt.username is required when a password is set"),
        ("[buffer]\nmax_pack = 0\n", "buffer.max_pack must be within 1..1000: got 0"),
        ("[clock]\nspeed = 0\n", "clock.speed must be > 0: got 0"),
        ("[clock]\nstart = 'yesterday'\n", "clock.start must be 'now', an ISO time"),
        ("[clock]\nsped = 2.0\n", "clock.sped is not a known key"),
        ("[telemetry]\n", "telemetry is not a known section"),
    ],
)
def test_bad_sections_are_refused_naming_the_key(extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        _parse(extra)
    assert str(err.value).startswith(message)


REPLAY = "[assets.replay]\nfile = 'x.csv'\nvalues = { occupied = 'Occ' }\n"


@pytest.mark.parametrize(
    ("keys", "section", "message"),
    [
        ({"capacity": "0"}, "", "assets[1].capacity must be > 0: got 0.0"),
        ({"kind": "'spaceship'"}, "", "assets[1].kind must be one of"),
        ({"lat": "95.0"}, "", "assets[1].lat must be within -90..90: got 95.0"),
        ({"interval_s": "0"}, "", "assets[1].interval_s must be >= 1"),
        ({"id": "'no spaces'"}, "", "assets[1].id must be 1-64 characters"),
        ({"source": "'telepathy'"}, "",
         "assets[1].source must be one of ['command', 'file', 'gpio', 'replay',"),
        ({"colour": "'red'"}, "", "assets[1].colour is not a known key"),
        ({"capacity": "true"}, "", "assets[1].capacity must be a number: got True"),
        ({}, "[assets.simulator]\nnoise = 2.0", "assets[1].simulator.noise must be within 0..0.5"),
        ({}, "[assets.simulator]\ntimezone = 'Mars/Olympus'",
         "assets[1].simulator.timezone must be an IANA zone name"),
        ({}, REPLAY, "assets[1].replay is a section for source 'replay'"),
        ({"source": "'replay'"}, "[assets.replay]\nvalues = { occupied = 'Occ' }",
         "assets[1].replay.file is required"),
        ({"source": "'replay'"}, REPLAY + "align = 'sideways'",
         "assets[1].replay.align must be one of"),
        ({"source": "'replay'"}, REPLAY + "scale = { power = 4 }",
         "assets[1].replay.scale.power names no metric of values"),
    ],
)
def test_bad_assets_are_refused_naming_the_key(
    keys: dict[str, str], section: str, message: str
) -> None:
    table = {"id": "'z2'", "kind": "'warehouse_zone'", "capacity": "10"} | keys
    text = MINIMAL + "[[assets]]\n" + "".join(f"{k} = {v}\n" for k, v in table.items()) + section
    with pytest.raises(ConfigError) as err:
        parse(text)
    assert str(err.value).startswith(message)


def test_repeated_asset_id_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"assets\[1\].id repeats assets\[0\].id"):
        _parse("[[assets]]\nid = 'zone-a'\nkind = 'machine'\ncapacity = 1\n")


def test_missing_agent_and_assets_are_refused() -> None:
    with pytest.raises(ConfigError, match="agent is required"):
        parse("[[assets]]\nid = 'a'\nkind = 'machine'\ncapacity = 1\n")
    with pytest.raises(ConfigError, match="assets must list at least one"):
        parse("[agent]\nid = 'gw'\ntenant = 't'\n")
    with pytest.raises(ConfigError, match=r"agent\.tenant is required"):
        parse("[agent]\nid = 'gw'\n")


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text("[agent\n")
    with pytest.raises(ConfigError, match=r"agent.toml is not valid TOML"):
        load(path)


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "agent.toml"
    path.parent.mkdir()
    path.write_text(MINIMAL.replace("[[assets]]", "[buffer]\npath = 'outbox.db'\n[[assets]]")
                    + "source = 'replay'\n[assets.replay]\nfile = '../data.csv'\n"
                    "values = { occupied = 'Occupancy' }\n")
    cfg = load(path)
    assert cfg.buffer.path == str(path.parent / "outbox.db")
    settings = cfg.assets[0].settings
    assert isinstance(settings, ReplaySettings)
    assert settings.file == str(path.parent / ".." / "data.csv")


def test_mqtts_url_defaults_to_port_8883() -> None:
    cfg = _parse("[mqtt]\nurl = 'mqtts://broker.example.com'\n")
    assert cfg.mqtt.tls and cfg.mqtt.port == 8883 and cfg.mqtt.host == "broker.example.com"


def test_every_shipped_sample_parses() -> None:
    samples = [p for p in resources.files("edge_agent").joinpath("samples").iterdir()
               if p.name.endswith(".toml")]
    assert len(samples) >= 3
    for sample in samples:
        cfg = load(Path(str(sample)))
        assert cfg.assets, sample.name


CONTAINER = MINIMAL + "[[assets]]\nid = 'bin-1'\nkind = 'container'\ncapacity = 20\n"


def test_a_containers_material_is_read_in_its_normal_form_and_announced_in_the_birth() -> None:
    cfg = parse(CONTAINER + "material = { code = '10 02 02', description = 'unprocessed slag', "
                "density_t_per_m3 = 2 }\n")
    material = cfg.assets[1].material
    assert material is not None
    assert (material.code, material.description, material.hazardous,
            material.density_t_per_m3) == ("100202", "unprocessed slag", False, 2.0)
    assert cfg.assets[1].announced("acme")["material"] == {
        "code": "10 02 02", "description": "unprocessed slag", "hazardous": False,
        "density_t_per_m3": 2.0}
    # An asset without one announces none; a starred code is hazardous.
    assert cfg.assets[0].material is None and "material" not in cfg.assets[0].announced("acme")
    starred = parse(CONTAINER + "material = { code = '10 02 07*', description = 'dust' }\n")
    assert starred.assets[1].material is not None and starred.assets[1].material.hazardous


@pytest.mark.parametrize(
    ("material", "message"),
    [
        ("{ code = '03 01', description = 'saw' }", "assets[1].material.code: an EWC code has 6"),
        ("{ code = '99 01 05', description = 'saw' }",
         "assets[1].material.code: an EWC code must start with an EWC chapter 01-20"),
        ("{ description = 'saw' }", "assets[1].material.code: a material needs its EWC code"),
        ("{ code = '03 01 05' }", "assets[1].material.description: a material needs a"),
        ("{ code = '03 01 05', description = 'saw', hazardous = 'no' }",
         "assets[1].material.hazardous: hazardous must be true or false: got 'no'"),
        ("{ code = '10 02 07*', description = 'dust', hazardous = false }",
         "assets[1].material.hazardous: code '10 02 07*' is starred as hazardous"),
        ("{ code = '03 01 05', description = 'saw', density_t_per_m3 = 0 }",
         "assets[1].material.density_t_per_m3: density_t_per_m3 must be a number in"),
        ("{ code = '03 01 05', description = 'saw', colour = 'red' }",
         "assets[1].material.colour: 'colour' is not a key of a material"),
        ("'03 01 05'", "assets[1].material: a material is an object of"),
    ],
)
def test_a_bad_material_is_refused_naming_the_key(material: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(f"{CONTAINER}material = {material}\n")
    assert str(err.value).startswith(message)


def test_only_a_container_may_declare_a_material() -> None:
    with pytest.raises(ConfigError) as err:
        parse(MINIMAL.replace("capacity = 400", "capacity = 400\nmaterial = { code = '03 01 05', "
                              "description = 'sawdust' }"))
    assert str(err.value) == ("assets[0].material is only for a container: this asset is a "
                              "warehouse_zone")
