"""The test servers themselves start and answer."""

import urllib.request

from tests.servers import InfluxServer, MosquittoServer


def test_influxdb_fixture_answers_ping(influxdb: InfluxServer) -> None:
    with urllib.request.urlopen(f"{influxdb.url}/ping") as r:
        assert r.status == 204


def test_mosquitto_fixture_accepts_a_publish(mosquitto: MosquittoServer) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fixture-check")
    c.connect("127.0.0.1", mosquitto.port)
    c.loop_start()
    info = c.publish("idleshare/v1/t/a/readings", b"[]", qos=1)
    info.wait_for_publish(5)
    assert info.is_published()
    c.loop_stop()
    c.disconnect()
