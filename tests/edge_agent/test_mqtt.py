"""Reconnect backoff with jitter, and what the operator reads when connecting fails."""

from __future__ import annotations

import ssl

from edge_agent.config import MqttSection
from edge_agent.mqtt import Backoff, describe_connect_error, describe_refusal


def test_backoff_doubles_up_to_the_maximum_with_jitter_and_resets() -> None:
    low = Backoff(1, 8, rand=lambda: 0.0)
    high = Backoff(1, 8, rand=lambda: 1.0)
    assert [low.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert [high.next() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    high.reset()
    assert high.next() == 1.0


def test_connect_errors_say_what_to_check() -> None:
    cfg = MqttSection(url="mqtts://broker:8883")
    untrusted = ssl.SSLCertVerificationError(1, "certificate verify failed")
    untrusted.verify_message = "self-signed certificate"
    assert describe_connect_error(untrusted, cfg) == (
        "TLS: the certificate of broker:8883 is not trusted (self-signed certificate); "
        "check mqtt.ca_file (system CAs) and the host name")
    assert "check mqtt.url is a TLS listener" in describe_connect_error(
        ssl.SSLError(1, "wrong version number"), cfg)
    assert describe_connect_error(ConnectionRefusedError(111, "Connection refused"), cfg) == (
        "cannot connect to broker:8883: [Errno 111] Connection refused")
    assert describe_refusal("Not authorized").endswith("check mqtt.username and mqtt.password")
