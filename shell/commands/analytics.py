"""``idleshare analytics``: idle windows and offers, once or on a schedule, alone or as one of
several workers sharing each pass (``--worker-id``)."""

from __future__ import annotations

from typing import Annotated

import typer

from idleshare.errors import IdleshareError
from shell.options import DataDir, InfluxUrl, fail, settings, stop_event

WorkerId = Annotated[str | None, typer.Option(
    envvar="IDLESHARE_ANALYTICS_WORKER_ID",
    help="run as one of several analytics workers on one catalog (a unique id per worker): "
         "each pass is split among the live workers through leases in the catalog")]


MetricsPort = Annotated[int, typer.Option(
    min=0, max=65535, envvar="IDLESHARE_ANALYTICS_METRICS_PORT",
    help="serve Prometheus metrics on this port (0 = off)")]
MetricsHost = Annotated[str, typer.Option(
    envvar="IDLESHARE_ANALYTICS_METRICS_HOST",
    help="... on this address: loopback unless opened for a scraper on another host")]


def register(app: typer.Typer) -> None:
    @app.command()
    def analytics(
        once: Annotated[bool, typer.Option(help="run one pass and exit")] = False,
        worker_id: WorkerId = None,
        influx_url: InfluxUrl = None,
        data_dir: DataDir = None,
        metrics_port: MetricsPort = 0,
        metrics_host: MetricsHost = "127.0.0.1",
    ) -> None:
        """Compute idle windows and offers, once or on a schedule."""
        from analytics import calendars
        from analytics.metrics import AnalyticsMetrics
        from analytics.runner import run_forever, run_once
        from analytics.workers import run_pass, run_worker
        from market.outbound import OutboundPolicy
        from shell import logs
        from shell.stores import make_data_dir, open_stores

        s = settings(influx_url=influx_url, data_dir=data_dir, analytics_worker_id=worker_id)
        try:
            make_data_dir(s)
            logs.setup()
        except IdleshareError as err:
            fail(str(err), 2)
        # Owners' calendar feeds are fetched under the webhooks' outbound policy (no private
        # addresses unless the operator allows them): analytics itself makes no requests.
        calendars.set_feed_fetcher(OutboundPolicy.from_env().fetch)
        metrics = AnalyticsMetrics()
        if metrics_port:
            metrics.serve(metrics_port, metrics_host)
        wid, interval, lease = s.analytics_worker_id, s.analytics_interval_s, s.analytics_lease_s
        with open_stores(s) as (store, catalog):
            if once and wid:
                typer.echo(str(run_pass(catalog, store, wid, interval, lease, metrics=metrics)))
            elif once:
                typer.echo(str(run_once(catalog, store, metrics=metrics)))
            elif wid:
                run_worker(catalog, store, wid, interval, lease, stop_event(), metrics=metrics)
            else:
                run_forever(catalog, store, interval, stop_event(), metrics=metrics)
