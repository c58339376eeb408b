"""``idleshare sparkplug --map FILE``: a start-up mistake is one line and exit code 2; with good
settings it runs the service until stopped."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ingest.sparkplug import mapping
from shell.commands import sparkplug
from shell.settings import load_settings
from storage.catalog import Catalog
from tests.ingest.conftest import connected, wait_for
from tests.ingest.sparkplug.conftest import MAPPING, EdgeNode
from tests.ingest.sparkplug.test_service import born
from tests.servers import MosquittoServer

app = typer.Typer()
app.callback()(lambda: None)  # keep `sparkplug` a subcommand, as in the real app
sparkplug.register(app)


def invoke(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["sparkplug", "--data-dir", str(tmp_path), *args],
                                env={"IDLESHARE_MQTT_URL": "mqtt://127.0.0.1:1"})
    return result.exit_code, result.output


@pytest.mark.parametrize(("text", "message"), [
    (None, r"error: mapping file .*plant.toml: No such file or directory"),
    ("tenant = = 1", r"error: .*plant.toml: not valid TOML: Invalid value"),
    ('tenant = "t"\n[[asset]]\nid = "a"', r"error: .*plant.toml: asset.0.group: Field required"),
])
def test_a_bad_mapping_file_is_one_line(tmp_path: Path, text: str | None, message: str) -> None:
    if text is not None:
        (tmp_path / "plant.toml").write_text(text)
    code, output = invoke(tmp_path, "--map", str(tmp_path / "plant.toml"))
    assert code == 2
    assert len(output.strip().splitlines()) == 1, output
    assert re.match(message, output.strip()), output


@pytest.mark.parametrize(("option", "message"), [
    (["--mqtt-url", "http://broker:1883"], "error: mqtt_url: "),
    (["--influx-url", "influx:8086"], "error: influx_url: influx_url must start with http"),
])
def test_a_bad_url_is_one_line(tmp_path: Path, option: list[str], message: str) -> None:
    (tmp_path / "plant.toml").write_text(MAPPING.format(group="G", tenant="t"))
    code, output = invoke(tmp_path, "--map", str(tmp_path / "plant.toml"), *option)
    assert code == 2 and output.startswith(message) and output.count("\n") == 1, output


@pytest.mark.servers
def test_run_takes_sparkplug_in_until_stopped(tmp_path: Path, mosquitto: MosquittoServer,
                                              group: str, tenant: str) -> None:
    settings = load_settings(mqtt_url=mosquitto.url, influx_url="", data_dir=tmp_path / "var")
    plant = mapping.parse(MAPPING.format(group=group, tenant=tenant))
    stop = threading.Event()
    done: list[bool] = []
    client_id = f"spb-cli-{tenant}"
    runner = threading.Thread(target=lambda: done.append(
        sparkplug.run(settings, plant, stop, client_id=client_id)))
    runner.start()
    edge = EdgeNode(mosquitto, group)
    catalog = Catalog(settings.catalog)

    def registered() -> bool:
        born(edge)  # again until the service, perhaps still subscribing, takes them
        row = catalog.asset(tenant, "press-7")
        return row is not None and bool(row.online)

    try:
        wait_for(registered, timeout_s=30)
    finally:
        catalog.close()
        edge.close()
        stop.set()
        runner.join(30)
        clean = connected(mosquitto, client_id, clean_session=True)  # drop its session
        clean.disconnect()
        clean.loop_stop()
    assert done == [True]
