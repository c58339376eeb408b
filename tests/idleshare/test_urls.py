"""Broker URLs: one parser for the agent's config, ingest and the server settings."""

from __future__ import annotations

import pytest

from edge_agent.config import MqttSection
from idleshare.errors import ConfigError
from idleshare.urls import MqttUrl
from shell.settings import load_settings


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


@pytest.mark.parametrize("url", ["http://broker", "mqtt://", "mqtt://b:port"])
def test_the_agent_and_the_server_settings_refuse_the_same_urls(url: str) -> None:
    with pytest.raises(ConfigError, match="url"):
        MqttSection(url=url)
    with pytest.raises(ConfigError, match="mqtt_url"):
        load_settings(mqtt_url=url)


def test_the_agent_takes_host_port_and_tls_from_the_shared_parser() -> None:
    section = MqttSection(url="mqtts://broker.example.com")
    assert (section.host, section.port, section.tls) == ("broker.example.com", 8883, True)


def test_the_agent_refuses_credentials_in_its_url() -> None:
    with pytest.raises(ConfigError, match="url must not carry credentials"):
        MqttSection(url="mqtt://gw:secret@broker")
