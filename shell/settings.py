"""Server-side settings (pydantic-settings): environment variables ``IDLESHARE_*``.

With nothing set, everything is embedded: an in-process MQTT broker, SQLite for readings and
for the catalog. Set ``IDLESHARE_MQTT_URL`` and ``IDLESHARE_INFLUX_URL`` to use real servers.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from idleshare.errors import ConfigError
from idleshare.urls import MqttUrl


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IDLESHARE_", extra="ignore")

    data_dir: Path = Field(Path("var"), description="where embedded databases live")
    #: ``mqtt://[user:pass@]host:port`` or ``mqtts://...``; empty = embedded broker.
    mqtt_url: str = ""
    mqtt_client_id: str = "idleshare-ingest"
    #: ``http://host:8086``; empty = embedded SQLite readings store.
    influx_url: str = ""
    #: InfluxDB 1.x: database, retention policy, user and password.
    influx_db: str = "idleshare"
    influx_rp: str = ""
    influx_user: str = ""
    influx_password: str = ""
    #: InfluxDB 2.x/3.x: a token selects the v2 write API (org and bucket).
    influx_token: str = ""
    influx_org: str = ""
    influx_bucket: str = "idleshare"
    catalog_url: str = ""
    #: Ingest: serve Prometheus metrics on this port (0 = off).
    ingest_metrics_port: int = Field(0, ge=0, le=65535)
    #: ... on this address: loopback unless the operator opens it (e.g. 0.0.0.0 for a scraper
    #: on another host, behind the host's firewall).
    ingest_metrics_host: str = "127.0.0.1"
    #: Ingest: take readings through the MQTT shared subscription ``$share/<group>/...`` so
    #: several workers (each with its own mqtt_client_id) split the load; empty = no sharing.
    ingest_share_group: str = ""
    #: Webhooks: private networks they may reach anyway (``10.1.2.0/24,fd00::/8``), and
    #: whether plain ``http`` URLs are accepted (read by market.outbound.OutboundPolicy).
    webhook_allow: str = ""
    webhook_allow_http: bool = False
    #: API guards (read by api.security): failed authentications per client address and
    #: requests per key (``limits`` notation), the limiter's storage (``memory://``, or
    #: ``redis://host:6379`` to share limits across API processes), the request body bound.
    rate_limit_failed_auth: str = "20/minute"
    rate_limit_per_key: str = "1000/second"
    rate_limit_storage: str = "memory://"
    max_body_bytes: int = Field(1_048_576, ge=1024)
    #: Seconds between analytics runs.
    analytics_interval_s: float = 30.0
    #: Analytics on several workers: this worker's id (unique per worker; empty = a single
    #: analytics process analysing everything) and how long its claims on a pass's assets
    #: last unrenewed (a dead worker's share is taken over this long after it died).
    analytics_worker_id: str = Field("", max_length=64)
    analytics_lease_s: float = 10.0

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, v: str) -> str:
        if v:
            try:
                MqttUrl.parse(v)
            except ConfigError as err:  # pydantic wants a ValueError; the message names the key
                raise ValueError(str(err)) from None
        return v

    @field_validator("influx_url")
    @classmethod
    def _influx_scheme(cls, v: str) -> str:
        if v and urlsplit(v).scheme not in ("http", "https"):
            raise ValueError(f"influx_url must start with http:// or https://: got {v!r}")
        return v

    @property
    def catalog(self) -> str:
        return self.catalog_url or f"sqlite:///{self.data_dir / 'catalog.db'}"

    @property
    def readings_path(self) -> Path:
        return self.data_dir / "readings.db"


def load_settings(**overrides: object) -> Settings:
    try:
        # model_validate, not Settings(**...): the options arrive untyped from the CLI.
        return Settings.model_validate({k: v for k, v in overrides.items() if v is not None})
    except ValidationError as err:
        # One line per start-up mistake, naming the setting, not pydantic's block.
        raise ConfigError("; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
            for e in err.errors(include_url=False))) from err
