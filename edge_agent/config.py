"""The agent's TOML configuration, as frozen dataclasses whose fields are the TOML keys.

See ``edge_agent/samples/*.toml`` for documented examples. Every error is a
:class:`ConfigError` naming the key, e.g. ``"mqtt.qos must be 0, 1 or 2: got 3"``. Relative
paths are relative to the config file's folder.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_agent.clock import parse_start
from edge_agent.fields import INTERNAL, PATH, build, fail
from edge_agent.policy import MetricPolicy
from edge_agent.sources import SOURCES
from idleshare.assets import KINDS_BY_NAME, Asset, check_id
from idleshare.errors import ConfigError
from idleshare.materials import MATERIAL_KINDS, Material, MaterialError
from idleshare.urls import MqttUrl
from idleshare.wire import announced_asset, material_of


@dataclass(frozen=True)
class AgentSection:
    #: This agent's id; also its MQTT client id and the ``agent`` field of every pack.
    id: str
    tenant: str

    def __post_init__(self) -> None:
        check_id("id", self.id)
        check_id("tenant", self.tenant)


@dataclass(frozen=True)
class MqttSection:
    #: ``mqtt://host:port`` or ``mqtts://host:port`` (TLS).
    url: str = "mqtt://127.0.0.1:1883"
    qos: int = 1
    keepalive_s: int = 30
    username: str = ""
    password: str = ""
    #: TLS: CA bundle to trust (system CAs when empty), client certificate and key.
    ca_file: str = field(default="", metadata=PATH)
    cert_file: str = field(default="", metadata=PATH)
    key_file: str = field(default="", metadata=PATH)
    #: Reconnect backoff: the delay doubles from min to max, with random jitter.
    reconnect_min_s: int = 1
    reconnect_max_s: int = 60
    #: The retained status (queue depth, dropped count) is refreshed this often, in seconds.
    status_interval_s: float = 60.0
    #: Storage receipts: keep each message until ingest says the database holds it (announced
    #: in the birth). Off: a message leaves on the broker's acknowledgement, as plain MQTT.
    receipts: bool = True
    #: A PUBACKed message without receipt is sent again after this long, doubling per attempt
    #: up to receipt_timeout_max_s.
    receipt_timeout_s: float = 60.0
    receipt_timeout_max_s: float = 3600.0
    #: Most messages sent and not yet receipted; past it only resends go, so while ingest is
    #: down the backlog stays on the gateway instead of piling up in the broker.
    receipt_window: int = 2000

    def __post_init__(self) -> None:
        # Credentials belong in username and password, not in the URL a log line may show.
        parsed = MqttUrl.parse(self.url, key="url")
        if parsed.username or parsed.password:
            fail("url", "must not carry credentials (use username and password)", self.url)
        object.__setattr__(self, "_parsed", parsed)
        if self.qos not in (0, 1, 2):
            fail("qos", "must be 0, 1 or 2", self.qos)
        if self.keepalive_s < 5:
            fail("keepalive_s", "must be >= 5", self.keepalive_s)
        if not 1 <= self.reconnect_min_s <= self.reconnect_max_s:
            fail("reconnect_min_s", f"must be within 1..reconnect_max_s ({self.reconnect_max_s})",
                 self.reconnect_min_s)
        if not (math.isfinite(self.status_interval_s) and self.status_interval_s >= 1):
            fail("status_interval_s", "must be >= 1", self.status_interval_s)
        if not (math.isfinite(self.receipt_timeout_s) and self.receipt_timeout_s >= 1):
            fail("receipt_timeout_s", "must be >= 1", self.receipt_timeout_s)
        if not (math.isfinite(self.receipt_timeout_max_s)
                and self.receipt_timeout_max_s >= self.receipt_timeout_s):
            fail("receipt_timeout_max_s", "must be >= receipt_timeout_s",
                 self.receipt_timeout_max_s)
        if not 1 <= self.receipt_window <= 1_000_000:
            fail("receipt_window", "must be within 1..1000000", self.receipt_window)
        if bool(self.cert_file) != bool(self.key_file):
            fail("key_file", "must be set together with cert_file", self.key_file)
        if self.password and not self.username:
            fail("username", "is required when a password is set", self.username)
        for key in ("ca_file", "cert_file", "key_file"):
            path = getattr(self, key)
            if path and not self.tls:
                fail(key, "needs an mqtts:// url", path)
            if path and not Path(path).is_file():
                fail(key, "is not a readable file", path)

    @property
    def tls(self) -> bool:
        return self._url.tls

    @property
    def host(self) -> str:
        return self._url.host

    @property
    def port(self) -> int:
        return self._url.port

    @property
    def _url(self) -> MqttUrl:
        url: MqttUrl = self.__dict__["_parsed"]
        return url


@dataclass(frozen=True)
class BufferSection:
    #: The durable outbox (SQLite, WAL); one file per agent.
    path: str = field(default="agent-outbox.db", metadata=PATH)
    #: Most measurements of one asset per message when a backlog builds.
    max_pack: int = 50
    #: Disk budget of the outbox, MB; past it the oldest readings are dropped (and counted).
    max_mb: float = 500.0

    def __post_init__(self) -> None:
        if not 1 <= self.max_pack <= 1000:
            fail("max_pack", "must be within 1..1000", self.max_pack)
        if not (math.isfinite(self.max_mb) and self.max_mb >= 0.25):
            fail("max_mb", "must be >= 0.25", self.max_mb)

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1024 * 1024)


@dataclass(frozen=True)
class ClockSection:
    #: Simulated clock speed (demo); 1.0 is real time.
    speed: float = 1.0
    #: "now", an ISO time (UTC unless it says otherwise) or an offset like "-1d", "-6h".
    start: str = "now"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.speed) and self.speed > 0):
            fail("speed", "must be > 0", self.speed)
        parse_start(self.start, 0.0)


@dataclass(frozen=True)
class AssetConfig:
    id: str
    kind: str
    capacity: float
    #: Capacity unit; the kind's default (pallet, machine, t, unit, m3) when empty.
    unit: str = ""
    lat: float = 0.0
    lon: float = 0.0
    name: str = ""
    #: The owner's site the asset stands at (an id of ``/v1/sites``), named in the birth.
    site: str = ""
    #: Which plug-in of :data:`edge_agent.sources.SOURCES` reads this asset.
    source: str = "simulator"
    #: Sampling interval, in clock seconds.
    interval_s: float = 300.0
    #: The source's own settings, from the ``[assets.<source>]`` section.
    settings: Any = field(default=None, metadata=INTERNAL)
    #: Per-metric reporting, from ``[assets.metrics.<name>]`` (see :mod:`edge_agent.policy`).
    metrics: dict[str, MetricPolicy] = field(default_factory=dict, metadata=INTERNAL)
    #: A container's material (EWC code, description, hazardous, density), from the asset's
    #: ``material`` table; named in the birth.
    material: Material | None = field(default=None, metadata=INTERNAL)

    def __post_init__(self) -> None:
        check_id("id", self.id)
        if self.site:
            check_id("site", self.site)
        if self.kind not in KINDS_BY_NAME:
            fail("kind", f"must be one of {sorted(KINDS_BY_NAME)}", self.kind)
        if not (math.isfinite(self.capacity) and self.capacity > 0):
            fail("capacity", "must be > 0", self.capacity)
        if not -90 <= self.lat <= 90:
            fail("lat", "must be within -90..90", self.lat)
        if not -180 <= self.lon <= 180:
            fail("lon", "must be within -180..180", self.lon)
        if self.source not in SOURCES:
            fail("source", f"must be one of {sorted(SOURCES)}", self.source)
        if not (math.isfinite(self.interval_s) and self.interval_s >= 1):
            fail("interval_s", "must be >= 1", self.interval_s)
        if self.material is not None and self.kind not in MATERIAL_KINDS:
            raise ConfigError(f"material is only for a {' or '.join(sorted(MATERIAL_KINDS))}: "
                              f"this asset is a {self.kind}")
        if not self.unit:
            object.__setattr__(self, "unit", KINDS_BY_NAME[self.kind].default_unit)
        if self.settings is None:
            object.__setattr__(self, "settings", SOURCES[self.source].settings_type())
        names = [m.name for m in KINDS_BY_NAME[self.kind].metrics]
        for name, policy in self.metrics.items():
            if name not in names:
                raise ConfigError(f"metrics.{name} is not a metric of kind {self.kind} {names}")
            if policy.interval_s and policy.interval_s < self.interval_s:
                fail(f"metrics.{name}.interval_s", f"must be 0 or >= interval_s "
                     f"({self.interval_s})", policy.interval_s)

    def to_asset(self, tenant: str) -> Asset:
        return Asset(id=self.id, tenant=tenant, kind=self.kind, capacity=self.capacity,
                     unit=self.unit, lat=self.lat, lon=self.lon, name=self.name)

    def announced(self, tenant: str) -> dict[str, object]:
        """The asset as the birth message lists it (``site`` and ``material`` when set)."""
        return announced_asset(self.to_asset(tenant), self.site, self.material)


@dataclass(frozen=True)
class AgentConfig:
    agent: AgentSection
    assets: tuple[AssetConfig, ...]
    mqtt: MqttSection = field(default_factory=MqttSection)
    buffer: BufferSection = field(default_factory=BufferSection)
    clock: ClockSection = field(default_factory=ClockSection)

    def __post_init__(self) -> None:
        if not self.assets:
            raise ConfigError("assets must list at least one [[assets]] table")
        seen: dict[str, int] = {}
        for i, asset in enumerate(self.assets):
            if asset.id in seen:
                raise ConfigError(f"assets[{i}].id repeats assets[{seen[asset.id]}].id: "
                                  f"got {asset.id!r}")
            seen[asset.id] = i


def load(path: str | Path) -> AgentConfig:
    """Read and validate a TOML config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"config file cannot be read: {err}") from err
    return parse(text, base_dir=path.resolve().parent, name=str(path))


