"""Source plug-ins by name: one line per source (see :mod:`edge_agent.sources.base`)."""

from __future__ import annotations

from edge_agent.sources.base import Source
from edge_agent.sources.command import CommandSource
from edge_agent.sources.file import FileSource
from edge_agent.sources.gpio import GpioSource
from edge_agent.sources.replay import ReplaySource
from edge_agent.sources.simulator import SimulatorSource

SOURCES: dict[str, type[Source]] = {
    "simulator": SimulatorSource,
    "replay": ReplaySource,
    "command": CommandSource,
    "file": FileSource,
    "gpio": GpioSource,
}

__all__ = ["SOURCES", "CommandSource", "FileSource", "GpioSource", "ReplaySource",
           "SimulatorSource", "Source"]
