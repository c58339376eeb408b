"""``command``: run a command at every sample and read a number from what it prints.

Emits one metric (``metric``, default the kind's primary metric) in the kind's unit: the first
number of the command's standard output (or the group of ``pattern``), times ``scale`` plus
``offset``, clamped to the metric's bounds unless ``clamp = false``. A command that fails, times
out or prints no number is a read error: logged and counted, the agent goes on.

Sample (``edge_agent/samples/command.toml``)::

    [assets.command]
    argv = ["vcgencmd", "measure_temp"]   # no shell: the program and its arguments
    pattern = "temp=([0-9.]+)"
    timeout_s = 5
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from typing import ClassVar

from edge_agent.sources.reading import check_metric, compile_pattern, measurement, parse_value
from idleshare.assets import Asset
from idleshare.errors import ConfigError
from idleshare.wire import Measurement


@dataclass(frozen=True)
class CommandSettings:
    #: The program and its arguments (no shell).
    argv: tuple[str, ...] = ()
    #: Metric it measures; the asset kind's primary metric when empty.
    metric: str = ""
    #: Regular expression with one group around the number; the first number when empty.
    pattern: str = ""
    scale: float = 1.0
    offset: float = 0.0
    timeout_s: float = 10.0
    clamp: bool = True

    def __post_init__(self) -> None:
        if not self.argv:
            raise ConfigError("argv is required: the program and its arguments, as an array")
        if not 0 < self.timeout_s <= 600:
            raise ConfigError(f"timeout_s must be within 0..600: got {self.timeout_s}")
        compile_pattern(self.pattern)


class CommandSource:
    settings_type: ClassVar[type[CommandSettings]] = CommandSettings
    #: A read may take long (up to its timeout): the agent gives this asset its own thread.
    blocking: ClassVar[bool] = True

    def __init__(self, settings: CommandSettings, asset: Asset, start: float) -> None:
        self.settings, self.asset = settings, asset
        self.metric = check_metric(asset, settings.metric)
        self._pattern = compile_pattern(settings.pattern)
        if shutil.which(settings.argv[0]) is None:
            raise ConfigError(f"argv[0] is not an executable program: got {settings.argv[0]!r}")

    def read(self, t: float) -> list[Measurement]:
        s = self.settings
        try:
            done = subprocess.run(list(s.argv), capture_output=True, text=True,
                                  timeout=s.timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{s.argv[0]} took longer than {s.timeout_s} s") from None
        if done.returncode != 0:
            raise RuntimeError(f"{s.argv[0]} exited with {done.returncode}: "
                               f"{done.stderr.strip()[:200]}")
        value = parse_value(done.stdout, self._pattern, s.scale, s.offset)
        return [measurement(self.asset, self.metric, value, t, s.clamp)]
