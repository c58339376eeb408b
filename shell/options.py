"""Helpers shared by the typer commands of every package (``<package>/cli.py``)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from idleshare.errors import IdleshareError
from shell.settings import Settings, load_settings

MqttUrl = Annotated[str | None, typer.Option(envvar="IDLESHARE_MQTT_URL",
                                             help="mqtt://host:port of a real broker")]
InfluxUrl = Annotated[str | None, typer.Option(envvar="IDLESHARE_INFLUX_URL",
                                               help="http://host:8086 of a real InfluxDB")]
DataDir = Annotated[Path | None, typer.Option(help="where embedded databases live")]


def settings(**overrides: object) -> Settings:
    """Settings from the environment and options, or a clear error and exit code 2."""
    try:
        return load_settings(**overrides)
    except IdleshareError as err:
        fail(str(err), 2)
        raise  # unreachable: fail() exits


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def stop_event() -> threading.Event:
    """An event set by SIGINT or SIGTERM, for commands that run until stopped."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop
