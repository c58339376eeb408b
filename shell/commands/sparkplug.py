"""``idleshare sparkplug --map FILE``: store Sparkplug B edge nodes' data, as ingest does."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shell.options import DataDir, InfluxUrl, MqttUrl, fail, settings, stop_event
from shell.settings import Settings

if TYPE_CHECKING:
    from ingest.sparkplug.mapping import Mapping


def register(app: typer.Typer) -> None:
    @app.command()
    def sparkplug(
        map_file: Annotated[Path, typer.Option(
            "--map", help="TOML file: which group/edge node/device/metric is which "
            "tenant/asset/metric (docs/sparkplug.md)")],
        mqtt_url: MqttUrl = None,
        influx_url: InfluxUrl = None,
        data_dir: DataDir = None,
        client_id: Annotated[str | None, typer.Option(
            help="MQTT client id (its own persistent session) [default: "
            "IDLESHARE_MQTT_CLIENT_ID + '-sparkplug']")] = None,
        reorder_timeout: Annotated[float, typer.Option(
            help="seconds a missing seq may arrive late before a rebirth is requested")] = 2.0,
        metrics_port: Annotated[int, typer.Option(
            help="serve Prometheus metrics on this port (0 = off)", min=0, max=65535)] = 0,
    ) -> None:
        """Subscribe to spBv1.0/# and store the values of mapped Sparkplug B metrics."""
        from idleshare.errors import IdleshareError
        from ingest.sparkplug import mapping
        from shell import logs

        s = settings(mqtt_url=mqtt_url, influx_url=influx_url, data_dir=data_dir)
        if not s.mqtt_url:
            fail("mqtt_url is empty: Sparkplug B comes through a broker (--mqtt-url or "
                 "IDLESHARE_MQTT_URL)", 2)
        try:
            plant = mapping.load(map_file)
        except IdleshareError as err:
            fail(str(err), 2)
        try:
            logs.setup()  # a bad IDLESHARE_LOG_FORMAT is one line too
            done = run(s, plant, stop_event(), client_id=client_id or
                       f"{s.mqtt_client_id}-sparkplug", reorder_timeout_s=reorder_timeout,
                       metrics_port=metrics_port)
        except IdleshareError as err:
            fail(str(err), 2)
        raise typer.Exit(0 if done else 1)


def run(settings: Settings, plant: Mapping, stop: threading.Event, *, client_id: str,
        reorder_timeout_s: float = 2.0, metrics_port: int = 0) -> bool:
    """Run the Sparkplug B service until ``stop`` is set; whether every message received was
    written (the others are delivered again to the next run)."""
    import paho.mqtt.client as mqtt

    from ingest.sparkplug.service import SparkplugIngest, log
    from shell.stores import open_stores

    with open_stores(settings) as (store, catalog):
        service = SparkplugIngest(store, catalog, settings.mqtt_url, plant, client_id,
                                  reorder_timeout_s=reorder_timeout_s, protocol=mqtt.MQTTv5)
        if metrics_port:
            service.metrics.serve(metrics_port, settings.ingest_metrics_host)
        service.start()
        log.info("Sparkplug B: %d mapped assets", len(plant), extra={"event": "started"})
        stop.wait()
        done = service.stop()
        log.info("stopped: %s; skipped %s", service.stats, dict(service.skipped),
                 extra={"event": "stopped", "written_all": done})
        return done
