"""The one-value sources: ``command``, ``file`` and ``gpio`` (gpiozero faked: no Pi here)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from edge_agent.sources.command import CommandSettings, CommandSource
from edge_agent.sources.file import FileSettings, FileSource
from edge_agent.sources.gpio import GpioSettings, GpioSource
from edge_agent.sources.replay import ReplaySettings, ReplaySource
from idleshare.assets import Asset
from idleshare.errors import ConfigError
from idleshare.wire import Measurement

BIN = Asset(id="bin-1", tenant="t", kind="container", capacity=30, unit="m3")
PRESS = Asset(id="press-1", tenant="t", kind="machine", capacity=1, unit="machine")
DOOR = Asset(id="door-1", tenant="t", kind="equipment", capacity=1, unit="unit")


def test_command_reads_the_number_its_pattern_finds() -> None:
    source = CommandSource(CommandSettings(argv=("echo", "temp=41.5'C load 7"),
                                           pattern=r"load (\d+)", scale=2.0, offset=1.0),
                           BIN, 0.0)
    assert source.read(60.0) == [Measurement("fill", 15.0, 60.0, "m3")]


def test_command_clamps_to_the_metric_bounds_and_defaults_to_the_first_number() -> None:
    source = CommandSource(CommandSettings(argv=("echo", "power 1e9 kW"), metric="power"),
                           PRESS, 0.0)
    assert source.read(1.0) == [Measurement("power", 1e6, 1.0, "kW")]


def test_command_failures_raise_so_the_agent_counts_them() -> None:
    with pytest.raises(RuntimeError, match="exited with 1"):
        CommandSource(CommandSettings(argv=("false",)), BIN, 0.0).read(1.0)
    with pytest.raises(ValueError, match="no number"):
        CommandSource(CommandSettings(argv=("echo", "n/a")), BIN, 0.0).read(1.0)
    with pytest.raises(RuntimeError, match=r"took longer than 0\.2 s"):
        CommandSource(CommandSettings(argv=("sleep", "5"), timeout_s=0.2), BIN, 0.0).read(1.0)


def test_command_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^argv\[0\] is not an executable program"):
        CommandSource(CommandSettings(argv=("no-such-program-here",)), BIN, 0.0)
    with pytest.raises(ConfigError, match=r"^pattern must have exactly one group"):
        CommandSettings(argv=("echo",), pattern=r"\d+")
    with pytest.raises(ConfigError, match=r"^metric must name a metric of kind container"):
        CommandSource(CommandSettings(argv=("echo",), metric="running"), BIN, 0.0)


def test_file_reads_a_sys_style_value_each_time(tmp_path: Path) -> None:
    path = tmp_path / "temp"
    path.write_text("12500\n")
    source = FileSource(FileSettings(path=str(path), scale=0.001), BIN, 0.0)
    assert source.read(5.0) == [Measurement("fill", 12.5, 5.0, "m3")]
    path.write_text("20000\n")
    assert source.read(6.0)[0].value == 20.0
    path.unlink()
    with pytest.raises(OSError):
        source.read(7.0)


def test_file_missing_at_start_is_refused_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^path cannot be read"):
        FileSource(FileSettings(path=str(tmp_path / "nope")), BIN, 0.0)


def test_gpio_without_gpiozero_is_a_clear_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gpiozero", None)  # import gpiozero raises ImportError
    with pytest.raises(ConfigError, match=r"^pin needs the gpiozero package"):
        GpioSource(GpioSettings(pin=17), DOOR, 0.0)


def test_gpio_reports_the_input_as_0_or_1(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: dict[str, object] = {}

    class FakeInput:
        value = 0

        def __init__(self, pin: object, pull_up: bool, bounce_time: float | None) -> None:
            opened.update(pin=pin, pull_up=pull_up, bounce_time=bounce_time)

    fake = types.ModuleType("gpiozero")
    fake.DigitalInputDevice = FakeInput  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gpiozero", fake)
    source = GpioSource(GpioSettings(pin=17, pull_up=True, bounce_s=0.05), DOOR, 0.0)
    assert opened == {"pin": 17, "pull_up": True, "bounce_time": 0.05}
    assert source.read(1.0) == [Measurement("in_use", 0.0, 1.0, "/")]
    FakeInput.value = 1
    assert source.read(2.0)[0].value == 1.0
    inverted = GpioSource(GpioSettings(pin=17, invert=True), DOOR, 0.0)
    assert inverted.read(3.0)[0].value == 0.0


def test_gpio_pin_must_be_given_once() -> None:
    with pytest.raises(ConfigError, match=r"^pin must be set"):
        GpioSettings()
    with pytest.raises(ConfigError, match=r"^pin must be within 0..27"):
        GpioSettings(pin=40)


def test_replay_speed_compresses_the_files_time(tmp_path: Path) -> None:
    csv = tmp_path / "z.csv"
    csv.write_text("time,occ\n" + "".join(f"{1000 + 600 * i},{i}\n" for i in range(5)))
    settings = ReplaySettings(file=str(csv), time_format="epoch", values={"occupied": "occ"},
                              align="clock_start", speed=60.0)
    zone = Asset(id="z", tenant="t", kind="warehouse_zone", capacity=10, unit="pallet")
    source = ReplaySource(settings, zone, 50_000.0)
    assert [m.time for m in source.read(50_040.0)] == [50_000.0, 50_010.0, 50_020.0,
                                                       50_030.0, 50_040.0]
    with pytest.raises(ConfigError, match=r"^speed needs align = 'clock_start'"):
        ReplaySettings(file="x.csv", values={"occupied": "occ"}, speed=2.0)
