"""``idleshare analytics``: idle windows and offers, once or on a schedule, alone or as one of
several workers sharing each pass (``--worker-id``)."""

from __future__ import annotations

from typing import Annotated

import typer

from shell.options import DataDir, InfluxUrl, settings, stop_event

WorkerId = Annotated[str | None, typer.Option(
    envvar="IDLESHARE_ANALYTICS_WORKER_ID",
    help="run as one of several analytics workers on one catalog (a unique id per worker): "
         "each pass is split among the live workers through leases in the catalog")]


def register(app: typer.Typer) -> None:
    @app.command()
    def analytics(
        once: Annotated[bool, typer.Option(help="run one pass and exit")] = False,
        worker_id: WorkerId = None,
        influx_url: InfluxUrl = None,
        data_dir: DataDir = None,
    ) -> None:
        """Compute idle windows and offers, once or on a schedule."""
        from analytics.runner import run_forever, run_once
        from analytics.workers import run_pass, run_worker
        from shell.stores import open_reading_store
        from storage.catalog import Catalog

        s = settings(influx_url=influx_url, data_dir=data_dir, analytics_worker_id=worker_id)
        store, catalog = open_reading_store(s), Catalog(s.catalog)
        wid, interval, lease = s.analytics_worker_id, s.analytics_interval_s, s.analytics_lease_s
        try:
            if once and wid:
                typer.echo(str(run_pass(catalog, store, wid, interval, lease)))
            elif once:
                typer.echo(str(run_once(catalog, store)))
            elif wid:
                run_worker(catalog, store, wid, interval, lease, stop_event())
            else:
                run_forever(catalog, store, interval, stop_event())
        finally:
            store.close()
            catalog.close()
