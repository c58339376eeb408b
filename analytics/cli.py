"""``idleshare analytics``, ``idleshare evaluate`` and ``idleshare bench analytics``."""

from __future__ import annotations

from typing import Annotated

import typer

from idleshare.cliutil import DataDir, InfluxUrl, settings, stop_event


def register(app: typer.Typer, bench: typer.Typer) -> None:
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

    @app.command()
    def evaluate(
        step_h: Annotated[int, typer.Option(help="hours between backtest origins")] = 48,
    ) -> None:
        """Replay the real data sets and print accuracy, forecast and offer figures."""
        from analytics.evaluate import report

        typer.echo(report(step_h=step_h))

    @bench.command("analytics")
    def bench_analytics(
        assets: Annotated[int, typer.Option(help="assets in the fleet")] = 10_000,
        days: Annotated[int, typer.Option(help="days of history")] = 30,
        step_s: Annotated[float, typer.Option(help="seconds between readings")] = 300.0,
    ) -> None:
        """Forecasts and offers for a synthetic fleet; prints the time taken."""
        from analytics.bench import report, run

        typer.echo(report(run(assets=assets, days=days, step_s=step_s)))
