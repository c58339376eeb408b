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

from edge_agent.sources.reading import NumberInTextSource, NumberSettings
from idleshare.assets import Asset
from idleshare.errors import ConfigError


@dataclass(frozen=True)
class CommandSettings(NumberSettings):
    #: The program and its arguments (no shell).
    argv: tuple[str, ...] = ()
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if not self.argv:
            raise ConfigError("argv is required: the program and its arguments, as an array")
        if not 0 < self.timeout_s <= 600:
            raise ConfigError(f"timeout_s must be within 0..600: got {self.timeout_s}")
        super().__post_init__()


class CommandSource(NumberInTextSource[CommandSettings]):
    settings_type: ClassVar[type[CommandSettings]] = CommandSettings

    def __init__(self, settings: CommandSettings, asset: Asset, start: float) -> None:
        super().__init__(settings, asset, start)
        if shutil.which(settings.argv[0]) is None:
            raise ConfigError(f"argv[0] is not an executable program: got {settings.argv[0]!r}")

    def read_text(self) -> str:
        s = self.settings
        try:
            done = subprocess.run(list(s.argv), capture_output=True, text=True,
                                  timeout=s.timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{s.argv[0]} took longer than {s.timeout_s} s") from None
        if done.returncode != 0:
            raise RuntimeError(f"{s.argv[0]} exited with {done.returncode}: "
                               f"{done.stderr.strip()[:200]}")
        return done.stdout
