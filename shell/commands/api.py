"""``idleshare api``, ``idleshare keys``, ``idleshare tenants`` and ``idleshare devices``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from idleshare.errors import IdleshareError
from shell.options import DataDir, InfluxUrl, fail, settings
from shell.settings import Settings

ROLES = ("owner", "viewer", "platform")

MetricsPort = Annotated[int, typer.Option(
    min=0, max=65535, envvar="IDLESHARE_API_METRICS_PORT",
    help="serve Prometheus metrics on this port (0 = off)")]
MetricsHost = Annotated[str, typer.Option(
    envvar="IDLESHARE_API_METRICS_HOST",
    help="... on this address: loopback unless opened for a scraper on another host")]


def register(app: typer.Typer) -> None:
    keys = typer.Typer(help="Manage API keys.", no_args_is_help=True)
    app.add_typer(keys, name="keys")
    tenants = typer.Typer(help="Manage tenants and groups.", no_args_is_help=True)
    app.add_typer(tenants, name="tenants")
    devices = typer.Typer(help="Provision broker credentials for agents.", no_args_is_help=True)
    app.add_typer(devices, name="devices")
    _register_more(tenants, devices)

    @app.command()
    def api(
        port: Annotated[int, typer.Option()] = 8000,
        host: Annotated[str, typer.Option()] = "127.0.0.1",
        workers: Annotated[
            int, typer.Option(min=1, help="server processes (SQLite: reads in parallel)")
        ] = 1,
        influx_url: InfluxUrl = None,
        data_dir: DataDir = None,
        metrics_port: MetricsPort = 0,
        metrics_host: MetricsHost = "127.0.0.1",
    ) -> None:
        """Serve the HTTP API and the web page."""
        from shell import logs
        from shell.stores import make_data_dir

        s = settings(influx_url=influx_url, data_dir=data_dir)
        try:
            make_data_dir(s)
            logs.setup()
        except IdleshareError as err:
            fail(str(err), 2)
        metrics = (metrics_host, metrics_port) if metrics_port else None
        if workers == 1:
            serve_one(s, host, port, metrics)
        else:
            serve_workers(s, host, port, workers, metrics)

    @keys.command("create")
    def keys_create(
        tenant: Annotated[str, typer.Option(help="tenant (company) id")],
        role: Annotated[str, typer.Option(help="owner, viewer or platform")] = "owner",
        name: Annotated[str, typer.Option(help="what the key is for")] = "",
        expires_in: Annotated[
            str | None, typer.Option(help="the key stops working after this: 3600, 90m, 12h, 90d")
        ] = None,
        data_dir: DataDir = None,
    ) -> None:
        """Create an API key; it is shown once, only its hash is stored."""
        import time

        from idleshare.assets import check_id
        from market import keys
        from market.caller import Caller
        from storage.catalog import Catalog

        if role not in ROLES:
            fail(f"role must be one of {', '.join(ROLES)}: got {role!r}", 2)
        try:
            check_id("tenant", tenant)
        except IdleshareError as err:
            fail(str(err), 2)
        lifetime = None if expires_in is None else duration_s(expires_in)
        s = settings(data_dir=data_dir)
        s.data_dir.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(s.catalog)
        now = time.time()
        operator = Caller(tenant_id=tenant, role="owner", key_id=None)  # audited as the CLI's
        expires_at = None if lifetime is None else now + lifetime
        _row, key = keys.create(catalog, operator, role, name, expires_at, now)
        typer.echo(f"API key: {key}")
        catalog.close()


def _register_more(tenants: typer.Typer, devices: typer.Typer) -> None:
    @tenants.command("group")
    def tenants_group(
        group: Annotated[str, typer.Option(help="group id")],
        tenant: Annotated[list[str], typer.Option(help="member tenant id (repeat)")],
        data_dir: DataDir = None,
    ) -> None:
        """Put tenants in a group: members see each other's group and partner offers."""
        from idleshare.assets import check_id
        from storage.catalog import Catalog

        try:
            check_id("group", group)
            for t in tenant:
                check_id("tenant", t)
        except IdleshareError as err:
            fail(str(err), 2)
        s = settings(data_dir=data_dir)
        s.data_dir.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(s.catalog)
        catalog.add_to_group(group, tenant)
        catalog.close()
        typer.echo(f"group {group}: {', '.join(tenant)}")

    @devices.command("add")
    def devices_add(
        tenant: Annotated[str, typer.Option(help="tenant id")],
        device: Annotated[str, typer.Option(help="device (agent) id")],
        password_file: Annotated[Path, typer.Option(help="Mosquitto password_file")],
        acl_file: Annotated[Path, typer.Option(help="Mosquitto acl_file")],
        asset: Annotated[list[str] | None, typer.Option(help="asset it publishes (repeat)")] = None,
        reader: Annotated[
            bool, typer.Option(help="a read-all service account (ingest) instead of a device")
        ] = False,
        data_dir: DataDir = None,
    ) -> None:
        """Create broker credentials; the password is shown once. Send SIGHUP to Mosquitto
        (systemctl reload mosquitto) to load them."""
        from market.devices import add_device, url_username

        try:
            user, password = add_device(
                password_file, acl_file, tenant, device, asset or [], reader=reader
            )
        except IdleshareError as err:
            fail(str(err), 2)
        _audit_device(data_dir, tenant, device, user, asset or [], reader)
        typer.echo(f"username: {user}\npassword: {password}")
        # '/' must be escaped in a broker URL's user part (IDLESHARE_MQTT_URL for ingest).
        typer.echo(f"in a broker URL: mqtt://{url_username(user)}:<password>@<host>")


