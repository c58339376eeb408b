"""``idleshare ingest``: subscribe to the broker and store every valid reading."""

from __future__ import annotations

import threading

import typer

from shell.options import DataDir, InfluxUrl, MqttUrl, fail, settings, stop_event
from shell.settings import Settings


def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(mqtt_url: MqttUrl = None, influx_url: InfluxUrl = None,
               data_dir: DataDir = None) -> None:
        """Subscribe to the broker and store every valid reading."""
        from idleshare.errors import IdleshareError
        from shell import logs

        s = settings(mqtt_url=mqtt_url, influx_url=influx_url, data_dir=data_dir)
        if not s.mqtt_url:
            fail("mqtt_url is empty: ingest needs a broker (--mqtt-url or IDLESHARE_MQTT_URL)", 2)
        try:
            logs.setup()
            done = run(s, stop_event())
        except IdleshareError as err:
            fail(str(err), 2)
        raise typer.Exit(0 if done else 1)


def run(settings: Settings, stop: threading.Event) -> bool:
    """Run ingest with these settings until ``stop`` is set; returns whether every message
    received was written (those that were not are delivered again to the next run)."""
    import paho.mqtt.client as mqtt

    from ingest.service import Ingest, log
    from shell.stores import open_stores

    with open_stores(settings) as (store, catalog):
        # MQTT 5: the Receive Maximum, not the broker's (small) in-flight limit for 3.1.1
        # clients, sets how many messages can wait for one batch write. The class default
        # stays 3.1.1 for the demo's embedded broker, which speaks nothing newer.
        ingest = Ingest(store, catalog, settings.mqtt_url, client_id=settings.mqtt_client_id,
                        share_group=settings.ingest_share_group, protocol=mqtt.MQTTv5)
        if settings.ingest_metrics_port:
            ingest.metrics.serve(settings.ingest_metrics_port, settings.ingest_metrics_host)
        ingest.start()
        stop.wait()
        done = ingest.stop()
        log.info("stopped: %s", ingest.stats, extra={"event": "stopped", "written_all": done})
        return done