def parse(text: str, base_dir: Path | None = None, name: str = "config") -> AgentConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{name} is not valid TOML: {err}") from err
    return from_dict(data, base_dir or Path.cwd())


def from_dict(data: Mapping[str, Any], base_dir: Path) -> AgentConfig:
    sections = {f.name for f in dataclasses.fields(AgentConfig)}
    unknown = sorted(set(data) - sections)
    if unknown:
        raise ConfigError(f"{unknown[0]} is not a known section: "
                          f"expected one of {sorted(sections)}")
    if "agent" not in data:
        raise ConfigError("agent is required: an [agent] table with id and tenant")
    tables = data.get("assets", [])
    if not isinstance(tables, list):
        raise ConfigError("assets must be an array of tables ([[assets]])")
    return AgentConfig(
        agent=build(AgentSection, data["agent"], "agent"),
        mqtt=build(MqttSection, data.get("mqtt", {}), "mqtt", base_dir),
        buffer=build(BufferSection, data.get("buffer", {}), "buffer", base_dir),
        clock=build(ClockSection, data.get("clock", {}), "clock"),
        assets=tuple(_asset(t, f"assets[{i}]", base_dir) for i, t in enumerate(tables)),
    )


def _asset(table: Any, where: str, base_dir: Path) -> AssetConfig:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table: got {table!r}")
    source = table.get("source", "simulator")
    if source not in SOURCES:
        fail(f"{where}.source", f"must be one of {sorted(SOURCES)}", source)
    for other in set(SOURCES) - {source}:
        if other in table:
            raise ConfigError(f"{where}.{other} is a section for source {other!r}, "
                              f"but source is {source!r}")
    fields = {k: v for k, v in table.items() if k not in (source, "metrics", "material")}
    settings = build(SOURCES[source].settings_type, table.get(source, {}), f"{where}.{source}",
                     base_dir)
    metrics = table.get("metrics", {})
    if not isinstance(metrics, Mapping):
        raise ConfigError(f"{where}.metrics must be a table of [{where}.metrics.<name>] tables")
    policies = {str(name): build(MetricPolicy, policy, f"{where}.metrics.{name}")
                for name, policy in metrics.items()}
    material = _material(table["material"], f"{where}.material") if "material" in table else None
    return build(AssetConfig, fields, where, base_dir,
                 internal={"settings": settings, "metrics": policies, "material": material})


def _material(table: Any, where: str) -> Material:
    """``material = { code = "03 01 05", description = "...", ... }``, read as a birth's is."""
    try:
        return material_of(table)
    except MaterialError as err:
        key = where if err.field == "material" else f"{where}.{err.field}"
        raise ConfigError(f"{key}: {err}") from None
