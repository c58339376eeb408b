"""``file``: read a number from a file at every sample, e.g. a sensor under ``/sys``.

Emits one metric (``metric``, default the kind's primary metric) in the kind's unit: the first
number in the file (or the group of ``pattern``), times ``scale`` plus ``offset``, clamped to the
metric's bounds unless ``clamp = false``. A missing file or one without a number is a read error:
logged and counted, the agent goes on. The file must exist when the agent starts.

Sample (``edge_agent/samples/file.toml``)::

    [assets.file]
    path = "/sys/class/thermal/thermal_zone0/temp"   # millidegrees
    scale = 0.001
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from edge_agent.fields import PATH
from edge_agent.sources.reading import NumberInTextSource, NumberSettings
from idleshare.assets import Asset
from idleshare.errors import ConfigError

#: Larger files are not sensor values; reading stops there.
MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class FileSettings(NumberSettings):
    #: The file; relative paths are relative to the config file.
    path: str = field(default="", metadata=PATH)

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError("path is required")
        super().__post_init__()


class FileSource(NumberInTextSource[FileSettings]):
    settings_type: ClassVar[type[FileSettings]] = FileSettings

    def __init__(self, settings: FileSettings, asset: Asset, start: float) -> None:
        super().__init__(settings, asset, start)
        try:
            self.read_text()
        except OSError as err:
            raise ConfigError(f"path cannot be read: {err}") from err

    def read_text(self) -> str:
        with open(Path(self.settings.path), encoding="utf-8", errors="replace") as fh:
            return fh.read(MAX_BYTES)
