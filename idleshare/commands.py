"""Server-side subcommands of ``idleshare`` (typer), gathered from each package's ``cli.py``.

Each package registers its own commands (``register(app, bench)``), so a component's command
lives next to its code; ``bench`` groups the benchmarks (``idleshare bench ingest`` ...).
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

import analytics.cli
import api.cli
import ingest.cli
from idleshare.cliutil import DataDir, InfluxUrl, MqttUrl, fail, settings, stop_event
from idleshare.errors import IdleshareError

app = typer.Typer(help="idleshare: idle capacity of physical assets, as offers.",
                  no_args_is_help=True, add_completion=False)
bench = typer.Typer(help="Benchmarks: print figures measured on this machine.",
                    no_args_is_help=True)
app.add_typer(bench, name="bench")


@app.callback()
def _logging(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="API port")] = 8000,
    host: Annotated[str, typer.Option(help="API address")] = "127.0.0.1",
    assets: Annotated[int, typer.Option(help="simulated assets")] = 60,
    speed: Annotated[float, typer.Option(help="simulated clock speed")] = 60.0,
    mqtt_url: MqttUrl = None,
    influx_url: InfluxUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Run everything on one machine: broker, agents, ingest, analytics and the API."""
    from idleshare.demo import Demo

    s = settings(mqtt_url=mqtt_url, influx_url=influx_url, data_dir=data_dir)
    try:
        Demo(s, port=port, host=host, n_assets=assets, speed=speed,
             fresh_data_dir=data_dir is None).run(stop_event())
    except IdleshareError as err:
        fail(str(err))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             add_help_option=False)
def agent(ctx: typer.Context) -> None:
    """Run or check an edge agent (``idleshare agent --help``)."""
    from edge_agent.cli import main as agent_main

    raise typer.Exit(agent_main(list(ctx.args)))


for package in (ingest.cli, analytics.cli, api.cli):
    package.register(app, bench)
