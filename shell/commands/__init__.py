"""Server-side subcommands of ``idleshare`` (typer): one module per part registers its own
(``register(app)``). Benchmarks are not here: ``python -m bench`` from a checkout."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from idleshare.errors import IdleshareError
from shell.options import DataDir, InfluxUrl, MqttUrl, fail, settings, stop_event

app = typer.Typer(help="idleshare: idle capacity of physical assets, as offers.",
                  no_args_is_help=True, add_completion=False)


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
    from shell.demo import Demo

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


from shell.commands import (  # noqa: E402  (after app exists)
    analytics,
    api,
    influx_source,
    ingest,
    sparkplug,
)

for part in (ingest, analytics, api, influx_source, sparkplug):
    part.register(app)