def _audit_device(
    data_dir: Path | None, tenant: str, device: str, user: str, assets: list[str], reader: bool
) -> None:
    """The tenant's audit log records the new broker identity (the operator: no key id)."""
    from market import audit
    from storage.catalog import Catalog

    s = settings(data_dir=data_dir)
    s.data_dir.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(s.catalog)
    catalog.ensure_tenant(tenant)
    with catalog.session() as session:
        audit.record(session, tenant, None, "device.added", device,
                     {"user": user, "assets": assets, "reader": reader})
    catalog.close()


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def duration_s(text: str) -> float:
    """``3600``, ``90m``, ``12h``, ``90d`` -> seconds; a bad one fails the command."""
    import math

    unit = _UNITS.get(text[-1:].lower(), 0.0)
    number = text[:-1] if unit else text
    try:
        seconds = float(number) * (unit or 1.0)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        fail(f"--expires-in must be a positive duration (3600, 90m, 12h, 90d): got {text!r}", 2)
    return seconds


def serve_one(s: Settings, host: str, port: int,
              metrics: tuple[str, int] | None = None) -> None:
    """One server process; ``metrics``: the (address, port) to serve its metrics on."""
    import uvicorn

    from api import metrics as api_metrics
    from api.main import create_app
    from shell import logs
    from shell.stores import open_stores

    with open_stores(s) as (store, catalog):
        app = create_app(catalog, store)
        if metrics:
            registry = api_metrics.scrape_registry(app.state.metrics_registry)
            api_metrics.serve(registry, metrics[1], metrics[0])
        uvicorn.run(app, host=host, port=port, log_level="info",
                    log_config=logs.uvicorn_log_config())


def serve_workers(s: Settings, host: str, port: int, workers: int,
                  metrics: tuple[str, int] | None = None) -> None:
    """``workers`` server processes (:mod:`shell.workers`), each with its own stores, and here,
    in the parent, the threads that deliver webhooks (and expire holds) and check alert rules:
    one per worker would deliver every event several times; and, with ``metrics`` (address,
    port), the metrics of every worker summed (prometheus-client's multiprocess mode)."""
    import os

    from market.alerts import AlertsThread
    from market.outbound import OutboundPolicy
    from market.webhooks import Dispatcher, DispatcherThread
    from shell import workers as pool
    from shell.stores import open_stores

    # The workers are new interpreters: they read the options as settings from the environment.
    os.environ["IDLESHARE_DATA_DIR"] = str(s.data_dir)
    if s.influx_url:
        os.environ["IDLESHARE_INFLUX_URL"] = s.influx_url
    cleanup = _multiprocess_metrics(metrics) if metrics else None
    outbound = OutboundPolicy.from_env()
    with open_stores(s) as (store, catalog):
        # Alerts take the catalog's lease for each pass: one pass at a time across hosts too.
        threads = (DispatcherThread(Dispatcher(catalog, outbound), 1.0),
                   AlertsThread(catalog, store, outbound.post, 1.0))
        for thread in threads:
            thread.start()
        try:
            pool.serve(host, port, workers)
        except RuntimeError as err:
            fail(str(err))
        finally:
            for thread in threads:
                thread.stop()
            if cleanup:
                cleanup()


def _multiprocess_metrics(metrics: tuple[str, int]) -> Callable[[], None]:
    """Point the workers at a metrics directory (``PROMETHEUS_MULTIPROC_DIR`` if the operator
    set one, else a new temporary one), emptied first as prometheus-client requires: files
    left by an earlier run would be counted again. Serves the sum of its files from here, and
    returns what removes the temporary directory at the end."""
    import os
    import shutil
    import tempfile

    from api import metrics as api_metrics

    given = os.environ.get(api_metrics.MULTIPROC_ENV)
    directory = Path(given or tempfile.mkdtemp(prefix="idleshare-api-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.db"):
        old.unlink()
    os.environ[api_metrics.MULTIPROC_ENV] = str(directory)  # inherited by the workers
    api_metrics.serve(api_metrics.scrape_registry(), metrics[1], metrics[0])
    return (lambda: None) if given else (lambda: shutil.rmtree(directory, ignore_errors=True))
