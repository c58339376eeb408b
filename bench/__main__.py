"""``python -m bench ...``: benchmarks and the evaluation on real data, run from a checkout.

Kept out of the installed packages (a gateway's ``pip install 'idleshare[edge]'`` carries no
benchmark code); each prints its figures next to the raw limit measured in the same run.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Benchmarks and evaluation: print figures measured on this machine.",
                  no_args_is_help=True, add_completion=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             add_help_option=False)
def agent(ctx: typer.Context) -> None:
    """Edge agent: memory, CPU and backlog drain (``python -m bench agent --help``)."""
    from bench.agent import main

    raise typer.Exit(main(list(ctx.args)))


@app.command()
def ingest(scale: Annotated[float, typer.Option(help="fraction of the full message counts "
                                                "(1.0: 100,000 messages)")] = 1.0) -> None:
    """Ingest throughput and freshness next to the raw broker and InfluxDB limits."""
    from bench.ingest import run

    run(scale)


@app.command()
def web(rounds: Annotated[int, typer.Option(help="switches of the range timed")] = 5) -> None:
    """Asset page in chromium: 30 days of 5-minute data next to the 7-day view."""
    from bench.web import run

    run(rounds)


@app.command()
def analytics(
    assets: Annotated[list[int] | None, typer.Option(
        help="assets in the fleet, once per run (default: 10,000 and 100,000)")] = None,
    days: Annotated[int, typer.Option(help="days of history")] = 30,
    step_s: Annotated[float, typer.Option(help="seconds between readings")] = 300.0,
    chunk: Annotated[int, typer.Option(min=1, help="assets generated and analysed at a time")
                     ] = 10_000,
) -> None:
    """Forecasts and offers for synthetic fleets streamed in chunks; prints time and memory."""
    from bench.analytics import report_sizes, run_sizes

    typer.echo(report_sizes(run_sizes(assets or [10_000, 100_000], days, step_s, chunk)))


@app.command("analytics-workers")
def analytics_workers(
    assets: Annotated[int, typer.Option(help="assets in the fleet")] = 10_000,
) -> None:
    """One full analytics pass with 1 worker and with 2 worker processes on PostgreSQL."""
    from bench.analytics_workers import report, run

    typer.echo(report(run(assets=assets), assets))


@app.command()
def api(
    assets: Annotated[int, typer.Option(min=1)] = 10_000,
    offers: Annotated[int, typer.Option(min=1)] = 50_000,
    rate: Annotated[float, typer.Option(min=1)] = 200.0,
    duration: Annotated[float, typer.Option(min=1)] = 20.0,
    workers: Annotated[int, typer.Option(min=1, help="API server processes")] = 2,
    catalog: Annotated[str, typer.Option(help="sqlite or postgresql")] = "sqlite",
) -> None:
    """Offer search p99 at a fixed rate, load from a second process, with the raw limit."""
    from bench.api import report, run

    figures = run(assets=assets, offers=offers, rate=rate, duration=duration, workers=workers,
                  catalog=catalog)
    typer.echo(report(figures))


@app.command()
def evaluate(
    step_h: Annotated[int, typer.Option(help="hours between backtest origins")] = 48,
    peers: Annotated[bool, typer.Option(
        "--peers/--no-peers", help="then an off-the-shelf forecaster (statsforecast MSTL) "
        "through the same backtests, side by side (evaluate-peers; about 15 minutes more)")] = True,
) -> None:
    """Replay the real data sets and print accuracy, forecast and offer figures."""
    from bench.evaluate import report

    typer.echo(report(step_h=step_h, peers=peers))


@app.command("evaluate-peers")
def evaluate_peers(
    step_h: Annotated[int, typer.Option(help="hours between backtest origins")] = 48,
    intraday_day_step: Annotated[int, typer.Option(
        min=1, help="intraday origins on one day in this many")] = 5,
) -> None:
    """An off-the-shelf forecaster (statsforecast MSTL) through the evaluation's backtests,
    side by side with idleshare's."""
    from bench.evaluate_peers import report

    typer.echo(report(step_h=step_h, intraday_day_step=intraday_day_step))


if __name__ == "__main__":
    app(prog_name="python -m bench")
