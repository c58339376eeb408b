"""``idleshare api`` and ``idleshare keys``."""

from __future__ import annotations

from typing import Annotated

import typer

from idleshare.cliutil import DataDir, InfluxUrl, fail, settings
from idleshare.errors import IdleshareError

ROLES = ("owner", "viewer", "platform")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    keys = typer.Typer(help="Manage API keys.", no_args_is_help=True)
    app.add_typer(keys, name="keys")

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

        s = settings(influx_url=influx_url, data_dir=data_dir)
        s.data_dir.mkdir(parents=True, exist_ok=True)
        store, catalog = open_reading_store(s), Catalog(s.catalog)
        try:
            uvicorn.run(create_app(catalog, store), host=host, port=port, log_level="info")
        finally:
            store.close()
            catalog.close()

    @keys.command("create")
    def keys_create(
        tenant: Annotated[str, typer.Option(help="tenant (company) id")],
        role: Annotated[str, typer.Option(help="owner, viewer or platform")] = "owner",
        name: Annotated[str, typer.Option(help="what the key is for")] = "",
        data_dir: DataDir = None,
    ) -> None:
        """Create an API key; it is shown once, only its hash is stored."""
        from idleshare.assets import check_id
        from storage.catalog import Catalog

        if role not in ROLES:
            fail(f"role must be one of {', '.join(ROLES)}: got {role!r}", 2)
        try:
            check_id("tenant", tenant)
        except IdleshareError as err:
            fail(str(err), 2)
        s = settings(data_dir=data_dir)
        s.data_dir.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(s.catalog)
        typer.echo(f"API key: {catalog.create_key(tenant, role=role, name=name)}")
        catalog.close()
