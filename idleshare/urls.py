"""Broker URLs, parsed once for the agent, ingest and the server settings (standard library)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from idleshare.errors import ConfigError

#: Scheme -> default port; ``tcp://`` is paho's and Mosquitto's spelling of ``mqtt://``.
DEFAULT_PORTS = {"mqtt": 1883, "tcp": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class MqttUrl:
    """``mqtt://[user:pass@]host[:port]``; ``mqtts://`` for TLS."""

    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    tls: bool = False

    @classmethod
    def parse(cls, url: str, key: str = "mqtt_url") -> MqttUrl:
        """Raises :class:`ConfigError` naming ``key`` (the setting that held the URL)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as err:
            raise ConfigError(f"{key} is not a URL ({err}): got {url!r}") from err
        if parts.scheme not in DEFAULT_PORTS:
            raise ConfigError(f"{key} must start with mqtt:// or mqtts://: got {url!r}")
        if not parts.hostname:
            raise ConfigError(f"{key} needs a host: got {url!r}")
        return cls(host=parts.hostname, port=port or DEFAULT_PORTS[parts.scheme],
                   username=unquote(parts.username or ""), password=unquote(parts.password or ""),
                   tls=parts.scheme == "mqtts")
