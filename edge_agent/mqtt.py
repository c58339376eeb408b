"""The MQTT transport: the small part of paho-mqtt 2.x the agent uses, and how it is set up.

The agent takes a ``client_factory`` returning anything shaped like :class:`MqttClient`, so unit
tests can run without a broker; :func:`paho_client` is the real one.
"""

from __future__ import annotations

import logging
import random
import ssl
from collections.abc import Callable
from typing import Any, Protocol, cast

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from edge_agent.config import MqttSection
from idleshare.errors import ConfigError

#: paho's return codes the agent looks at.
SUCCESS = MQTTErrorCode.MQTT_ERR_SUCCESS
NO_CONN = MQTTErrorCode.MQTT_ERR_NO_CONN
#: Messages paho keeps in flight (sent, not yet acknowledged) at once.
MAX_INFLIGHT = 20

log = logging.getLogger(__name__)


class PublishInfo(Protocol):
    @property
    def mid(self) -> int: ...
    @property
    def rc(self) -> int: ...

    def wait_for_publish(self, timeout: float | None = None) -> None: ...


class MqttClient(Protocol):
    """What the agent needs of a client (paho ``Client`` with VERSION2 callbacks)."""

    on_connect: Callable[..., None] | None
    on_disconnect: Callable[..., None] | None
    on_publish: Callable[..., None] | None
    on_connect_fail: Callable[..., None] | None
    on_message: Callable[..., None] | None

    def username_pw_set(self, username: str | None, password: str | None = None) -> None: ...
    def tls_set(self, ca_certs: str | None = None, certfile: str | None = None,
                keyfile: str | None = None) -> None: ...
    def will_set(self, topic: str, payload: bytes | None = None, qos: int = 0,
                 retain: bool = False) -> None: ...
    def reconnect_delay_set(self, min_delay: float = 1, max_delay: float = 120) -> None: ...
    def max_inflight_messages_set(self, inflight: int) -> None: ...
    def connect_async(self, host: str, port: int = 1883, keepalive: int = 60) -> Any: ...
    def loop_start(self) -> Any: ...
    def loop_stop(self) -> Any: ...
    def disconnect(self) -> Any: ...
    def publish(self, topic: str, payload: bytes | None = None, qos: int = 0,
                retain: bool = False) -> PublishInfo: ...
    def subscribe(self, topic: str, qos: int = 0) -> Any: ...


ClientFactory = Callable[[str], MqttClient]


class Backoff:
    """Exponential reconnect delay with jitter: ``d/2 + uniform(0, d/2)``, ``d`` doubling.

    The jitter keeps a site's gateways, cut off together, from all reconnecting in the same
    second when the broker comes back.
    """

    def __init__(self, min_s: float, max_s: float,
                 rand: Callable[[], float] = random.random) -> None:
        self.min_s, self.max_s, self._rand = min_s, max_s, rand
        self._failures = 0

    def next(self) -> float:
        ceiling = min(self.max_s, self.min_s * 2.0 ** min(self._failures, 30))
        self._failures += 1
        return max(self.min_s / 2, ceiling / 2 + self._rand() * ceiling / 2)

    def reset(self) -> None:
        self._failures = 0


class AgentClient(paho.Client):
    """paho's client, remembering why the last connection attempt failed (paho does not say)."""

    connect_error: OSError | None = None

    def reconnect(self) -> MQTTErrorCode:
        try:
            return super().reconnect()
        except OSError as err:
            self.connect_error = err
            raise


def paho_client(client_id: str) -> MqttClient:
    """A paho-mqtt client speaking MQTT 3.1.1 with the version-2 callback signatures."""
    client = AgentClient(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=paho.MQTTv311)
    # paho annotates reconnect_delay_set with ints; its timer arithmetic takes the jittered
    # float delays the publisher sets just as well, so the protocol says float.
    return cast(MqttClient, client)


def describe_connect_error(err: BaseException | None, cfg: MqttSection) -> str:
    """What an operator should read when the broker cannot be reached."""
    where = f"{cfg.host}:{cfg.port}"
    if isinstance(err, ssl.SSLCertVerificationError):
        return (f"TLS: the certificate of {where} is not trusted ({err.verify_message}); "
                f"check mqtt.ca_file ({cfg.ca_file or 'system CAs'}) and the host name")
    # A plain listener resets a TLS handshake rather than answering it.
    handshake = isinstance(err, ssl.SSLError) or (cfg.tls and isinstance(err, ConnectionError)
                                                   and not isinstance(err, ConnectionRefusedError))
    if handshake:
        return (f"TLS handshake with {where} failed ({getattr(err, 'reason', None) or err}); "
                f"check mqtt.url is a TLS listener and mqtt.ca_file, cert_file and key_file")
    if err is None:
        return f"cannot connect to {where}"
    return f"cannot connect to {where}: {err}"


def describe_refusal(reason_code: object) -> str:
    """The broker answered but refused: usually credentials or an ACL."""
    text = str(reason_code)
    hint = ""
    if any(word in text.lower() for word in ("authori", "user name", "password", "bad user")):
        hint = "; check mqtt.username and mqtt.password"
    return f"the broker refused the connection: {text}{hint}"


def configure(client: MqttClient, cfg: MqttSection, will_topic: str, will: bytes) -> None:
    """Credentials, TLS, last will and reconnect backoff; then connect in the background."""
    if cfg.username:
        client.username_pw_set(cfg.username, cfg.password or None)
    if cfg.tls:
        try:
            client.tls_set(ca_certs=cfg.ca_file or None, certfile=cfg.cert_file or None,
                           keyfile=cfg.key_file or None)
        except (OSError, ssl.SSLError) as err:
            raise ConfigError(f"mqtt.ca_file/cert_file/key_file cannot be loaded: {err}") from err
    client.will_set(will_topic, will, qos=1, retain=True)
    # The first attempt waits this much; the publisher sets each later delay from its Backoff.
    client.reconnect_delay_set(cfg.reconnect_min_s, cfg.reconnect_max_s)
    client.max_inflight_messages_set(MAX_INFLIGHT)
    # connect_async + loop_start: paho's thread keeps retrying until the broker answers.
    client.connect_async(cfg.host, cfg.port, cfg.keepalive_s)
    client.loop_start()


def is_failure(reason_code: object) -> bool:
    """paho hands a ``ReasonCode`` (``is_failure``); fakes may hand a plain int."""
    failure = getattr(reason_code, "is_failure", None)
    return bool(failure) if failure is not None else bool(reason_code)
