"""``idleshare analytics``: idle windows and offers, once or on a schedule."""

from __future__ import annotations

from typing import Annotated

import typer

from shell.options import DataDir, InfluxUrl, settings, stop_event


def register(app: typer.Typer) -> None:
    @app.command()
    def analytics(
        once: Annotated[bool, typer.Option(help="run one pass and exit")] = False,
        influx_url: InfluxUrl = None,
        data_dir: DataDir = None,
    ) -> None:
        """Compute idle windows and offers, once or on a schedule."""
        from analytics.runner import run_forever, run_once
        from shell.stores import open_reading_store
        from storage.catalog import Catalog

        s = settings(influx_url=influx_url, data_dir=data_dir)
        store, catalog = open_reading_store(s), Catalog(s.catalog)
        try:
            if once:
                typer.echo(str(run_once(catalog, store)))
            else:
                run_forever(catalog, store, s.analytics_interval_s, stop_event())
        finally:
            store.close()
            catalog.close()
