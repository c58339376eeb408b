"""Agent status messages: a birth registers the assets it lists (at the sites it names) and
records the agent's queue depth and dropped count; a last will marks its assets offline."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import ValidationError

from idleshare import wire
from idleshare.assets import Asset
from idleshare.errors import ConfigError, WireError
from ingest.metrics import IngestMetrics
from ingest.schema import AgentStatus
from storage.catalog import Catalog

log = logging.getLogger(__name__)

#: Why a birth was applied only in part (``births_partial_total{reason}``).
UNKNOWN_SITE = "unknown_site"
#: Unknown sites already logged, at most this many remembered (then forgotten and logged again).
MAX_WARNED = 10_000


@dataclass(frozen=True)
class Status:
    tenant: str
    agent: str
    online: bool
    time: float
    assets: tuple[Asset, ...]
    #: The agent keeps each message until its storage receipt.
    receipts: bool = False
    #: Readings in the agent's outbox, and ever dropped by it (a birth's; a will's are stale).
    queued: int = 0
    dropped: int = 0
    #: (asset id, site id) of the assets whose site the birth names.
    sites: tuple[tuple[str, str], ...] = ()


def parse_status(topic: wire.Topic, payload: bytes | bytearray) -> Status:
    """Raises WireError ``bad_status`` for anything but a well-formed message of the topic's
    agent; a birth is accepted or rejected whole."""
    try:
        msg = AgentStatus.model_validate_json(payload)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise WireError("bad_status", f"{where}: {first['msg']}" if where else first["msg"]
                        ) from err
    if msg.agent != topic.agent:
        raise WireError("bad_status", f"agent {msg.agent!r} on the topic of {topic.agent!r}")
    try:
        # Assets on a tenant's status topic belong to that tenant, whatever they claim.
        assets = tuple(Asset(tenant=topic.tenant, **a.model_dump(exclude={"site"}))
                       for a in msg.assets)
    except ConfigError as err:
        raise WireError("bad_status", str(err)) from err
    return Status(tenant=topic.tenant, agent=msg.agent, online=msg.state == wire.ONLINE,
                  time=msg.time, assets=assets, receipts=msg.receipts, queued=msg.queued,
                  dropped=msg.dropped,
                  sites=tuple((a.id, a.site) for a in msg.assets if a.site is not None))


class StatusRecorder:
    """Writes statuses into the catalog and the agent gauges (raises StoreError to retry)."""

    def __init__(self, catalog: Catalog, metrics: IngestMetrics) -> None:
        self.catalog, self.metrics = catalog, metrics
        self._warned: set[tuple[str, str]] = set()  # (tenant, site) logged as unknown

    def apply(self, status: Status) -> None:
        if not status.online:
            self.catalog.set_agent_online(status.tenant, status.agent, False, status.time)
            self.catalog.record_agent_status(status.tenant, status.agent, False, status.time)
            return
        for asset in status.assets:
            self.catalog.upsert_asset(asset, agent=status.agent, online=True, at=status.time)
        self.catalog.record_agent_status(status.tenant, status.agent, True, status.time,
                                         (status.queued, status.dropped))
        self.metrics.agent_counts(status.tenant, status.agent, status.queued, status.dropped)
        # An unknown site leaves the asset registered and where it was: the owner may create
        # the site later (the agent's next birth or refresh then places it).
        unknown = {site for asset_id, site in status.sites
                   if not self.catalog.place_at_site(status.tenant, asset_id, site)}
        if unknown:
            self.metrics.birth_partial(UNKNOWN_SITE)
            for site in sorted(unknown):
                if (status.tenant, site) in self._warned:
                    continue
                if len(self._warned) >= MAX_WARNED:
                    self._warned.clear()
                self._warned.add((status.tenant, site))
                log.warning("agent %s/%s names site %r, which its tenant does not have: its "
                            "assets are registered without a site", status.tenant,
                            status.agent, site, extra={"event": UNKNOWN_SITE})
