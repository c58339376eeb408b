"""``idleshare ingest`` (and its benchmark)."""

from __future__ import annotations

import typer

from idleshare.cliutil import DataDir, InfluxUrl, MqttUrl, fail, settings, stop_event


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command()
    def ingest(mqtt_url: MqttUrl = None, influx_url: InfluxUrl = None,
               data_dir: DataDir = None) -> None:
        """Subscribe to the broker and store every valid reading."""
        from ingest.service import run

        s = settings(mqtt_url=mqtt_url, influx_url=influx_url, data_dir=data_dir)
        if not s.mqtt_url:
            fail("ingest needs a broker: set --mqtt-url or IDLESHARE_MQTT_URL", 2)
        raise typer.Exit(0 if run(s, stop_event()) else 1)

    @bench.command("ingest")
    def bench_ingest(scale: float = typer.Option(1.0, help="fraction of the full message "
                                                 "counts (1.0: 100,000 messages)")) -> None:
        """Ingest throughput and freshness next to the raw broker and InfluxDB limits."""
        from ingest.bench import run

        run(scale)
