"""``idleshare import-influx`` as an operator runs it: settings from the environment, one pass
with ``--once``, and a start-up mistake as one line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from storage.sqlite import SqliteReadingStore
from tests.ingest.influx_source.conftest import MODBUS_MAP, TelegrafWriter
from tests.servers import InfluxServer, free_port

# The command on an app of its own: registering it in shell/commands/__init__.py is one line.
CLI = """
import sys, typer
from shell.commands import influx_source
app = typer.Typer(add_completion=False)
app.callback()(lambda: None)
influx_source.register(app)
app(sys.argv[1:], prog_name="idleshare")
"""


def idleshare(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IDLESHARE_DATA_DIR": str(data_dir), "IDLESHARE_INFLUX_URL": "",
           "IDLESHARE_CATALOG_URL": ""}
    return subprocess.run([sys.executable, "-c", CLI, *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_once_imports_a_pass_and_a_second_run_resumes_from_the_cursor(
    influxdb: InfluxServer, telegraf: TelegrafWriter, source_db: str, tenant: str,
    tmp_path: Path,
) -> None:
    t = (int(time.time()) - 60) * 1_000_000_000
    telegraf.write(telegraf.modbus(t, "press", 1, run_state=1, power_w=2200))
    mapping = tmp_path / "modbus.toml"
    mapping.write_text(MODBUS_MAP.format(tenant=tenant))
    data = tmp_path / "new" / "data"
    args = ["import-influx", "--map", str(mapping), "--source-url",
            f"{influxdb.url}/{source_db}", "--once", "--since-hours", "1"]

    done = idleshare(args, data)
    assert done.returncode == 0, done.stderr
    assert "read 1 rows, wrote 2 readings" in done.stdout
    assert (data / "influx-source" / "plant-a-modbus.cursor.json").exists()
    store = SqliteReadingStore(data / "readings.db")
    assert store.query(tenant, "press-1", "power", t / 1e9, t / 1e9 + 1) == [(t / 1e9, 2.2)]
    again = idleshare(args, data)
    assert again.returncode == 0, again.stderr
    assert store.count(tenant) == 2
    store.close()


def test_start_up_mistakes_are_one_line_and_exit_code_2(tmp_path: Path) -> None:
    mapping = tmp_path / "modbus.toml"
    mapping.write_text(MODBUS_MAP.format(tenant="acme"))
    for args, message in [
        (["--map", str(tmp_path / "missing.toml"), "--source-url", "http://h:8086/telegraf"],
         "cannot read the mapping file"),
        (["--map", str(mapping), "--source-url", "h:8086/telegraf"],
         "source URL must be http(s)://host:port/database"),
        (["--map", str(mapping), "--source-url", "http://h:8086"], "must end in /database"),
    ]:
        done = idleshare(["import-influx", *args, "--once"], tmp_path / "data")
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error: ") and message in done.stderr
        assert done.stderr.count("\n") == 1, done.stderr


def test_an_unreachable_source_is_one_line_and_exit_code_1(tmp_path: Path) -> None:
    mapping = tmp_path / "modbus.toml"
    mapping.write_text(MODBUS_MAP.format(tenant="acme"))
    done = idleshare(["import-influx", "--map", str(mapping), "--source-url",
                      f"http://127.0.0.1:{free_port()}/telegraf", "--once"], tmp_path / "data")
    assert done.returncode == 1
    # Above it, the JSON log lines of the run (the catalog's migrations).
    last = done.stderr.splitlines()[-1]
    assert last.startswith("error: InfluxDB at") and "did not answer" in last
    assert "Traceback" not in done.stderr
