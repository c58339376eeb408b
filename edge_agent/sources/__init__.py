"""Source plug-ins by name: one line per source (see :mod:`edge_agent.sources.base`)."""

from __future__ import annotations

from edge_agent.sources.base import Source
from edge_agent.sources.command import CommandSource
from edge_agent.sources.file import FileSource
from edge_agent.sources.gpio import GpioSource
from edge_agent.sources.replay import ReplaySource
from edge_agent.sources.simulator import SimulatorSource
from edge_agent.sources.truck_sim import TruckSimSource

SOURCES: dict[str, type[Source]] = {
    "simulator": SimulatorSource,
    "replay": ReplaySource,
    "command": CommandSource,
    "file": FileSource,
    "gpio": GpioSource,
    "truck_sim": TruckSimSource,
}

__all__ = ["SOURCES", "CommandSource", "FileSource", "GpioSource", "ReplaySource",
           "SimulatorSource", "Source", "TruckSimSource"]
