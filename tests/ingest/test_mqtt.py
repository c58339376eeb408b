"""Broker URLs."""

from __future__ import annotations

import pytest

from idleshare.errors import ConfigError
from ingest.mqtt import MqttUrl


@pytest.mark.parametrize(("url", "expected"), [
    ("mqtt://broker:1884", MqttUrl("broker", 1884)),
    ("mqtt://broker", MqttUrl("broker", 1883)),
    ("mqtts://broker", MqttUrl("broker", 8883, tls=True)),
    ("tcp://10.0.0.1:1883", MqttUrl("10.0.0.1", 1883)),
    ("mqtt://ingest:s%40cret@broker:1883", MqttUrl("broker", 1883, "ingest", "s@cret")),
])
def test_urls_give_host_port_credentials_and_tls(url: str, expected: MqttUrl) -> None:
    assert MqttUrl.parse(url) == expected


@pytest.mark.parametrize("url", ["http://broker", "broker:1883", "mqtt://", "mqtt://b:port"])
def test_other_urls_are_refused_at_start_up(url: str) -> None:
    with pytest.raises(ConfigError, match="mqtt_url"):
        MqttUrl.parse(url)


def test_the_password_stays_out_of_the_repr() -> None:
    assert "s3cret" not in repr(MqttUrl.parse("mqtt://u:s3cret@b"))
