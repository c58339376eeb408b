"""Server-side subcommands of ``idleshare`` (typer). Each one is a thin wrapper around a
component's own ``run`` function."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from idleshare.errors import IdleshareError
from idleshare.settings import Settings, load_settings

app = typer.Typer(help="idleshare: idle capacity of physical assets, as offers.",
                  no_args_is_help=True, add_completion=False)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

MqttUrl = Annotated[str | None, typer.Option(envvar="IDLESHARE_MQTT_URL",
                                             help="mqtt://host:port of a real broker")]
InfluxUrl = Annotated[str | None, typer.Option(envvar="IDLESHARE_INFLUX_URL",
                                               help="http://host:8086 of a real InfluxDB")]
DataDir = Annotated[Path | None, typer.Option(help="where embedded databases live")]


@app.callback()
def _logging(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except IdleshareError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err


def _stop_event() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


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

    settings = _settings(mqtt_url=mqtt_url, influx_url=influx_url, data_dir=data_dir)
    try:
        Demo(settings, port=port, host=host, n_assets=assets, speed=speed,
             fresh_data_dir=data_dir is None).run(_stop_event())
    except IdleshareError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from err


@app.command()
def ingest(mqtt_url: MqttUrl = None, influx_url: InfluxUrl = None,
           data_dir: DataDir = None) -> None:
    """Subscribe to the broker and store every valid reading."""
    from ingest.service import run

    settings = _settings(mqtt_url=mqtt_url, influx_url=influx_url, data_dir=data_dir)
    if not settings.mqtt_url:
        typer.echo("error: ingest needs a broker: set --mqtt-url or IDLESHARE_MQTT_URL", err=True)
        raise typer.Exit(2)
    run(settings, _stop_event())


@app.command()
def analytics(
    once: Annotated[bool, typer.Option(help="run one pass and exit")] = False,
    influx_url: InfluxUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Compute idle windows and offers, once or on a schedule."""
    from analytics.runner import run_forever, run_once
    from storage.catalog import Catalog
    from storage.factory import open_reading_store

    settings = _settings(influx_url=influx_url, data_dir=data_dir)
    store, catalog = open_reading_store(settings), Catalog(settings.catalog)
    try:
        if once:
            typer.echo(str(run_once(catalog, store)))
        else:
            run_forever(catalog, store, settings.analytics_interval_s, _stop_event())
    finally:
        store.close()
        catalog.close()


@app.command()
def api(
    port: Annotated[int, typer.Option()] = 8000,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    influx_url: InfluxUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Serve the HTTP API and the web page."""
    import uvicorn

    from api.main import create_app
    from storage.catalog import Catalog
    from storage.factory import open_reading_store

    settings = _settings(influx_url=influx_url, data_dir=data_dir)
    store, catalog = open_reading_store(settings), Catalog(settings.catalog)
    try:
        uvicorn.run(create_app(catalog, store), host=host, port=port, log_level="info")
    finally:
        store.close()
        catalog.close()


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="tenant (company) id")],
    role: Annotated[str, typer.Option(help="owner, viewer or platform")] = "owner",
    name: Annotated[str, typer.Option(help="what the key is for")] = "",
    data_dir: DataDir = None,
) -> None:
    """Create an API key; it is shown once, only its hash is stored."""
    from idleshare.assets import check_id
    from storage.catalog import Catalog

    if role not in ("owner", "viewer", "platform"):
        typer.echo(f"error: role must be owner, viewer or platform: got {role!r}", err=True)
        raise typer.Exit(2)
    try:
        check_id("tenant", tenant)
    except IdleshareError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    settings = _settings(data_dir=data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(settings.catalog)
    typer.echo(f"API key: {catalog.create_key(tenant, role=role, name=name)}")
    catalog.close()
